"""Ingest throughput: the whole pipeline (read, chunk, embed, store in Chroma) against the raw
embedding throughput of the same model on the same chunk texts, alternated in one run.

    .venv/bin/python bench/ingest.py [--chunks 1000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import common

from bot.backends.local.model_files import minilm_files
from retrieval.chunking import chunk_text
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.ingest import ingest
from retrieval.store import ArticleStore, make_client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    embeddings = MiniLMEmbeddings(minilm_files)
    embeddings.embed_query("warm up")
    with tempfile.TemporaryDirectory() as tmp:
        folder = common.write_articles(Path(tmp) / "articles", args.chunks)
        texts = [c.text for f in sorted(folder.iterdir()) for c in chunk_text(f.read_text())]
        client = make_client(Path(tmp) / "chroma")
        raw, pipeline = [], []
        for r in range(args.rounds):
            raw.append(common.timed(lambda: embeddings.embed_documents(texts)))
            store = ArticleStore(client, f"bench-{r}", embeddings, embeddings.name)
            pipeline.append(common.timed(lambda store=store: ingest(store, [folder])))
            assert store.count() == len(texts), (store.count(), len(texts))
    n = len(texts)
    raw_rate, pipe_rate = n / min(raw), n / min(pipeline)
    print(f"{n} chunks of synthetic articles, best of {args.rounds} rounds\n")
    common.table(
        [
            ("chunks/s", f"{pipe_rate:.0f}", f"{raw_rate:.0f}", f"{pipe_rate / raw_rate:.0%}"),
            ("seconds", f"{min(pipeline):.1f}", f"{min(raw):.1f}", "target pipeline >= 80%"),
        ],
        ("ingest", "pipeline (qabot ingest)", "raw embed_documents", "pipeline / raw"),
    )


if __name__ == "__main__":
    main()
