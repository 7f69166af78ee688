"""The HTTP endpoint in-process, as any server (threaded, WSGI or ASGI worker) would call it:
a method, a target, headers and a way to read the body; the real Bolt app behind it, with the
fake Web API. What it reads, what it refuses unread, and how failures are logged."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import hostile
from fakes import slack_requests as sr
from fakes.slack_api import FakeSlackApi
from slack_sdk import WebClient

from bot.slack.app import create_app
from bot.slack.dedupe import SeenKeys
from bot.slack.deps import SlackDeps
from bot.slack.feedback import FeedbackStore
from bot.slack.gate import MAX_BODY, Gate
from bot.slack.http import Endpoint, Reply, make_server
from bot.slack.memory import ThreadMemory
from bot.slack.reply import Responder
from bot.slack.worker import AnswerPool

SECRET = "endpoint-test-secret"
TOKEN = "xoxb-endpoint-test"


class Body:
    """A request body that records how much was asked of it, or fails like a stalled client."""

    def __init__(self, data: bytes, fail: Exception | None = None) -> None:
        self.data, self.fail, self.asked = data, fail, []

    def read(self, n: int) -> bytes:
        self.asked.append(n)
        if self.fail:
            raise self.fail
        return self.data[:n]


@pytest.fixture
def seen() -> SeenKeys:
    return SeenKeys()


@pytest.fixture
def endpoint(tmp_path: Path, seen: SeenKeys) -> Iterator[Endpoint]:
    api = FakeSlackApi(TOKEN).start()
    client = WebClient(token=TOKEN, base_url=api.url)
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    responder = Responder(None, client, AnswerPool(1), ThreadMemory(), feedback)
    deps = SlackDeps(client=client, responder=responder, feedback=feedback, seen=seen)
    yield Endpoint(create_app(deps), Gate(SECRET), lambda: {"ok": True})
    responder.pool.shutdown(wait=False)
    api.stop()


def post(endpoint: Endpoint, body: Body, **headers: str) -> Reply:
    return endpoint.handle("POST", "/slack/events?x=1", headers, body.read)


def signed(data: bytes, content_type: str = hostile.JSON_TYPE) -> dict[str, str]:
    headers = hostile.signature_headers("valid", data, SECRET)
    return {
        "content-type": content_type,
        "content-length": str(len(data)),
        **{k.lower(): v for k, v in headers.items()},
    }


def test_a_signed_request_is_read_once_exactly_and_handed_to_bolt(endpoint: Endpoint) -> None:
    data = json.dumps({"type": "url_verification", "challenge": "c-1", "token": "t"}).encode()
    body = Body(data + b"next request")
    reply = post(endpoint, body, **signed(data))
    assert (reply.status, json.loads(reply.body), reply.close) == (200, {"challenge": "c-1"}, False)
    assert reply.content_type.startswith("application/json") and body.asked == [len(data)]


def test_an_event_is_acked_before_bolt_sees_it(endpoint: Endpoint, seen: SeenKeys) -> None:
    # a channel post without a mention: Bolt's dedupe records it, the listener ignores it
    data = json.dumps(sr.event_callback(sr.message("C1", "1.000001", "hi"), "Ev1")).encode()
    reply = post(endpoint, Body(data), **signed(data))
    assert (reply.status, reply.body, reply.close) == (200, "", False)
    assert reply.then is not None and len(seen) == 0  # the server sends the reply, then:
    reply.then()
    assert not seen.first(("event", "Ev1"))


def test_health_is_answered_without_reading(endpoint: Endpoint) -> None:
    body = Body(b"")
    reply = endpoint.handle("GET", "/health", {}, body.read)
    assert (reply.status, json.loads(reply.body)) == (200, {"ok": True}) and body.asked == []


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("POST", "/slack/events", {"content-length": str(MAX_BODY + 1)}, 413),
        ("POST", "/slack/events", {}, 411),
        ("POST", "/slack/events", {"content-length": "x"}, 400),
        ("PUT", "/slack/events", {"content-length": "2"}, 405),
        ("POST", "/elsewhere", {"content-length": "2"}, 404),
    ],
)
def test_refused_before_the_body_is_read_and_the_connection_closed(
    endpoint: Endpoint, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    body = Body(b"{}")
    reply = endpoint.handle(method, path, headers, body.read)
    assert (reply.status, reply.close, body.asked) == (status, True, [])
    assert reply.headers == ({"Allow": "POST"} if status == 405 else {})


def test_a_stalled_or_short_body(endpoint: Endpoint) -> None:
    stalled = post(endpoint, Body(b"", TimeoutError("timed out")), **{"content-length": "5"})
    assert (stalled.status, stalled.close) == (408, True)
    short = post(endpoint, Body(b"{}"), **{"content-length": "5"})
    assert (short.status, short.body, short.close) == (400, "incomplete body", True)


def test_signed_but_malformed_is_one_warning_line(
    endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack")
    unsigned = post(endpoint, Body(b"[1]"), **{"content-length": "3"})
    malformed = post(endpoint, Body(b"[1]"), **signed(b"[1]"))
    assert (unsigned.status, malformed.status) == (401, 400)
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.getMessage() == "refused 'POST' '/slack/events': 400 not a JSON object"
    assert not warning.exc_info


@pytest.mark.parametrize("debug", [False, True])
def test_a_listener_failure_is_one_warning_line_with_the_traceback_only_in_debug(
    endpoint: Endpoint, caplog: pytest.LogCaptureFixture, debug: bool
) -> None:
    caplog.set_level(logging.DEBUG if debug else logging.INFO, logger="bot.slack")
    unreachable = "http://127.0.0.1:9/respond/x"  # the listener's respond() raises
    data = sr.form_body({"payload": json.dumps(sr.click("feedback_up", "a1", "U1", unreachable))})
    reply = post(endpoint, Body(data[0].encode()), **signed(data[0].encode(), data[1]))
    assert reply.status == 200  # acked before the listener failed
    deadline = time.monotonic() + 10
    while not (failed := _records(caplog, "could not handle")) and time.monotonic() < deadline:
        time.sleep(0.02)
    [record] = failed
    assert "block_actions" in record.getMessage() and bool(record.exc_info) == debug


def _records(caplog: pytest.LogCaptureFixture, text: str) -> list[Any]:
    return [r for r in caplog.records if text in r.getMessage()]


def test_a_client_that_went_away_is_one_info_line(
    endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack")
    server = make_server(endpoint, "127.0.0.1", 0)
    try:
        try:
            raise BrokenPipeError(32, "Broken pipe")
        except BrokenPipeError:
            server.handle_error(None, ("203.0.113.9", 4242))  # as socketserver calls it
    finally:
        server.server_close()
    [record] = caplog.records
    assert record.levelno == logging.INFO and not record.exc_info
    assert (
        record.getMessage()
        == "connection from 203.0.113.9 failed (BrokenPipeError: [Errno 32] Broken pipe)"
    )


def test_idle_connections_do_not_hold_up_the_next_request(endpoint: Endpoint) -> None:
    """More silent clients than the server keeps threads ready for: the next request is still
    answered at once (in a thread of its own), not after the silent ones time out."""
    server = make_server(endpoint, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
    host, port = server.server_address[:2]
    idle = [socket.create_connection((host, port)) for _ in range(server.ready_threads + 8)]
    try:
        with socket.create_connection((host, port), timeout=5) as client:
            client.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert client.recv(100).startswith(b"HTTP/1.1 200 ")
    finally:
        for sock in idle:
            sock.close()
        server.shutdown()
        server.server_close()
