"""Reading RSS 2.0, RSS 1.0 (RDF) and Atom feeds into the links of their items."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urljoin

from retrieval.web import is_url, normalize

_ATOM = "{http://www.w3.org/2005/Atom}"
_RSS1 = "{http://purl.org/rss/1.0/}"


@dataclass(frozen=True)
class FeedItem:
    """One story a feed lists: its link (normalized) and the title the feed gives it."""

    url: str
    title: str = ""


def _text(element: ET.Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _atom_link(entry: ET.Element) -> str:
    links = entry.findall(f"{_ATOM}link")
    for link in links:  # rel="alternate" (the default) is the story; others are not
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href", "")
    return ""


def parse_feed(data: bytes, base_url: str) -> list[FeedItem]:
    """The items of a feed, in the feed's order, each link once; relative links are resolved
    against the feed's URL and only http(s) links are kept. Raises ValueError when the bytes
    are not a feed."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ValueError(f"not a feed (XML error: {exc})") from None
    if root.tag == f"{_ATOM}feed":
        entries = root.iter(f"{_ATOM}entry")
        pairs = [(_atom_link(e), _text(e.find(f"{_ATOM}title"))) for e in entries]
    elif root.tag == "rss":
        pairs = [
            (_text(i.find("link")) or _permalink(i), _text(i.find("title")))
            for i in root.iter("item")
        ]
    elif root.tag.endswith("RDF"):
        pairs = [(_text(i.find(f"{_RSS1}link")), _text(i.find(f"{_RSS1}title")))
                 for i in root.iter(f"{_RSS1}item")]  # fmt: skip
    else:
        raise ValueError(f"not an RSS or Atom feed (its root is <{root.tag}>)")
    items: dict[str, FeedItem] = {}
    for link, title in pairs:
        url = urljoin(base_url, link.strip()) if link.strip() else ""
        if is_url(url):
            items.setdefault(normalize(url), FeedItem(normalize(url), title))
    return list(items.values())


def _permalink(item: ET.Element) -> str:
    guid = item.find("guid")
    if guid is not None and guid.get("isPermaLink", "true") == "true":
        return _text(guid)
    return ""
