"""Ingesting files and folders into the store: read, skip what cannot be read, prune."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.loader import Document, Skipped, find_files, read_document
from retrieval.store import ArticleStore, IngestReport

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    report: IngestReport
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0


def load_documents(paths: Iterable[Path]) -> tuple[list[Document], list[Skipped]]:
    """Read every article under the paths; unreadable ones are returned as skipped."""
    docs: list[Document] = []
    skipped: list[Skipped] = []
    for path in find_files(paths):
        if not path.exists():
            reason = "broken symbolic link" if path.is_symlink() else "no such file or folder"
            skipped.append(Skipped(str(path), reason))
            continue
        try:
            docs.append(read_document(path.resolve()))
        except ValueError as exc:
            skipped.append(Skipped(str(path), str(exc)))
            log.warning("skipped %s: %s", path, exc)
    return docs, skipped


def ingest(
    store: ArticleStore,
    paths: Iterable[Path],
    prune: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> IngestResult:
    """Ingest files and folders. With prune, drop indexed documents whose files are gone.
    progress(done, total) is called after each document."""
    docs, skipped = load_documents(paths)
    done = 0

    def step(_: int) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(docs))

    report = store.ingest(docs, progress=step)
    if prune:
        gone = [m["source"] for m in store.sources() if not Path(m["source"]).exists()]
        report.chunks_removed += store.remove(gone)
        report.removed.extend(gone)
    return IngestResult(report=report, skipped=skipped, files=len(docs) + len(skipped))
