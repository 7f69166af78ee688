#!/usr/bin/env bash
# The three evaluation lines of the quality bar, one `qabot eval` run each, the tutorial
# baseline beside every LLM backend. Reports go to bench/out/eval-<line>.{md,json}.
# Usage: scripts/eval_lines.sh [extra qabot eval flags, e.g. --backend local,extractive]
set -euo pipefail
cd "$(dirname "$0")/.."
QABOT=${QABOT:-.venv/bin/qabot}
OUT=${OUT:-bench/out}
mkdir -p "$OUT"
run() {  # name, docs, questions, conversations
  "$QABOT" --docs "$2" eval "$3" --conversations "$4" --details \
    --report "$OUT/eval-$1.md" --report "$OUT/eval-$1.json" "${@:5}" > /dev/null
  echo "== $1 ($3 over $2): $OUT/eval-$1.md"
}
run article data eval/article_qa.jsonl eval/article_conversations.jsonl "$@"
run article-corpus eval/corpus eval/article_qa.jsonl eval/article_conversations.jsonl "$@"
run corpus eval/corpus eval/corpus_qa.jsonl eval/corpus_conversations.jsonl "$@"
