"""Time to the first streamed token and to the whole answer with the default local model, as
the terminal chat sees it: one warm engine (model server up, system prompt in its cache), the
answerable questions of eval/article_qa.jsonl asked in turn, nothing else using the server.

    .venv/bin/python bench/first_token.py
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (puts the project, not bench/, first on the path)

from bot.config import load_settings
from bot.wiring import build_engine

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        engine = build_engine(load_settings(backend="local", data_dir=data_dir))
        engine.warm_up()
        lines = (ROOT / "eval" / "article_qa.jsonl").read_text(encoding="utf-8").splitlines()
        questions = [q["question"] for q in map(json.loads, lines) if q["answerable"]]
        firsts: list[float] = []
        totals: list[float] = []
        for question in questions:
            t0 = time.perf_counter()
            first: list[float] = []

            def on_token(_: str, t0: float = t0, first: list[float] = first) -> None:
                if not first:
                    first.append(time.perf_counter() - t0)

            engine.answer(question, on_token=on_token)
            totals.append(time.perf_counter() - t0)
            firsts.extend(first[:1])
    print(f"{len(questions)} questions, {len(firsts)} streamed")
    print(f"first token p50 {statistics.median(firsts):.2f} s, max {max(firsts):.2f} s")
    print(f"answer total p50 {statistics.median(totals):.2f} s, max {max(totals):.2f} s")


if __name__ == "__main__":
    main()
