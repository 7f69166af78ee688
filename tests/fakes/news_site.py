"""A news site on 127.0.0.1: saved pages and feeds served as a real site would (content types,
redirects, 404s, a page that never finishes), and a record of what was fetched."""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

NEWS = Path(__file__).resolve().parent.parent / "data" / "news"
HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"


def news_page(title: str, published: str, author: str, paragraphs: list[str]) -> str:
    """A story inside the site's chrome (cookie banner, menu, related stories, sidebar, footer),
    built from the saved page so every story looks like the real one."""
    saved = (NEWS / "story.html").read_text(encoding="utf-8")
    head, rest = saved.split('<div class="story-body">', 1)
    _, tail = rest.split("</div>\n      <footer", 1)
    body = "\n".join(f"        <p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
    page = f'{head}<div class="story-body">\n{body}\n      </div>\n      <footer{tail}'
    old_title = "Iran wants joint military exercises with Iraq"
    page = page.replace(old_title, html.escape(title)).replace("2019-05-27", published)
    return page.replace("Seth J. Frantzman", author).replace('<link rel="canonical"', "<link")


def rss(site: str, items: list[tuple[str, str]]) -> str:
    """An RSS 2.0 feed listing (path, title) items of the site, newest first."""
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{site}{p}</link>"
        f'<guid isPermaLink="true">{site}{p}</guid><pubDate>Mon, 03 Jun 2019 08:00:00 GMT'
        "</pubDate><description>&lt;p&gt;A summary.&lt;/p&gt;</description></item>"
        for p, t in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>The Regional Ledger</title><link>{site}/</link>"
        f"<description>World news</description>{entries}</channel></rss>"
    )


class NewsSite:
    """`pages[path] = (status, content type, body)`; `/redirect/<path>` answers 301 to `<path>`,
    `/slow` never finishes its body. `fetched` lists every path requested."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, str, bytes]] = {}
        self.fetched: list[str] = []
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, path: str, body: str | bytes, content_type: str = HTML, status: int = 200) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.pages[path] = (status, content_type, data)
        return self.url + path

    def start(self) -> NewsSite:
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                site.fetched.append(self.path)
                if self.path.startswith("/redirect/"):
                    self.send_response(301)
                    self.send_header("Location", self.path.removeprefix("/redirect"))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path == "/slow":
                    self.send_response(200)
                    self.send_header("Content-Type", HTML)
                    self.end_headers()
                    self.wfile.write(b"<html><body><p>The first words")
                    self.wfile.flush()
                    site._stop.wait(30)
                    return
                status, kind, data = site.pages.get(
                    self.path, (404, HTML, b"<html><body><h1>Page not found</h1></body></html>")
                )
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
