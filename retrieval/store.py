"""The Chroma index: chunks with their offsets, plus one record per document."""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.embeddings import Embeddings

from retrieval.chunking import Chunk, chunk_text
from retrieval.errors import StoreError
from retrieval.loader import Document

CHUNKER_VERSION = "sent-400-1"
LOCK_WAIT = 5.0  # seconds to wait for another program's lock on a local index
F = TypeVar("F", bound=Callable[..., Any])


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
    version: str = ""  # the document version it belongs to ("" in indexes built before)
    url: str = ""  # the article's link, its publication date (YYYY-MM-DD) and site, if known
    published: str = ""
    site: str = ""


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0


def article_metadata(doc: Document) -> dict[str, str]:
    """What is known about a document's article, as kept on its record and on every chunk
    (Chroma keeps no empty values: unknown fields are left out)."""
    fields = {"url": doc.url, "published": doc.published, "author": doc.author, "site": doc.site}
    return {key: value for key, value in fields.items() if value}


def version(doc: Document) -> str:
    """A document version's id: its chunks carry it, and its record names the current one."""
    return doc.sha256[:16]


def chunk_ids(doc: Document, max_chars: int = 400) -> list[tuple[str, Chunk]]:
    """(id, chunk) pairs; ids derive from the document, its version and the chunk's place and
    content, so a new version's chunks never overwrite the current one's."""
    out = []
    for chunk in chunk_text(doc.text, max_chars=max_chars):
        key = f"{version(doc)}:{chunk.start}:{chunk.end}:{chunk.text}"
        out.append((f"{doc.doc_id}-{hashlib.sha256(key.encode()).hexdigest()[:16]}", chunk))
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
        _check_readable(data_dir)
        return chromadb.PersistentClient(path=str(data_dir), settings=settings)
    except StoreError:
        raise
    except Exception as exc:  # chromadb raises many types; translate at the boundary
        where = f"the Chroma server at {host}:{port}" if host else f"the index in {data_dir}"
        raise StoreError(f"Cannot open {where}: {type(exc).__name__}: {exc}") from exc


def _check_readable(data_dir: Path) -> None:
    """Fail clearly, instead of hanging or crashing inside Chroma, when the local index is
    locked by another program or is not a database."""
    db = data_dir / "chroma.sqlite3"
    if not db.exists():
        return
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=LOCK_WAIT)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            con.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise StoreError(
                f"The index in {data_dir} is locked by another program (still after "
                f"{LOCK_WAIT:g} s). Try again when it has finished."
            ) from None
        raise StoreError(f"Cannot open the index in {data_dir}: {exc}.") from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"The index in {data_dir} is damaged ({exc}). Move that folder away and run "
            "`qabot ingest PATH` to build a new one."
        ) from None


def _reading(method: F) -> F:
    """Chroma's errors while reading (a server gone away, a damaged file) become StoreError."""

    @functools.wraps(method)
    def wrapper(self: ArticleStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(
                f"The index cannot be read ({type(exc).__name__}); `qabot doctor` shows its state."
            ) from exc

    return wrapper  # type: ignore[return-value]


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
            chunker = (chunks.metadata or {}).get("chunker", CHUNKER_VERSION)
            if chunker != CHUNKER_VERSION:
                raise StoreError(
                    f"The index '{self._name}' was chunked by '{chunker}', but this qabot "
                    f"chunks by '{CHUNKER_VERSION}'. Rebuild it with `qabot ingest --rebuild PATH`."
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

    @_reading
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
        """Add new documents, replace changed ones, leave unchanged ones untouched.

        A changed document's new chunks are written beside the old ones (unchanged text keeps
        its vectors), then its record is switched to the new version, then the old chunks are
        deleted. Readers filter chunks by the record's version (`current`), so a search sees
        the old version or the new one, never a mix; an ingest that dies half-way leaves the
        old version in place."""
        self._open(create=True)
        report = IngestReport()
        for doc in docs:
            known = self._docs.get(ids=[doc.doc_id], include=["metadatas"])
            meta = known["metadatas"][0] if known["ids"] else None
            if meta and meta.get("sha256") == doc.sha256:
                report.unchanged.append(doc.source)
                added = 0
            else:
                added, removed = self._replace(doc)
                (report.updated if meta else report.added).append(doc.source)
                report.chunks_added += added
                report.chunks_removed += removed
            if progress:
                progress(added)
        if report.added or report.updated:
            self._stamp()
        return report

    def _stamp(self) -> None:
        """A new generation: every process's lexical index of this store is now stale, even
        when the chunk count is unchanged (a same-size edit)."""
        docs = self._existing(f"{self._name}-docs")
        if docs is not None:
            meta = {k: v for k, v in (docs.metadata or {}).items() if not k.startswith("hnsw:")}
            docs.modify(metadata={**meta, "generation": uuid.uuid4().hex})

    @_reading
    def generation(self) -> str:
        """Changes whenever documents are added, replaced or removed (by any process); an index
        from before generations were stamped falls back to its chunk count."""
        docs = self._existing(f"{self._name}-docs")
        stamp = (docs.metadata or {}).get("generation") if docs is not None else None
        return str(stamp) if stamp else f"count:{self.count()}"

    def _replace(self, doc: Document) -> tuple[int, int]:
        """Write a document's new version: its new chunks, then its record, then drop the old
        version's chunks. Returns (chunks added, chunks removed)."""
        pairs = chunk_ids(doc)
        got = self._chunks.get(where={"doc_id": doc.doc_id}, include=["documents", "embeddings"])
        old = set(got["ids"])
        known = {text: list(vec) for text, vec in zip(got["documents"], got["embeddings"])}
        new = [(cid, c) for cid, c in pairs if cid not in old]
        if new:
            self._write_chunks(doc, new, known)
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
                    "version": version(doc),
                    "ingested_at": time.time(),
                    **article_metadata(doc),
                }
            ],
        )
        stale = sorted(old - {cid for cid, _ in pairs})
        if stale:  # only now: until the record switched, these were the current chunks
            self._chunks.delete(ids=stale)
        return len(new), len(stale)

    def _write_chunks(
        self, doc: Document, new: list[tuple[str, Chunk]], known: dict[str, list[float]]
    ) -> None:
        """Embed (reusing the vectors of unchanged text) and store a version's new chunks."""
        missing = sorted({c.text for _, c in new} - known.keys())
        if missing:
            known.update(zip(missing, self.embeddings.embed_documents(missing)))
        self._chunks.upsert(
            ids=[cid for cid, _ in new],
            embeddings=[known[c.text] for _, c in new],
            documents=[c.text for _, c in new],
            metadatas=[
                {
                    "doc_id": doc.doc_id,
                    "source": doc.source,
                    "title": doc.title,
                    "paragraph": c.paragraph,
                    "start": c.start,
                    "end": c.end,
                    "version": version(doc),
                    **article_metadata(doc),
                }
                for _, c in new
            ],
        )

    def remove(self, sources: Iterable[str]) -> int:
        """Remove documents by source; returns how many chunks went with them."""
        return self.remove_ids(Document(source=s, title="", text="").doc_id for s in sources)

    def remove_ids(self, doc_ids: Iterable[str]) -> int:
        """Remove documents by id; returns how many chunks went with them."""
        if not self._open(create=False):
            return 0
        removed = 0
        for doc_id in doc_ids:
            ids = self._chunks.get(where={"doc_id": doc_id}, include=[])["ids"]
            if ids:
                self._chunks.delete(ids=ids)
            self._docs.delete(ids=[doc_id])
            removed += len(ids)
        if removed:
            self._stamp()
        return removed

    # -- reading -------------------------------------------------------------------------
    @_reading
    def sources(self) -> list[dict[str, Any]]:
        """Every document's record: source, title, sha256, chunks, version, ingested_at and
        the article's url, published, author and site where known; `id` is its doc_id."""
        if not self._open(create=False):
            return []
        got = self._docs.get(include=["metadatas"])
        return [{**(m or {}), "id": i} for i, m in zip(got["ids"], got["metadatas"])]

    @_reading
    def current(self, chunks: Iterable[StoredChunk]) -> list[StoredChunk]:
        """The chunks that belong to their document's current version (a search running while
        a document is replaced may have found chunks of the version on its way out)."""
        chunks = list(chunks)
        doc_ids = sorted({c.doc_id for c in chunks if c.version})
        if not doc_ids or not self._open(create=False):
            return chunks
        got = self._docs.get(ids=doc_ids, include=["metadatas"])
        versions = {i: (m or {}).get("version") for i, m in zip(got["ids"], got["metadatas"])}
        return [c for c in chunks if not c.version or versions.get(c.doc_id) == c.version]

    @_reading
    def document_text(self, doc_id: str) -> str | None:
        if not self._open(create=False):
            return None
        got = self._docs.get(ids=[doc_id], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    @_reading
    def all_chunks(self, page: int = 5000) -> list[StoredChunk]:
        """Every chunk, read in pages: one unbounded get fails on ~100k chunks ("too many
        SQL variables" from Chroma's SQLite)."""
        if not self._open(create=False):
            return []
        out: list[StoredChunk] = []
        while True:
            got = self._chunks.get(include=["documents", "metadatas"], limit=page, offset=len(out))
            out += [_stored(*row) for row in zip(got["ids"], got["documents"], got["metadatas"])]
            if len(got["ids"]) < page:
                return out

    @_reading
    def vectors(self, ids: list[str]) -> dict[str, list[float]]:
        """Stored embeddings of the given chunk ids (those still present)."""
        if not ids or not self._open(create=False):
            return {}
        got = self._chunks.get(ids=ids, include=["embeddings"])
        return {cid: list(vec) for cid, vec in zip(got["ids"], got["embeddings"])}

    @_reading
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
        version=str(meta.get("version") or ""),
        url=str(meta.get("url") or ""),
        published=str(meta.get("published") or ""),
        site=str(meta.get("site") or ""),
    )
