"""BM25: Okapi scores, rarer terms weigh more, ties go to the earlier text."""

from __future__ import annotations

import math

from retrieval.lexical import BM25
from retrieval.text import tokenize

TEXTS = [
    "Iran and Iraq held talks in Baghdad.",
    "Iran proposed joint military exercises.",
    "The weather in Baghdad was mild.",
    "Iran and Iraq held talks in Baghdad.",  # a duplicate of the first: ties
]


def okapi(bm25: BM25, query: str, i: int) -> float:
    """The textbook formula, term by term."""
    terms = tokenize(TEXTS[i])
    score = 0.0
    for term in set(tokenize(query)):
        tf = terms.count(term)
        norm = 1 - bm25.b + bm25.b * len(terms) / bm25.avgdl
        score += bm25.idf(term) * tf * (bm25.k1 + 1) / (tf + bm25.k1 * norm) if tf else 0.0
    return score


def test_scores_follow_the_okapi_formula() -> None:
    bm25 = BM25(TEXTS)
    hits = bm25.search("Iran military talks", k=10)
    assert sorted(i for i, _ in hits) == [0, 1, 3]  # only texts sharing a term score
    for i, score in hits:
        assert math.isclose(score, okapi(bm25, "Iran military talks", i), rel_tol=1e-12)
    assert hits[0][0] == 1  # "military" is the rarest query term
    assert bm25.df("iran") == 3 and bm25.df("nowhere") == 0


def test_ties_go_to_the_earlier_text_and_k_is_respected() -> None:
    bm25 = BM25(TEXTS)
    assert [i for i, _ in bm25.search("Iraq talks", k=2)] == [0, 3]
    assert [i for i, _ in bm25.search("Baghdad talks", k=1)] == [0]
    assert bm25.search("Baghdad", k=0) == [] and bm25.search("the of", k=3) == []
