"""Hybrid search over the bundled article: finds the support, floors off-topic questions,
and never returns the same text twice."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ARTICLE

from bot.config import Settings
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.ingest import ingest
from retrieval.search import HybridSearcher
from retrieval.store import ArticleStore

ROOT = Path(__file__).resolve().parent.parent
QA = {
    q["id"]: q
    for q in map(json.loads, (ROOT / "eval" / "article_qa.jsonl").read_text("utf-8").splitlines())
}
_STRAIGHT = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


@pytest.fixture(scope="module")
def searcher(article_store: ArticleStore, embeddings: MiniLMEmbeddings) -> HybridSearcher:
    return HybridSearcher(article_store, embeddings)


# names, a number, a place, a quoted word, an outlet the article mentions late
@pytest.mark.parametrize("qid", ["d01", "d04", "d05", "d08", "d13", "d15", "d17"])
def test_support_is_in_the_top_four(searcher: HybridSearcher, qid: str) -> None:
    item = QA[qid]
    assert item["answerable"]
    hits = searcher.search(item["question"], k=4)
    assert len(hits) == 4
    texts = [h.chunk.text.translate(_STRAIGHT) for h in hits]
    assert any(s in t for s in item["support"] for t in texts), (item["question"], texts)
    assert hits[0].relevance >= Settings().min_relevance


def test_hits_are_best_first_and_keep_offsets(searcher: HybridSearcher) -> None:
    hits = searcher.search(QA["d06"]["question"], k=4)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    text = ARTICLE.read_text(encoding="utf-8")
    for hit in hits:
        assert text[hit.chunk.start : hit.chunk.end] == hit.chunk.text


def test_off_topic_question_is_below_the_relevance_floor(searcher: HybridSearcher) -> None:
    hits = searcher.search("Who won the 2018 FIFA World Cup?", k=4)
    assert hits, "search returns its best candidates; the floor is what rejects them"
    assert max(h.relevance for h in hits) < Settings().min_relevance


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def test_overlapping_chunks_are_not_both_returned(
    searcher: HybridSearcher, article_store: ArticleStore
) -> None:
    chunks = sorted(article_store.all_chunks(), key=lambda c: c.start)
    pairs = [(a, b) for a, b in zip(chunks, chunks[1:]) if a.end > b.start]
    assert pairs, "the article's long paragraphs give overlapping chunks"
    a, b = pairs[0]
    shared = a.text[b.start - a.start :]  # the sentence both chunks hold

    hits = searcher.search(shared, k=4)
    assert sum(shared in h.chunk.text for h in hits) == 1
    for question in [shared] + [q["question"] for q in QA.values()]:
        spans = [(h.chunk.start, h.chunk.end) for h in searcher.search(question, k=4)]
        for i, x in enumerate(spans):
            for y in spans[i + 1 :]:
                assert overlap(x, y) <= 0.5 * min(x[1] - x[0], y[1] - y[0]), (question, x, y)


def test_same_article_under_two_names_is_not_returned_twice(
    make_store: Callable[..., ArticleStore], embeddings: MiniLMEmbeddings, tmp_path: Path
) -> None:
    for name in ("article.txt", "copy-of-article.txt"):
        shutil.copy(ARTICLE, tmp_path / name)
    store = make_store()
    ingest(store, [tmp_path])
    assert len(store.sources()) == 2
    searcher = HybridSearcher(store, embeddings)

    for question in ["Who runs the Fatah Alliance?", QA["d07"]["question"], QA["d12"]["question"]]:
        hits = searcher.search(question, k=4)
        texts = [h.chunk.text for h in hits]
        assert len(hits) == 4 and len(set(texts)) == 4, texts
        assert sum("Fatah Alliance is run by" in t for t in texts) <= 1
