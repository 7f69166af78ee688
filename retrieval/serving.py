"""An advisory lock on a local index folder: every serving process holds it shared, and a
writer (`qabot ingest`) must get it alone. Chroma's local mode is single-process, so a write
beside a running bot is refused with a clear message instead of risking the index."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from retrieval.errors import StoreError

LOCK_NAME = ".qabot-serving.lock"


def hold_shared(index_dir: Path) -> IO[str]:
    """Mark the index as in use by this (serving) process until the returned file is closed
    or the process ends."""
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = (index_dir / LOCK_NAME).open("a")
    fcntl.flock(handle, fcntl.LOCK_SH)
    return handle


@contextlib.contextmanager
def exclusive(index_dir: Path) -> Iterator[None]:
    """Hold the index alone while writing; StoreError at once when a bot is serving it."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / LOCK_NAME).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(
                f"A running qabot is serving the index in {index_dir} (Chroma's local mode is "
                "single-process, so adding articles now could damage it). Stop the bot first, "
                "or serve the index from a Chroma server (CHROMA_HOST) to add articles while "
                "it answers; docs/deploy.md shows how."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
