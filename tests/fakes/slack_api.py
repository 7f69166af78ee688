"""A fake Slack Web API on 127.0.0.1: answers POST /api/<method>, keeps the messages it was
sent (as Slack would show them, streamed ones too) and the people's posts it is told of,
serves threads back (conversations.replies), records every call, can answer 429 with
Retry-After, and can lack methods (`missing`) as an older workspace or plan would."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Call:
    method: str  # a Web API method, or "response_url"
    params: dict[str, Any]
    status: int = 200
    at: float = field(default_factory=time.monotonic)
    token: str = ""


class FakeSlackApi:
    def __init__(
        self, bot_token: str = "", app_token: str = "", user_id: str = "UBOT", bot_id: str = "BBOT"
    ) -> None:
        self.bot_token, self.app_token = bot_token, app_token
        self.user_id, self.bot_id = user_id, bot_id
        self.socket_url = ""
        self.calls: list[Call] = []
        self.missing: set[str] = set()  # methods answered with "unknown_method"
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # the bot's
        self.posts: dict[tuple[str, str], dict[str, Any]] = {}  # people's (see `record_post`)
        self._order = itertools.count()  # every message's place in time
        self._failures: dict[str, list[tuple[int, int]]] = {}
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/api/"

    # -- control -------------------------------------------------------------------------
    def start(self) -> FakeSlackApi:
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def response_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    def record_post(self, event: dict[str, Any]) -> dict[str, Any]:
        """Keep a person's post (an event the test is about to deliver), as Slack would have
        it in the channel; returns the event."""
        with self._lock:
            message = {k: event[k] for k in ("user", "text", "ts", "thread_ts") if k in event}
            self.posts[(event["channel"], event["ts"])] = {
                "type": "message", **message, "_seq": next(self._order)
            }  # fmt: skip
        return event

    def fail_next(self, method: str, status: int = 429, retry_after: int = 1) -> None:
        """The next call of `method` gets `status` (429: with Retry-After)."""
        with self._lock:
            self._failures.setdefault(method, []).append((status, retry_after))

    # -- what happened -------------------------------------------------------------------
    def calls_to(self, method: str, ok_only: bool = True) -> list[Call]:
        with self._lock:
            return [
                c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)
            ]

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The bot's messages in a thread, as they look now (after every update)."""
        with self._lock:
            return [
                m for (ch, _), m in self.messages.items()
                if ch == channel and m.get("thread_ts") == thread_ts
            ]  # fmt: skip

    def responses(self, name: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls_to("response_url") if c.params["_name"] == name]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout} s; calls: {self.summary()}")

    def summary(self) -> list[str]:
        with self._lock:
            return [f"{c.method}:{c.status}" for c in self.calls[-30:]]

    # -- the API -------------------------------------------------------------------------
    def _answer(self, method: str, params: dict[str, Any], token: str) -> tuple[int, dict, dict]:
        with self._lock:
            failures = self._failures.get(method)
            if failures:
                status, retry_after = failures.pop(0)
                self.calls.append(Call(method, params, status, token=token))
                return (
                    status,
                    {"Retry-After": str(retry_after)},
                    {"ok": False, "error": "ratelimited"},
                )
            self.calls.append(Call(method, params, token=token))
            expected = self.app_token if method == "apps.connections.open" else self.bot_token
            if expected and token != expected:
                return 200, {}, {"ok": False, "error": "invalid_auth"}
            return 200, {}, self._result(method, params)

    def _result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": self.user_id, "bot_id": self.bot_id, "team_id": "T1"}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if method in self.missing:
            return {"ok": False, "error": "unknown_method"}
        channel = str(params.get("channel") or params.get("channel_id") or "")
        if method.endswith("Stream"):
            return self._stream(method, channel, params)
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            self.messages[(channel, ts)] = {
                **params, "ts": ts, "user": self.user_id, "bot_id": self.bot_id,
                "_seq": next(self._order),
            }  # fmt: skip
            return {"ok": True, "channel": channel, "ts": ts}
        if method == "chat.update":
            key = (channel, str(params.get("ts")))
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            changed = {k: params.get(k) for k in ("text", "blocks", "metadata") if k in params}
            self.messages[key].update(changed)
            return {"ok": True, "channel": channel, "ts": key[1]}
        if method == "conversations.replies":
            return {"ok": True, "messages": self._replies(channel, str(params.get("ts"))),
                    "has_more": False}  # fmt: skip
        return {"ok": True}

    def _replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """A thread as Slack serves it: the parent first, then the replies in order."""
        found = [
            m for (ch, ts), m in [*self.messages.items(), *self.posts.items()]
            if ch == channel and thread_ts in (ts, m.get("thread_ts"))
        ]  # fmt: skip
        found.sort(key=lambda m: (m["ts"] != thread_ts, m["_seq"]))
        keep = ("type", "user", "bot_id", "text", "blocks", "ts", "thread_ts", "metadata")
        return [{k: m[k] for k in keep if m.get(k) is not None} for m in found]

    def _stream(self, method: str, channel: str, params: dict[str, Any]) -> dict[str, Any]:
        """chat.startStream / appendStream / stopStream: one message whose text grows by the
        markdown of each call, marked `streaming` until it is stopped."""
        chunks = [c for c in params.get("chunks") or [] if c.get("type") == "markdown_text"]
        text = str(params.get("markdown_text") or "") + "".join(c["text"] for c in chunks)
        if method == "chat.startStream":
            if not params.get("thread_ts"):
                return {"ok": False, "error": "invalid_arguments"}
            ts = f"1700000000.{next(self._ts):06d}"
            self.messages[(channel, ts)] = {
                "channel": channel, "thread_ts": params["thread_ts"], "ts": ts, "text": text,
                "user": self.user_id, "streaming": True, "_seq": next(self._order),
            }  # fmt: skip
            return {"ok": True, "channel": channel, "ts": ts}
        message = self.messages.get((channel, str(params.get("ts"))))
        if message is None or not message.get("streaming"):
            return {"ok": False, "error": "message_not_in_streaming_state"}
        message["text"] += text
        if method == "chat.stopStream":
            message.update(streaming=False, blocks=params.get("blocks") or [])
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[-1] for k, v in parse_qs(raw).items()}
                if isinstance(params.get("blocks"), str):
                    params["blocks"] = json.loads(params["blocks"])
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if self.path.startswith("/respond/"):
                    params["_name"] = self.path.removeprefix("/respond/")
                    with fake._lock:
                        fake.calls.append(Call("response_url", params))
                    self._send(200, {}, b"ok")
                    return
                method = self.path.removeprefix("/api/")
                status, headers, body = fake._answer(method, params, token)
                self._send(status, headers, json.dumps(body).encode())

            def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
