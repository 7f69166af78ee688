"""Reading article files (.txt, .md, .html) into plain-text documents with their metadata."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from retrieval.extract import extract_article

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """One article: its text (what offsets refer to), where it came from (a path or the URL it
    was ingested from: its key in the index) and what is known about it ("" when unknown)."""

    source: str
    title: str
    text: str
    url: str = ""  # the link people can open (a page's canonical URL)
    published: str = ""  # YYYY-MM-DD
    author: str = ""
    site: str = ""

    @property
    def doc_id(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()[:16]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


@dataclass(frozen=True)
class Skipped:
    """A file that could not be read, and why (a message fit for users)."""

    path: str
    reason: str


def _title_for(path: Path, text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            return line.lstrip("#").strip()
        if len(line) <= 120 and not line.endswith((".", "?", "!", "\u201d", '"')):
            return line
        break
    return path.stem.replace("_", " ").replace("-", " ")


def read_document(path: Path) -> Document:
    """Read one file; raises ValueError with a user-facing reason if it cannot be used."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # reading a FIFO would block for ever
            raise ValueError("not a regular file (a pipe, socket or device)")
        size = info.st_size
        if size > MAX_FILE_BYTES:
            raise ValueError(f"too large ({size // (1024 * 1024)} MiB; limit 20 MiB)")
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"unreadable ({exc.strerror or exc})") from None
    if b"\x00" in data[:8192]:
        raise ValueError("binary file, not text")
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if not raw.strip():
        raise ValueError("empty file")
    if path.suffix.lower() in HTML_SUFFIXES:
        return html_document(raw, str(path), fallback_title=_title_for(path, ""))
    return Document(source=str(path), title=_title_for(path, raw), text=raw)


def html_document(
    html: str, source: str, url: str | None = None, fallback_title: str = ""
) -> Document:
    """A page reduced to its story (trafilatura: no menus, sidebars or footers) with its title,
    author, date, link and site. `url` is where it was fetched from (None for a local file).
    Raises ValueError when the page holds no article text."""
    page = extract_article(html, url)
    return Document(
        source=source,
        title=page.title or fallback_title,
        text=page.text,
        url=page.url,
        published=page.published,
        author=page.author,
        site=page.site,
    )


def find_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand files and folders into article files, sorted, recursing into folders. Entries
    with an article's suffix that are not regular files (broken links, pipes) are included,
    so that reading them reports them as skipped instead of passing over them in silence."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if not child.is_dir() and child.suffix.lower() in SUFFIXES:
                    if not any(part.startswith(".") for part in child.relative_to(path).parts):
                        yield child
        else:
            yield path
