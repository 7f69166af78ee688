"""A fake OpenAI-compatible chat server: streams a set reply as SSE chunks, or misbehaves on
demand (HTTP 500 or 429, garbage, too slow to answer, or a stream cut off half-way)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("ok", "500", "429", "garbage", "slow", "cut")


class FakeOpenAIChat:
    """POST /v1/chat/completions. `reply` is streamed word by word, `delay` seconds apart.

    `mode` switches the behaviour of every following request: "ok"; "500"; "429" (with a
    `Retry-After` of `retry_after` seconds); "garbage" (HTTP 200 with a body that is not an
    event stream of chunks); "slow" (no response until `stall` seconds have passed, or the
    server stops); "cut" (half the reply, then the connection is dropped). `failing = True`
    is the same as mode "500". `times` records when each request arrived."""

    def __init__(self, reply: str = "", delay: float = 0.0) -> None:
        self.reply, self.delay = reply, delay
        self.mode = "ok"
        self.retry_after = 1
        self.stall = 30.0
        self.requests: list[dict[str, Any]] = []
        self.times: list[float] = []
        self._stop = threading.Event()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def settings(self) -> dict[str, str]:
        """The environment that points qabot's openai backend at this server."""
        return {
            "QABOT_BACKEND": "openai",
            "OPENAI_BASE_URL": self.url,
            "OPENAI_API_KEY": "sk-test-not-a-real-key",
            "QABOT_OPENAI_MODEL": "fake-model",
            "QABOT_TIMEOUT": "5",
        }

    @property
    def failing(self) -> bool:
        return self.mode == "500"

    @failing.setter
    def failing(self, value: bool) -> None:
        self.mode = "500" if value else "ok"

    def start(self) -> FakeOpenAIChat:
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()  # releases stalled requests
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                fake.requests.append(body)
                fake.times.append(time.monotonic())
                mode = fake.mode
                if mode in ("500", "429") or not self.path.endswith("/chat/completions"):
                    status = 429 if mode == "429" else 500
                    kind = "rate_limit_exceeded" if status == 429 else "server_error"
                    headers = {"Retry-After": str(fake.retry_after)} if status == 429 else {}
                    data = json.dumps({"error": {"message": "down", "type": kind}})
                    self._plain(status, data, "application/json", headers)
                    return
                if mode == "slow":
                    fake._stop.wait(fake.stall)
                    self.close_connection = True
                    return
                if mode == "garbage":
                    self._plain(
                        200,
                        "data: {not json\n\n<html>502 Bad Gateway</html>\n\n",
                        "text/event-stream",
                    )
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                pieces = re.findall(r"\s*\S+", fake.reply)
                if mode == "cut":
                    pieces = pieces[: len(pieces) // 2]
                for piece in pieces:
                    self._event({"delta": {"content": piece}, "finish_reason": None})
                    time.sleep(fake.delay)
                if mode == "cut":  # the server dies mid-answer: the connection is reset
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
                    self.close_connection = True
                    return
                self._event({"delta": {}, "finish_reason": "stop"})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _plain(
                self, status: int, data: str, kind: str, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data.encode())))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data.encode())

            def _event(self, choice: dict[str, Any]) -> None:
                chunk = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": "fake",
                    "choices": [{"index": 0, **choice}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

        return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
