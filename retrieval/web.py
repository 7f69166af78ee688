"""Fetching pages and feeds over HTTP(S): timeouts, a size limit, redirects, a content-type
check, and a reason fit for users whenever a page cannot be had."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlsplit, urlunsplit

USER_AGENT = "qabot/0.1 (news article ingest)"
TIMEOUT = 20.0  # seconds for the whole download
MAX_BYTES = 10 * 1024 * 1024
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/xml",
    "text/xml",
    "application/rdf+xml",
)


class FetchError(Exception):
    """A page that could not be fetched; the message says why, for users."""


@dataclass(frozen=True)
class Page:
    """A downloaded resource: the URL it ended at (after redirects), its type and bytes."""

    url: str
    content_type: str
    charset: str | None
    body: bytes


def is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def normalize(url: str) -> str:
    """The URL without its fragment, and with a path of at least "/": one article, one key."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/",
                       parts.query, ""))  # fmt: skip


def _type(headers: Message) -> tuple[str, str | None]:
    return headers.get_content_type().lower(), headers.get_content_charset()


def fetch(
    url: str,
    accept: tuple[str, ...] = HTML_TYPES,
    timeout: float = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    opener: urllib.request.OpenerDirector | None = None,
) -> Page:
    """GET a URL (following redirects) and return its body; raises FetchError with the reason
    when it fails, is not of an `accept` type, is larger than max_bytes or takes longer than
    `timeout` seconds in all."""
    if not is_url(url):
        raise FetchError("not an http(s) URL")
    request = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept": ", ".join(accept) + ";q=1, */*;q=0.1"}
    )
    deadline = time.monotonic() + timeout
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=timeout) as resp:
            kind, charset = _type(resp.headers)
            if kind not in accept:
                raise FetchError(f"not {_kinds(accept)} (the server sent {kind})")
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                size = int(declared) // 1024
                raise FetchError(f"too large ({size} KiB; limit {_limit(max_bytes)})")
            body = bytearray()
            while chunk := resp.read(64 * 1024):
                body += chunk
                if len(body) > max_bytes:
                    raise FetchError(f"too large (over {_limit(max_bytes)})")
                if time.monotonic() > deadline:
                    raise FetchError(f"timed out after {timeout:g} s")
            return Page(resp.geturl(), kind, charset, bytes(body))
    except FetchError:
        raise
    except urllib.error.HTTPError as exc:
        raise FetchError(f"HTTP {exc.code} {exc.reason}".strip()) from None
    except urllib.error.URLError as exc:
        raise FetchError(_network_reason(exc.reason, timeout)) from None
    except TimeoutError:
        raise FetchError(f"timed out after {timeout:g} s") from None
    except (OSError, ValueError) as exc:  # a connection reset mid-body, a malformed URL
        raise FetchError(_network_reason(exc, timeout)) from None


def _network_reason(reason: object, timeout: float) -> str:
    if isinstance(reason, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, OSError) and reason.strerror:
        return f"cannot connect ({reason.strerror})"
    return f"cannot fetch ({reason})"


def _kinds(accept: tuple[str, ...]) -> str:
    return "a web page" if accept == HTML_TYPES else "a feed"


def _limit(max_bytes: int) -> str:
    return f"{max_bytes // (1024 * 1024)} MiB" if max_bytes >= 1024 * 1024 else f"{max_bytes} bytes"
