"""Shared bits of the benchmarks: timing helpers, the table printer, a synthetic corpus."""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0-1) of the values: the project's one percentile, scaled."""
    from bot.evaluation.metrics import percentile as pct

    return pct(values, q * 100) or 0.0


def p50(values: Sequence[float]) -> float:
    return statistics.median(values)


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    """Print a Markdown table (so it can be pasted into docs/benchmarks.md)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))


def questions() -> list[str]:
    """The development questions of eval/article_qa.jsonl."""
    lines = (ROOT / "eval" / "article_qa.jsonl").read_text().splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def vocabulary(size: int = 6000, seed: int = 7) -> list[str]:
    """The bundled article's words plus pronounceable made-up words (names, places, things)."""
    rng = random.Random(seed)
    text = (ROOT / "data" / "article.txt").read_text()
    words = list(dict.fromkeys(w.strip(".,;:“”\"'’()") for w in text.split()))
    words = [w for w in words if w.isalpha()]
    onsets, vowels, codas = (
        "b d f g h k l m n p r s t v z br dr gr kr st tr".split(),
        "aeiou",
        ["", "n", "r", "l", "s", "m", "sh", "t"],
    )
    while len(words) < size:
        syllables = rng.choice((1, 2, 2, 3))
        word = "".join(
            rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(syllables)
        )
        words.append(word.capitalize() if rng.random() < 0.2 else word)
    return words


def articles(n_chunks: int, seed: int = 11) -> Iterator[tuple[str, str]]:
    """(name, text) of synthetic articles totalling about n_chunks chunks: paragraphs of
    sentences whose words follow a Zipf-like law over `vocabulary()` (real text does too)."""
    rng = random.Random(seed)
    vocab = vocabulary()
    weights = [1 / (i + 10) for i in range(len(vocab))]
    rng.shuffle(vocab)
    # about 21 chunks an article of 12 paragraphs (measured on this generator)
    for a in range(max(1, round(n_chunks / 21))):
        paras = []
        for _ in range(12):
            sents = []
            for _ in range(rng.randint(3, 5)):
                words = rng.choices(vocab, weights, k=rng.randint(8, 22))
                sents.append(" ".join([words[0].capitalize(), *words[1:]]) + ".")
            paras.append(" ".join(sents))
        yield f"article-{a:05d}.txt", "\n\n".join(paras) + "\n"


def write_articles(folder: Path, n_chunks: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in articles(n_chunks):
        (folder / name).write_text(text)
    return folder
