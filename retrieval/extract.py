"""Main-text extraction from news pages with trafilatura: the story without menus, sidebars,
related stories or footers, plus its title, author, publication date, canonical URL and site."""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class Extracted:
    """An article's text (paragraphs separated by blank lines) and what is known about it;
    unknown fields are empty strings."""

    text: str
    title: str = ""
    author: str = ""
    published: str = ""  # ISO date, YYYY-MM-DD
    url: str = ""
    site: str = ""


def decode_html(data: bytes, charset: str | None = None) -> str:
    """Bytes of a page as text: the declared charset (HTTP header, then <meta>), else UTF-8;
    undecodable bytes become U+FFFD rather than failing the page."""
    declared = [charset] if charset else []
    match = _META_CHARSET.search(data[:4096])
    if match:
        declared.append(match.group(1).decode("ascii"))
    for name in [*declared, "utf-8"]:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def _host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def _is_web(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _paragraphs(text: str) -> str:
    """trafilatura's lines become paragraphs separated by blank lines (what chunking expects)."""
    lines = (_SPACE.sub(" ", line).strip() for line in text.replace("\r", "\n").split("\n"))
    return "\n\n".join(line for line in lines if line)


@functools.cache
def _config() -> Any:
    """trafilatura's settings, except that a short story is still a story: its own extractor
    is used down to one character (its default, 250, hands short pages to a cruder fallback
    that keeps menus and breaks paragraphs at bold words)."""
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    return config


def extract_article(html: str, url: str | None = None) -> Extracted:
    """The main text and metadata of a page. `url` is where it was fetched from (None for a
    local file): a canonical URL on another site than that is not trusted, the fetched one is
    kept instead. Raises ValueError when the page has no article text."""
    import trafilatura  # imported here: slow to import, and only ingest needs it

    doc: Any = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
        date_extraction_params={"extensive_search": True, "original_date": True},
        config=_config(),
    )
    text = _paragraphs(getattr(doc, "text", None) or "") if doc is not None else ""
    if not text:
        raise ValueError("no article text found in the page")
    canonical = doc.url or ""
    if not _is_web(canonical) or (url and _host(canonical) != _host(url)):
        canonical = url or ""
    return Extracted(
        text=text,
        title=" ".join((doc.title or "").split()),
        author=" ".join((doc.author or "").split()),
        published=doc.date or "",
        url=canonical,
        site=" ".join((doc.sitename or "").split()) or (_host(canonical) if canonical else ""),
    )
