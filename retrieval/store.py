"""The Chroma index: chunks with their offsets, plus one record per document."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from bot.errors import StoreError
from retrieval.chunking import chunk_text
from retrieval.loader import Document

CHUNKER_VERSION = "sent-400-1"


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as kept in the index."""

    id: str
    text: str
    doc_id: str
    source: str
    title: str
    paragraph: int
    start: int
    end: int


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0


def chunk_ids(doc: Document, max_chars: int = 400) -> list[tuple[str, Any]]:
    """(id, chunk) pairs; ids derive from the document and the chunk's content and place."""
    out = []
    for chunk in chunk_text(doc.text, max_chars=max_chars):
        digest = hashlib.sha256(f"{chunk.start}:{chunk.end}:{chunk.text}".encode()).hexdigest()
        out.append((f"{doc.doc_id}-{digest[:16]}", chunk))
    return out


def make_client(data_dir: Path | None = None, host: str | None = None, port: int = 8000) -> Any:
    """A Chroma client: an HTTP client when a host is given, else a persistent local one."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if host:
            return chromadb.HttpClient(host=host, port=port, settings=settings)
        assert data_dir is not None
        data_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(data_dir), settings=settings)
    except Exception as exc:  # chromadb raises many types; translate at the boundary
        where = f"the Chroma server at {host}:{port}" if host else f"the index in {data_dir}"
        raise StoreError(f"Cannot open {where}: {type(exc).__name__}: {exc}") from exc


class ArticleStore:
    """Chunks of articles in one Chroma collection, documents in a sibling collection."""

    def __init__(self, client: Any, collection: str, embeddings: Embeddings, embedding_name: str):
        self._client = client
        self._name = collection
        self.embeddings = embeddings
        self.embedding_name = embedding_name
        self._chunks: Any = None
        self._docs: Any = None

    # -- collections ---------------------------------------------------------------------
    def _existing(self, name: str) -> Any | None:
        try:
            return self._client.get_collection(name, embedding_function=None)
        except Exception:
            return None

    def _open(self, create: bool) -> bool:
        if self._chunks is not None:
            return True
        chunks = self._existing(self._name)
        if chunks is None and not create:
            return False
        if chunks is not None:
            built_with = (chunks.metadata or {}).get("embedding_model")
            if built_with != self.embedding_name:
                raise StoreError(
                    f"The index '{self._name}' was built with embeddings '{built_with}', but "
                    f"qabot is configured for '{self.embedding_name}'. Rebuild it with "
                    "`qabot ingest --rebuild PATH` (or change QABOT_EMBEDDINGS back)."
                )
        meta = {
            "hnsw:space": "cosine",
            "embedding_model": self.embedding_name,
            "chunker": CHUNKER_VERSION,
        }
        try:
            self._chunks = chunks or self._client.get_or_create_collection(
                self._name, metadata=meta, embedding_function=None
            )
            self._docs = self._client.get_or_create_collection(
                f"{self._name}-docs",
                metadata={"embedding_model": "none"},
                embedding_function=None,
            )
        except Exception as exc:
            raise StoreError(f"Cannot open the index: {type(exc).__name__}: {exc}") from exc
        return True

    def exists(self) -> bool:
        return self._open(create=False)

    def count(self) -> int:
        return self._chunks.count() if self._open(create=False) else 0

    def drop(self) -> None:
        """Delete both collections (used by `ingest --rebuild`)."""
        for name in (self._name, f"{self._name}-docs"):
            if self._existing(name) is not None:
                self._client.delete_collection(name)
        self._chunks = self._docs = None

    # -- writing -------------------------------------------------------------------------
    def ingest(
        self, docs: Iterable[Document], progress: Callable[[int], None] | None = None
    ) -> IngestReport:
        """Add new documents, replace changed ones, leave unchanged ones untouched."""
        self._open(create=True)
        report = IngestReport()
        for doc in docs:
            known = self._docs.get(ids=[doc.doc_id], include=["metadatas"])
            meta = known["metadatas"][0] if known["ids"] else None
            if meta and meta.get("sha256") == doc.sha256:
                report.unchanged.append(doc.source)
                if progress:
                    progress(0)
                continue
            pairs = chunk_ids(doc)
            old = set(self._chunks.get(where={"doc_id": doc.doc_id}, include=[])["ids"])
            new = [(cid, c) for cid, c in pairs if cid not in old]
            if new:
                vectors = self.embeddings.embed_documents([c.text for _, c in new])
                self._chunks.upsert(
                    ids=[cid for cid, _ in new],
                    embeddings=vectors,
                    documents=[c.text for _, c in new],
                    metadatas=[
                        {
                            "doc_id": doc.doc_id,
                            "source": doc.source,
                            "title": doc.title,
                            "paragraph": c.paragraph,
                            "start": c.start,
                            "end": c.end,
                        }
                        for _, c in new
                    ],
                )
            stale = sorted(old - {cid for cid, _ in pairs})
            if stale:
                self._chunks.delete(ids=stale)
            self._docs.upsert(
                ids=[doc.doc_id],
                embeddings=[[1.0]],
                documents=[doc.text],
                metadatas=[
                    {
                        "source": doc.source,
                        "title": doc.title,
                        "sha256": doc.sha256,
                        "chunks": len(pairs),
                        "ingested_at": time.time(),
                    }
                ],
            )
            (report.updated if meta else report.added).append(doc.source)
            report.chunks_added += len(new)
            report.chunks_removed += len(stale)
            if progress:
                progress(len(new))
        return report

    def remove(self, sources: Iterable[str]) -> int:
        """Remove documents by source; returns how many chunks went with them."""
        if not self._open(create=False):
            return 0
        removed = 0
        for source in sources:
            doc_id = Document(source=source, title="", text="").doc_id
            ids = self._chunks.get(where={"doc_id": doc_id}, include=[])["ids"]
            if ids:
                self._chunks.delete(ids=ids)
            self._docs.delete(ids=[doc_id])
            removed += len(ids)
        return removed

    # -- reading -------------------------------------------------------------------------
    def sources(self) -> list[dict[str, Any]]:
        if not self._open(create=False):
            return []
        return list(self._docs.get(include=["metadatas"])["metadatas"])

    def document_text(self, doc_id: str) -> str | None:
        if not self._open(create=False):
            return None
        got = self._docs.get(ids=[doc_id], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def all_chunks(self) -> list[StoredChunk]:
        if not self._open(create=False):
            return []
        got = self._chunks.get(include=["documents", "metadatas"])
        return [_stored(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def vectors(self, ids: list[str]) -> dict[str, list[float]]:
        """Stored embeddings of the given chunk ids (those still present)."""
        if not ids or not self._open(create=False):
            return {}
        got = self._chunks.get(ids=ids, include=["embeddings"])
        return {cid: list(vec) for cid, vec in zip(got["ids"], got["embeddings"])}

    def vector_search(self, vector: list[float], k: int) -> list[tuple[StoredChunk, float]]:
        """The k nearest chunks with cosine similarity."""
        if not self._open(create=False) or k <= 0:
            return []
        n = min(k, self._chunks.count())
        if n == 0:
            return []
        res = self._chunks.query(
            query_embeddings=[vector], n_results=n, include=["documents", "metadatas", "distances"]
        )
        return [
            (_stored(i, d, m), 1.0 - dist)
            for i, d, m, dist in zip(
                res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0]
            )
        ]


def _stored(cid: str, text: str, meta: dict[str, Any]) -> StoredChunk:
    return StoredChunk(
        id=cid,
        text=text,
        doc_id=meta["doc_id"],
        source=meta["source"],
        title=meta["title"],
        paragraph=int(meta["paragraph"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
    )
