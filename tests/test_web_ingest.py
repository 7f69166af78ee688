"""Ingesting web pages and feeds from a news site served on 127.0.0.1: only the story is
indexed, with its metadata; failures are skipped with their reason; feeds add new items only."""

from __future__ import annotations

import functools
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.news_site import NEWS, RSS, NewsSite, news_page, rss
from test_cli import FATAH, qabot

from retrieval.ingest import ingest
from retrieval.loader import read_document
from retrieval.store import ArticleStore
from retrieval.web import fetch

STORY = (NEWS / "story.html").read_text(encoding="utf-8")
BOILERPLATE = [
    "Related stories", "Tanker traffic", "Most read", "harbour lantern festival", "Subscribe",
    "We use cookies", "Advertisement", "Brightline", "All rights reserved", "Privacy policy",
    "Morning Ledger", "Comments are closed", "Share on", "corrections desk", "Oil prices climb",
]  # fmt: skip
FERRY = [
    "The night ferry between Alder Point and Gravesend was cancelled on Sunday after a gearbox "
    "failure, the operator Northsea Lines said.",
    "About 300 passengers were moved to coaches. Repairs are expected to take two weeks.",
]
BRIDGE = [
    "The Kestrel Bridge reopened to traffic on Monday after eight months of repairs costing "
    "41 million dollars.",
    "City engineer Mara Quint said the new deck would last at least fifty years.",
]
TRAIN = ["A new tram line to the airport will open in March, the transport authority said."]


@pytest.fixture
def site() -> Iterator[NewsSite]:
    server = NewsSite().start()
    server.add("/story.html", STORY)
    yield server
    server.stop()


def test_only_the_story_is_indexed_with_its_metadata(store: ArticleStore, site: NewsSite) -> None:
    url = site.url + "/story.html"
    result = ingest(store, urls=[url])
    assert result.report.added == [url] and not result.skipped

    [record] = store.sources()
    text = store.document_text(record["id"]) or ""
    assert "the Fatah Alliance is run by Hadi al-Amiri" in text
    assert "Currently the meetings appear to be between Iran" in text  # the last paragraph
    for junk in BOILERPLATE:
        assert junk not in text, junk
    assert record["title"] == "Iran wants joint military exercises with Iraq"
    assert record["published"] == "2019-05-27" and record["site"] == "The Regional Ledger"
    assert "Frantzman" in record["author"]
    # the canonical link is on another site than the one that served the page: not trusted
    assert record["url"] == url
    chunks = store.all_chunks()
    assert {(c.url, c.published, c.title) for c in chunks} == {
        (url, "2019-05-27", "Iran wants joint military exercises with Iraq")
    }
    assert all(c.text == text[c.start : c.end] for c in chunks)  # offsets in the stored text


def test_a_saved_page_on_disk_is_read_the_same_way(site: NewsSite, tmp_path: Path) -> None:
    path = tmp_path / "story.html"
    path.write_text(STORY, encoding="utf-8")
    real_connect = socket.socket.connect

    def no_network(self: socket.socket, address: object) -> None:
        raise AssertionError(f"extraction tried to connect to {address}")

    socket.socket.connect = no_network  # type: ignore[method-assign]
    try:
        doc = read_document(path)
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
    assert doc.url == "https://regional-ledger.example/world/2019/05/27/iran-iraq-joint-exercises"
    assert doc.published == "2019-05-27" and doc.title.startswith("Iran wants joint")
    assert not any(junk in doc.text for junk in BOILERPLATE)


def test_unchanged_pages_are_skipped_and_changed_ones_replaced(
    store: ArticleStore, site: NewsSite
) -> None:
    url = site.add("/ferry.html", news_page("Night ferry cancelled", "2019-06-02", "A. B", FERRY))
    assert ingest(store, urls=[url]).report.added == [url]
    assert ingest(store, urls=[url + "#comments"]).report.unchanged == [url]
    site.add("/ferry.html", news_page("Night ferry cancelled", "2019-06-02", "A. B", FERRY[:1]))
    report = ingest(store, urls=[url]).report
    assert report.updated == [url] and report.chunks_removed > 0
    assert not any("coaches" in c.text for c in store.all_chunks())


def test_pages_that_fail_are_skipped_with_their_reason(store: ArticleStore, site: NewsSite) -> None:
    bridge = news_page("Kestrel Bridge reopens", "2019-06-03", "C D", BRIDGE)
    good = site.add("/bridge.html", bridge)
    pdf = site.add("/report.pdf", b"%PDF-1.4 binary", "application/pdf")
    empty = site.add("/empty.html", "<html><head><title>x</title></head><body></body></html>")
    gone, slow = site.url + "/gone.html", site.url + "/slow"
    result = ingest(
        store,
        urls=[good, gone, pdf, empty, slow, "http://127.0.0.1:9/closed.html"],
        fetcher=functools.partial(fetch, timeout=1.0),
    )
    reasons = {s.path: s.reason for s in result.skipped}
    assert result.report.added == [good]
    assert reasons[gone] == "HTTP 404 Not Found"
    assert reasons[pdf] == "not a web page (the server sent application/pdf)"
    assert reasons[empty] == "no article text found in the page"
    assert reasons[slow] == "timed out after 1 s"
    assert reasons["http://127.0.0.1:9/closed.html"] == "connection refused"


def test_a_redirected_page_keeps_the_address_it_was_asked_by(
    store: ArticleStore, site: NewsSite
) -> None:
    site.add("/bridge.html", news_page("Kestrel Bridge reopens", "2019-06-03", "C D", BRIDGE))
    asked = site.url + "/redirect/bridge.html"
    assert ingest(store, urls=[asked]).report.added == [asked]
    assert [m["url"] for m in store.sources()] == [site.url + "/bridge.html"]
    assert ingest(store, urls=[asked]).report.unchanged == [asked]


def test_a_feed_adds_only_new_items_on_each_run(store: ArticleStore, site: NewsSite) -> None:
    site.add("/ferry.html", news_page("Night ferry cancelled", "2019-06-02", "A. B", FERRY))
    site.add("/bridge.html", news_page("Kestrel Bridge reopens", "2019-06-03", "C D", BRIDGE))
    items = [("/bridge.html", "Kestrel Bridge reopens"), ("/ferry.html", "Night ferry cancelled")]
    feed = site.add("/feed.xml", rss(site.url, items), RSS)

    first = ingest(store, feeds=[feed])
    assert sorted(first.report.added) == [site.url + "/bridge.html", site.url + "/ferry.html"]
    assert first.feeds[0].known == 0 and not first.skipped

    site.add("/tram.html", news_page("Airport tram line", "2019-06-04", "E F", TRAIN))
    site.add("/feed.xml", rss(site.url, [("/tram.html", "Airport tram line"), *items]), RSS)
    site.fetched.clear()
    second = ingest(store, feeds=[feed])
    assert second.report.added == [site.url + "/tram.html"] and second.report.unchanged == []
    assert second.feeds[0].new == [site.url + "/tram.html"] and second.feeds[0].known == 2
    assert site.fetched == ["/feed.xml", "/tram.html"]  # known items are not fetched again
    assert len(store.sources()) == 3


def test_a_broken_feed_is_a_skip_with_its_reason(store: ArticleStore, site: NewsSite) -> None:
    page = site.url + "/story.html"
    result = ingest(store, feeds=[page, site.url + "/none.xml"])
    reasons = [s.reason for s in result.skipped]
    assert reasons == ["feed: not a feed (the server sent text/html)", "feed: HTTP 404 Not Found"]


def test_cli_ingests_a_url_and_cites_it_with_title_date_and_link(
    site: NewsSite, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    url = site.url + "/story.html"
    result = qabot(data, "ingest", url, site.url + "/missing.html")
    assert result.returncode == 1, result.stderr  # one page failed: the exit code says so
    assert "1 added" in result.stdout
    assert f"Skipped {site.url}/missing.html: HTTP 404 Not Found" in result.stderr

    answer = qabot(data, "ask", "--json", FATAH, env={"QABOT_DOCS": str(tmp_path / "none")})
    assert answer.returncode == 0, answer.stderr
    out = json.loads(answer.stdout)
    assert out["grounded"] and "Hadi al-Amiri" in out["answer"]
    [cited] = {(c["title"], c["url"], c["published"], c["source"]) for c in out["citations"]}
    assert cited == ("Iran wants joint military exercises with Iraq", url, "2019-05-27", url)

    # a feed through the command line (from the environment): its new item only, twice
    site.add("/tram.html", news_page("Airport tram line", "2019-06-04", "E F", TRAIN))
    feed = site.add("/feed.xml", rss(site.url, [("/tram.html", "T"), ("/story.html", "S")]), RSS)
    for added in ("1 added", "0 added"):
        run = qabot(data, "ingest", env={"QABOT_INGEST_FEED": feed})
        assert run.returncode == 0 and run.stdout.startswith(added), run.stdout + run.stderr
        known = "0 new, 2 already indexed" if added == "0 added" else "1 new, 1 already indexed"
        assert f"Feed {feed}: {known}." in run.stderr

    shown = qabot(data, "ask", FATAH).stdout.splitlines()
    about = "    " + " \u00b7 ".join(
        ["Iran wants joint military exercises with Iraq", "The Regional Ledger", "2019-05-27"]
    )
    at = shown.index(about)  # under the quote: title, site and date, then the link
    assert shown[at - 1].endswith("\u201d") and shown[at + 1] == f"    {url}"
