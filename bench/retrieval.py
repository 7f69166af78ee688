"""Retrieval latency (HybridSearcher.search: embed + vector + lexical + fuse) on the bundled
article beside its parts and the tutorial baseline's similarity search; then at scale, on
generated corpora of 10k and 100k chunks: ingest time, memory and p50/p95 latency.

    .venv/bin/python bench/retrieval.py [--sizes 10000,100000] [--embed-up-to 10000]

At scale the chunk vectors are MiniLM's by default only up to --embed-up-to chunks (MiniLM
embeds ~30-60 chunks/s on 2 cores); above it each chunk's vector is the normalised sum of the
MiniLM vectors of its words, inserted through the same ingest path. Queries are always
embedded by MiniLM.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import common
import numpy as np
from langchain_core.embeddings import Embeddings

from bot.backends.local.model_files import minilm_files
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.ingest import ingest
from retrieval.search import HybridSearcher
from retrieval.store import ArticleStore, make_client


class WordVectors(Embeddings):
    """Cheap stand-in vectors for bulk chunks: sum of per-word MiniLM vectors, normalised."""

    def __init__(self, model: MiniLMEmbeddings, vocabulary: list[str]) -> None:
        words = sorted({w.lower() for w in vocabulary})
        self.index = {w: i for i, w in enumerate(words)}
        self.table = np.array(model.embed_documents(words), dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out = []
        for text in texts:
            ids = [self.index[w] for w in text.lower().replace(".", "").split() if w in self.index]
            v = self.table[ids].sum(0) if ids else np.ones(self.table.shape[1], np.float32)
            out.append((v / np.linalg.norm(v)).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def latencies(searcher: HybridSearcher, queries: list[str], reps: int) -> list[float]:
    return [common.timed(lambda q=q: searcher.search(q, 4)) for _ in range(reps) for q in queries]


def bundled(client, model: MiniLMEmbeddings, tmp: Path, reps: int) -> None:
    from bot.evaluation.baseline import TutorialBaseline
    from retrieval.ingest import load_documents

    store = ArticleStore(client, "bundled", model, model.name)
    ingest(store, [common.ROOT / "data"])
    searcher = HybridSearcher(store, model)
    docs, _ = load_documents([common.ROOT / "data"])
    baseline = TutorialBaseline(docs, model, chat=lambda: None, workdir=tmp / "baseline")
    questions = common.questions()
    searcher.search("warm up", 4)
    parts: dict[str, list[float]] = {k: [] for k in ("search", "embed", "vector", "baseline")}
    for _ in range(reps):
        for q in questions:  # interleaved: the same load for every column
            parts["search"].append(common.timed(lambda q=q: searcher.search(q, 4)))
            t0 = time.perf_counter()
            vec = model.embed_query(q)
            parts["embed"].append(time.perf_counter() - t0)
            parts["vector"].append(common.timed(lambda v=vec: store.vector_search(v, 20)))
            parts["baseline"].append(
                common.timed(lambda q=q: baseline.store.similarity_search(q, k=4))
            )
    base = common.p50(parts["baseline"])
    print(f"Bundled article: {store.count()} chunks, {len(questions)} questions x {reps}\n")
    common.table(
        [
            (
                name,
                common.ms(common.p50(v)),
                common.ms(common.percentile(v, 0.95)),
                f"{common.p50(v) / base:.2f}x",
            )
            for name, v in (
                ("qabot HybridSearcher.search (target p50 <= 30 ms)", parts["search"]),
                ("  of which: embed_query", parts["embed"]),
                ("  of which: Chroma vector search, 20 candidates", parts["vector"]),
                ("baseline: langchain Chroma similarity_search k=4", parts["baseline"]),
            )
        ],
        ("retrieval", "p50", "p95", "p50 / baseline"),
    )


def synthetic_queries(folder: Path, n: int, seed: int = 3) -> list[str]:
    """Questions made of a few content words of random corpus sentences."""
    rng = random.Random(seed)
    files = sorted(folder.iterdir())
    out = []
    while len(out) < n:
        sentence = rng.choice(rng.choice(files).read_text().split(". "))
        words = sentence.split()
        start = rng.randrange(max(1, len(words) - 5))
        out.append("What about " + " ".join(words[start : start + 5]) + "?")
    return out


def scale(client, model: MiniLMEmbeddings, tmp: Path, sizes: list[int], embed_up_to: int) -> None:
    rows = []
    words = None
    for size in sizes:
        folder = common.write_articles(tmp / f"corpus-{size}", size)
        real = size <= embed_up_to
        if not real and words is None:
            words = WordVectors(model, common.vocabulary())
        writer = ArticleStore(client, f"scale-{size}", model if real else words, model.name)
        rss0 = common.rss_mb()
        t_ingest = common.timed(lambda w=writer, f=folder: ingest(w, [f]))
        store = ArticleStore(client, f"scale-{size}", model, model.name)
        searcher = HybridSearcher(store, model)
        t_first = common.timed(lambda s=searcher: s.search("warm up", 4))
        queries = common.questions() + synthetic_queries(folder, 30)
        lat = latencies(searcher, queries, reps=2)
        bm25 = searcher._lexical_index()[0]
        lexical = [common.timed(lambda q=q, b=bm25: b.search(q, 20)) for q in queries]
        rows.append(
            (
                f"{store.count():,}",
                f"{t_ingest:.0f} s ({'MiniLM' if real else 'word vectors'})",
                f"{t_first:.2f} s",
                common.ms(common.p50(lat)),
                common.ms(common.percentile(lat, 0.95)),
                common.ms(common.p50(lexical)),
                f"{common.rss_mb():.0f} MB (+{common.rss_mb() - rss0:.0f})",
            )
        )
        print(f"  {size}: {rows[-1]}", flush=True)
    print(f"\nScale: {len(queries)} queries x 2 (20 development questions, 30 synthetic)\n")
    common.table(
        rows,
        (
            "chunks",
            "ingest",
            "first search (BM25 build)",
            "search p50",
            "search p95 (target 150 ms at 100k)",
            "BM25 alone p50",
            "RSS after",
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--embed-up-to", type=int, default=0)
    args = parser.parse_args()
    model = MiniLMEmbeddings(minilm_files)
    model.embed_query("warm up")
    with tempfile.TemporaryDirectory() as tmp:
        client = make_client(Path(tmp) / "chroma")
        bundled(client, model, Path(tmp), args.reps)
        sizes = [int(s) for s in args.sizes.split(",") if s]
        if sizes:
            print()
            scale(client, model, Path(tmp), sizes, args.embed_up_to)


if __name__ == "__main__":
    main()
