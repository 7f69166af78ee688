"""Hybrid search: vector and BM25 candidates ranked by both signals, near-duplicates removed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.embeddings import Embeddings

from retrieval.lexical import BM25
from retrieval.store import ArticleStore, StoredChunk
from retrieval.text import cosine, tokenize

RRF_K = 60


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk. `similarity` is cosine; `coverage` the idf-weighted share of the
    query's terms that the chunk contains; `score` the fused score both are ranked by."""

    chunk: StoredChunk
    score: float
    similarity: float
    coverage: float

    @property
    def relevance(self) -> float:
        """One number for the relevance floor: the better of the two signals, blended."""
        return max(self.similarity, 0.5 * (self.similarity + self.coverage))


def _overlaps(a: StoredChunk, b: StoredChunk) -> bool:
    if a.doc_id != b.doc_id:
        return False
    shared = min(a.end, b.end) - max(a.start, b.start)
    return shared > 0.5 * min(a.end - a.start, b.end - b.start)


def _near_duplicate(a: StoredChunk, b: StoredChunk, terms: Callable[[str], set[str]]) -> bool:
    if _overlaps(a, b):
        return True
    ta, tb = terms(a.text), terms(b.text)
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) > 0.9


class HybridSearcher:
    """Searches one store; keeps a BM25 index of its chunks, rebuilt when the store's
    generation changes (any ingest, by any process)."""

    def __init__(
        self,
        store: ArticleStore,
        embeddings: Embeddings,
        candidates: int = 20,
        weight: float = 0.5,
    ) -> None:
        self.store = store
        self.weight = weight  # of vector similarity against lexical coverage
        self.embeddings = embeddings
        self.candidates = candidates
        self._lock = threading.Lock()
        self._bm25: BM25 | None = None
        self._chunks: list[StoredChunk] = []
        self._index: dict[str, int] = {}  # chunk id -> its position in the BM25 index
        self._in_order: dict[tuple[str, str], list[StoredChunk]] = {}  # (doc, version) -> chunks
        self._generation = ""

    def _lexical_index(self) -> tuple[BM25, list[StoredChunk], dict[str, int]]:
        with self._lock:
            generation = self.store.generation()  # stamped by every ingest, in any process
            if self._bm25 is None or generation != self._generation:
                self._chunks = self.store.all_chunks()
                self._bm25 = BM25([c.text for c in self._chunks])
                self._index = {c.id: i for i, c in enumerate(self._chunks)}
                self._in_order = {}
                for c in sorted(self._chunks, key=lambda c: c.start):
                    self._in_order.setdefault((c.doc_id, c.version), []).append(c)
                self._generation = generation
            return self._bm25, self._chunks, self._index

    def coverage(self, bm25: BM25, query_terms: set[str], text: str) -> float:
        if not query_terms:
            return 0.0
        have = set(tokenize(text))
        total = sum(bm25.idf(t) for t in query_terms)
        return sum(bm25.idf(t) for t in query_terms if t in have) / total if total else 0.0

    def _coverages(
        self, bm25: BM25, index: dict[str, int], query_terms: set[str], chunks: list[StoredChunk]
    ) -> dict[str, float]:
        """coverage() of many chunks at once, read from the BM25 postings instead of
        tokenizing each chunk; chunks not in the index (it changed meanwhile) are tokenized."""
        import numpy as np

        indexed = [c for c in chunks if c.id in index]
        out = {c.id: self.coverage(bm25, query_terms, c.text) for c in chunks if c.id not in index}
        total = sum(bm25.idf(t) for t in query_terms)
        have = np.zeros(len(indexed))
        if total:
            positions = np.array([index[c.id] for c in indexed], dtype=np.int64)
            for term in query_terms:
                have += bm25.idf(term) * bm25.contains(term, positions)
        out.update({c.id: float(h) / total if total else 0.0 for c, h in zip(indexed, have)})
        return out

    def preceding(self, chunk: StoredChunk) -> StoredChunk | None:
        """The chunk of the same document version that starts last before this one (the
        paragraph before it), if the index holds one."""
        with self._lock:
            earlier = [
                c
                for c in self._in_order.get((chunk.doc_id, chunk.version), [])
                if c.start < chunk.start
            ]
        return earlier[-1] if earlier else None

    def current(self, hits: list[Hit]) -> list[Hit]:
        """The hits whose chunks belong to their document's current version."""
        ids = {c.id for c in self.store.current(h.chunk for h in hits)}
        return [h for h in hits if h.chunk.id in ids]

    def search(self, query: str, k: int = 4) -> list[Hit]:
        """The k best chunks for a query, best first."""
        bm25, chunks, index = self._lexical_index()
        if not chunks:
            return []
        query_vector = self.embeddings.embed_query(query)
        vector_hits = self.store.vector_search(query_vector, self.candidates)
        lexical_hits = bm25.search(query, self.candidates)

        by_id: dict[str, StoredChunk] = {}
        fused: dict[str, float] = {}
        similarity: dict[str, float] = {}
        for rank, (chunk, sim) in enumerate(vector_hits):
            by_id[chunk.id] = chunk
            similarity[chunk.id] = sim
            fused[chunk.id] = fused.get(chunk.id, 0.0) + 1.0 / (RRF_K + rank)
        for rank, (i, _score) in enumerate(lexical_hits):
            chunk = chunks[i]
            by_id.setdefault(chunk.id, chunk)
            fused[chunk.id] = fused.get(chunk.id, 0.0) + 1.0 / (RRF_K + rank)

        missing = [cid for cid in fused if cid not in similarity]
        for cid, vec in self.store.vectors(missing).items():  # lexical-only hits
            similarity[cid] = cosine(query_vector, vec)
        terms = set(tokenize(query))
        covered = self._coverages(bm25, index, terms, [by_id[cid] for cid in fused])
        scored = []
        for cid in fused:  # candidates from either list, ranked by both signals' values
            sim = similarity.get(cid, 0.0)
            cov = covered[cid]
            blended = self.weight * sim + (1 - self.weight) * cov + 0.01 * fused[cid]
            scored.append(Hit(by_id[cid], blended, sim, cov))
        scored.sort(key=lambda h: -h.score)
        token_sets: dict[str, set[str]] = {}

        def terms_of(text: str) -> set[str]:  # each candidate tokenized once per query
            if text not in token_sets:
                token_sets[text] = set(tokenize(text))
            return token_sets[text]

        hits: list[Hit] = []
        for hit in scored:
            if not any(_near_duplicate(hit.chunk, h.chunk, terms_of) for h in hits):
                hits.append(hit)
                if len(hits) == k:
                    break
        return hits
