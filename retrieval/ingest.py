"""Ingesting files, folders, web pages and feeds into the store: read or fetch, skip what
cannot be used (with the reason), add new feed items only, prune."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.extract import decode_html
from retrieval.feeds import parse_feed
from retrieval.loader import Document, Skipped, find_files, html_document, read_document
from retrieval.store import ArticleStore, IngestReport
from retrieval.web import FEED_TYPES, FetchError, Page, fetch, is_url, normalize

log = logging.getLogger(__name__)
Fetcher = Callable[..., Page]


@dataclass(frozen=True)
class FeedReport:
    """What a feed listed: its new items (fetched) and those already in the index."""

    url: str
    new: list[str] = field(default_factory=list)
    known: int = 0


@dataclass
class IngestResult:
    report: IngestReport
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0  # files and pages tried
    feeds: list[FeedReport] = field(default_factory=list)


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


def load_page(url: str, fetcher: Fetcher = fetch) -> Document:
    """Fetch one web page and extract its story; raises ValueError with the reason."""
    try:
        page = fetcher(url)
    except FetchError as exc:
        raise ValueError(str(exc)) from None
    html = decode_html(page.body, page.charset)
    if not html.strip():
        raise ValueError("empty page")
    return html_document(html, source=normalize(url), url=page.url)


def load_urls(
    urls: Iterable[str], fetcher: Fetcher = fetch
) -> tuple[list[Document], list[Skipped]]:
    docs: list[Document] = []
    skipped: list[Skipped] = []
    for url in dict.fromkeys(normalize(u) for u in urls):
        try:
            docs.append(load_page(url, fetcher))
        except ValueError as exc:
            skipped.append(Skipped(url, str(exc)))
            log.warning("skipped %s: %s", url, exc)
    return docs, skipped


def new_feed_items(
    feed_url: str, known: set[str], fetcher: Fetcher = fetch
) -> tuple[FeedReport, Skipped | None]:
    """The items of a feed that are not in the index yet (`known`: indexed sources and links)."""
    try:
        page = fetcher(feed_url, accept=FEED_TYPES)
        items = parse_feed(page.body, page.url)
    except (FetchError, ValueError) as exc:
        return FeedReport(feed_url), Skipped(feed_url, f"feed: {exc}")
    new = [item.url for item in items if item.url not in known]
    return FeedReport(feed_url, new, len(items) - len(new)), None


def indexed_links(store: ArticleStore) -> set[str]:
    """Every indexed article's source and link, normalized when they are URLs."""
    links: set[str] = set()
    for meta in store.sources():
        for key in (meta.get("source"), meta.get("url")):
            if key:
                links.add(normalize(key) if is_url(key) else str(key))
    return links


def ingest(
    store: ArticleStore,
    paths: Iterable[Path] = (),
    prune: bool = False,
    progress: Callable[[int, int], None] | None = None,
    urls: Iterable[str] = (),
    feeds: Iterable[str] = (),
    fetcher: Fetcher = fetch,
) -> IngestResult:
    """Ingest files and folders, web pages, and the new items of feeds. With prune, drop
    indexed files that are gone (web pages are never pruned). progress(done, total) is called
    after each document."""
    docs, skipped = load_documents(paths)
    urls = list(urls)
    reports: list[FeedReport] = []
    feeds = list(feeds)
    if feeds:
        known = indexed_links(store) | {normalize(u) for u in urls}
        for feed_url in feeds:
            listed, failed = new_feed_items(normalize(feed_url), known, fetcher)
            reports.append(listed)
            skipped += [failed] if failed else []
            urls += listed.new
            known |= set(listed.new)
    pages, failed_pages = load_urls(urls, fetcher)
    docs += pages
    skipped += failed_pages
    done = 0

    def step(_: int) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(docs))

    report = store.ingest(docs, progress=step)
    if prune:
        gone = [
            m["source"]
            for m in store.sources()
            if not is_url(m["source"]) and not Path(m["source"]).exists()
        ]
        report.chunks_removed += store.remove(gone)
        report.removed.extend(gone)
    tried = len(docs) + len([s for s in skipped if not s.reason.startswith("feed:")])
    return IngestResult(report=report, skipped=skipped, files=tried, feeds=reports)
