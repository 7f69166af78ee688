"""Reading article files (.txt, .md, .html) into plain-text documents."""

from __future__ import annotations

import hashlib
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """One article: its text (what offsets refer to), where it came from and its title."""

    source: str
    title: str
    text: str

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


class _TextExtractor(HTMLParser):
    _BLOCK = {
        "p",
        "div",
        "br",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "article",
        "section",
        "blockquote",
        "header",
        "footer",
        "pre",
        "ul",
        "ol",
        "table",
    }
    _SKIP = {"script", "style", "noscript", "template", "svg", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "title":
            self._in_title = True
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """Reduce HTML to paragraphs of text; returns (title, text)."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    raw = "".join(parser.parts)
    paragraphs = [re.sub(r"[ \t\r\f\v\n]+", " ", p).strip() for p in re.split(r"\n\s*\n", raw)]
    return " ".join(parser.title.split()), "\n\n".join(p for p in paragraphs if p)


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
    if path.suffix.lower() in HTML_SUFFIXES:
        title, text = html_to_text(raw)
        title = title or _title_for(path, text)
    else:
        text, title = raw, _title_for(path, raw)
    if not text.strip():
        raise ValueError("empty file")
    return Document(source=str(path), title=title, text=text)


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
