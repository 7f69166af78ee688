"""`qabot slack --http` against what the internet sends (issue #14): the cases by name, then
hypothesis over bodies, content types, signatures, Content-Length, methods and paths, sent over
raw sockets to the real process on loopback. Every answer is a status below 500 (unsigned:
401), the process stays up and logs no traceback, and a real question is answered afterwards."""

from __future__ import annotations

import itertools
import json
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from fakes import hostile
from fakes import slack_requests as sr
from fakes.stack import SIGNING_SECRET, SlackStack, running_bot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.gate import MAX_BODY

FATAH = "Who runs the Fatah Alliance?"
EVENTS = "/slack/events"
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SIGNED_OR_NOT = st.just("valid") | hostile.SIGNATURES  # half of them validly signed


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackStack]:
    with running_bot(tmp_path_factory.mktemp("slack-http-hostile"), http=True) as stack:
        yield stack


def request(
    method: str, path: str, headers: dict[str, str], body: bytes = b"", length: str | None = "auto"
) -> bytes:
    """An HTTP/1.1 request as bytes; `length` is the Content-Length header (None: none)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if length is not None:
        lines.append(f"Content-Length: {len(body) if length == 'auto' else length}")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return "\r\n".join([*lines, "", ""]).encode("latin-1") + body


def exchange(stack: SlackStack, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `raw`, close our side, read the whole response: status, headers, body."""
    address = urlsplit(stack.events_url)
    with socket.create_connection((address.hostname, address.port), timeout=15) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        data = b"".join(iter(lambda: sock.recv(65536), b""))
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def signed(body: bytes, content_type: str | None = "application/json") -> dict[str, str]:
    headers = hostile.signature_headers("valid", body, SIGNING_SECRET)
    return {**headers, "Content-Type": content_type} if content_type else headers


def post(stack: SlackStack, body: bytes, headers: dict[str, str], **kw: str | None) -> int:
    return exchange(stack, request("POST", EVENTS, headers, body, **kw))[0]


def still_serving(stack: SlackStack, channel: str) -> None:
    """The process is up, never logged a traceback, and answers a real question."""
    assert stack.bot.proc.poll() is None
    body, kind = sr.json_body(sr.event_callback(sr.mention(channel, "1.000001", FATAH)))
    assert stack.post(body, kind)[0] == 200
    [reply] = stack.replies(channel, "1.000001")
    assert "Hadi al-Amiri" in reply["text"]
    assert "Traceback" not in stack.bot.log()


def warnings(stack: SlackStack) -> list[str]:
    return stack.bot.log_lines("WARNING")


NOT_UTF8 = b'{"type": "url_verification", "challenge": "\xff\xfe"}'
NO_CHANNEL = json.dumps(sr.event_callback({"type": "app_mention", "ts": "1.1", "text": "x"}))
# (what, request, status, one warning line logged)
CASES: list[tuple[str, Callable[[], bytes], int, bool]] = [
    ("unsigned, not JSON", lambda: request("POST", EVENTS, {}, b"not json"), 401, False),
    ("signed, not JSON", lambda: request("POST", EVENTS, signed(b"{x"), b"{x"), 400, True),
    ("unsigned, JSON array", lambda: request("POST", EVENTS, {}, b"[1]"), 401, False),
    ("signed, JSON array", lambda: request("POST", EVENTS, signed(b"[1]"), b"[1]"), 400, True),
    (
        "signed, form payload not JSON",
        lambda: request("POST", EVENTS, signed(b"payload=x", hostile.FORM_TYPE), b"payload=x"),
        400,
        True,
    ),
    ("unsigned, not UTF-8", lambda: request("POST", EVENTS, {}, NOT_UTF8), 401, False),
    ("signed, not UTF-8", lambda: request("POST", EVENTS, signed(NOT_UTF8), NOT_UTF8), 400, True),
    (
        "signed, text/plain",
        lambda: request("POST", EVENTS, signed(b"{}", "text/plain"), b"{}"),
        415,
        True,
    ),
    (
        "signed mention without a channel",
        lambda: request("POST", EVENTS, signed(NO_CHANNEL.encode()), NO_CHANNEL.encode()),
        400,
        True,
    ),
    (
        "no Content-Length",
        lambda: request("POST", EVENTS, signed(b"{}"), b"{}", length=None),
        411,
        False,
    ),
    (
        "chunked",
        lambda: request("POST", EVENTS, {"Transfer-Encoding": "chunked"}, b"0\r\n\r\n", None),
        411,
        False,
    ),
    ("Content-Length abc", lambda: request("POST", EVENTS, {}, b"{}", length="abc"), 400, False),
    ("Content-Length -2", lambda: request("POST", EVENTS, {}, b"{}", length="-2"), 400, False),
    (
        "Content-Length twice",
        lambda: request("POST", EVENTS, {"Content-Length": "3"}, b"{}", length="2"),
        400,
        False,
    ),
    ("body cut short", lambda: request("POST", EVENTS, {}, b"{}", length="100"), 400, False),
    ("GET the events URL", lambda: request("GET", EVENTS, {}, length=None), 405, False),
    ("PUT the events URL", lambda: request("PUT", EVENTS, {}, b"{}"), 405, False),
    ("BREW the events URL", lambda: request("BREW", EVENTS, {}, b"{}"), 405, False),
    ("POST /health", lambda: request("POST", "/health", {}, b"{}"), 405, False),
    ("unknown path", lambda: request("POST", "/wp-login.php", {}, b"{}"), 404, False),
]


@pytest.mark.parametrize(
    ("request_bytes", "status", "warns"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_hostile_requests_get_4xx_and_at_most_one_warning_line(
    slack: SlackStack, request_bytes: Callable[[], bytes], status: int, warns: bool
) -> None:
    before = len(warnings(slack))
    got, headers, body = exchange(slack, request_bytes())
    assert got == status and body  # the body says why, in a few words
    if status == 405:
        assert headers["allow"] in ("GET", "POST")
    new = warnings(slack)[before:]
    assert len(new) == warns and all("refused" in line for line in new), new
    assert "Traceback" not in slack.bot.log()


def test_an_oversized_body_gets_413_before_it_is_sent(slack: SlackStack) -> None:
    head = request("POST", EVENTS, signed(b""), b"{" * 1000, length=str(MAX_BODY + 1))
    assert exchange(slack, head)[0] == 413  # only 1000 of the 1 MiB were ever sent


def test_url_verification_and_health_still_work(slack: SlackStack) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "chal-9", "token": "t"}).encode()
    status, _, text = exchange(slack, request("POST", EVENTS, signed(body), body))
    assert status == 200 and json.loads(text) == {"challenge": "chal-9"}
    status, _, text = exchange(slack, request("GET", "/health", {}, length=None))
    assert status == 200 and json.loads(text)["ok"] is True


def test_fuzz_bodies_content_types_and_signatures(slack: SlackStack) -> None:
    classes = hostile.bodies(slack.api.response_url("fuzz"))
    tried: Counter[str] = Counter()

    @FUZZ
    @given(
        data=st.data(),
        mode=SIGNED_OR_NOT,
        garbage=hostile.HEADER_TEXT,
        other_type=hostile.CONTENT_TYPES,
    )
    def one(data: st.DataObject, mode: str, garbage: str, other_type: str | None) -> None:
        name = data.draw(st.sampled_from(sorted(classes)), label="class")
        body, natural = data.draw(classes[name], label="body")
        content_type = data.draw(st.sampled_from([natural, other_type]), label="content type")
        headers = hostile.signature_headers(mode, body, SIGNING_SECRET, garbage)
        if content_type is not None:
            headers["Content-Type"] = content_type
        status = post(slack, body, headers)
        tried.update([name, f"{'signed' if mode == 'valid' else 'unsigned'} {status}"])
        assert status == 401 if mode != "valid" else status in (200, 400, 404, 415)
        assert slack.bot.proc.poll() is None

    one()
    print(f"requests tried: {dict(sorted(tried.items()))}")  # the figures in reliability.md
    assert set(classes) <= set(tried) and {"signed 200", "signed 400"} <= set(tried)
    still_serving(slack, "CAFTERBODIES")


LENGTHS = (
    st.sampled_from(["abc", "-1", "1.5", " 5", "5, 5", "0x10", "1e3", "9" * 30, str(MAX_BODY + 1)])
    | hostile.HEADER_TEXT
    | st.integers(0, 2**70).map(str)
    | st.none()
)


def mostly(choices: list[str], other: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """One of `choices`, or now and then anything `other` draws."""
    return st.tuples(st.sampled_from([*choices, None]), other).map(lambda t: t[0] or t[1])


TOKEN = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)
METHODS = mostly(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"], TOKEN)
PATHS = mostly([EVENTS, "/health", f"{EVENTS}?ssl_check=1", "/health?x=1"], TOKEN.map("/{}".format))


def expected_route_status(method: str, path: str) -> tuple[int, str | None]:
    """404 off the two routes, 405 (and the Allow header) for another method, else 0."""
    route = "/" + path.partition("?")[0].lstrip("/")  # http.server reads "//x" as "/x"
    allowed = {EVENTS: "POST", "/health": "GET"}.get(route)
    if allowed is None:
        return 404, None
    return (405, allowed) if method != allowed else (0, None)


def test_every_method_on_every_route(slack: SlackStack) -> None:
    methods = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "BREW"]
    paths = [EVENTS, f"{EVENTS}?x=1", "/health", "/", "/slack", f"{EVENTS}/", "/Health"]
    for method, path in itertools.product(methods, paths):
        status, headers, _ = exchange(slack, request(method, path, {}, b"{}"))
        expected, allow = expected_route_status(method, path)
        assert (status, headers.get("allow")) == (
            (expected, allow) if expected else (401 if method == "POST" else 200, None)
        ), (method, path)


def test_fuzz_methods_and_paths(slack: SlackStack) -> None:
    tried: Counter[int] = Counter()

    @FUZZ
    @given(method=METHODS, path=PATHS, body=st.binary(max_size=64), mode=SIGNED_OR_NOT)
    def one(method: str, path: str, body: bytes, mode: str) -> None:
        headers = hostile.signature_headers(mode, body, SIGNING_SECRET, "x")
        status, reply_headers, _ = exchange(slack, request(method, path, headers, body))
        tried[status] += 1
        expected, allow = expected_route_status(method, path)
        if expected:
            assert (status, reply_headers.get("allow")) == (expected, allow)
        else:  # signed or not, these random bytes are never what Slack sends
            assert status in (200, 400, 401, 415)
        assert slack.bot.proc.poll() is None

    one()
    print(f"statuses: {dict(sorted(tried.items()))}")  # the figures in reliability.md
    assert {404, 405} <= set(tried)
    still_serving(slack, "CAFTERPATHS")


def test_fuzz_content_length(slack: SlackStack) -> None:
    tried: Counter[int] = Counter()

    @FUZZ
    @given(length=LENGTHS, body=st.binary(max_size=64), mode=SIGNED_OR_NOT)
    def one(length: str | None, body: bytes, mode: str) -> None:
        headers = hostile.signature_headers(mode, body, SIGNING_SECRET, "x")
        status = post(slack, body, headers, length=length)
        tried[status] += 1
        assert status == 411 if length is None else status in (400, 401, 413, 415)
        assert slack.bot.proc.poll() is None

    one()
    print(f"statuses: {dict(sorted(tried.items()))}")  # the figures in reliability.md
    assert {400, 401, 411, 413} <= set(tried)
    still_serving(slack, "CAFTERLENGTHS")
