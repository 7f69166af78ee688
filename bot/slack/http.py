"""HTTP mode: the Events API endpoint (signature-verified by Bolt) and /health, threaded."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY = 1024 * 1024


def make_server(
    app: Any, host: str, port: int, health: Callable[[], dict[str, Any]]
) -> ThreadingHTTPServer:
    """A threaded server: POST /slack/events (events, commands and clicks) and GET /health.
    Invalid or stale signatures get 401 from Bolt's request verification."""
    from slack_bolt.request import BoltRequest

    class Handler(BaseHTTPRequestHandler):
        server_version = "qabot"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %s", self.address_string(), format % args)

        def do_GET(self) -> None:
            if self.path.partition("?")[0] == "/health":
                self._send(200, json.dumps(health()), "application/json")
            else:
                self._send(404, "not found")

        def do_POST(self) -> None:
            path, _, query = self.path.partition("?")
            if path != EVENTS_PATH:
                self._send(404, "not found")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, "too large")
                return
            body = self.rfile.read(length).decode("utf-8", errors="replace")
            headers: dict[str, str | Sequence[str]] = {
                k.lower(): v for k, v in self.headers.items()
            }
            resp = app.dispatch(BoltRequest(body=body, query=query, headers=headers))
            content_type = (resp.headers.get("content-type") or ["text/plain"])[0]
            self._send(resp.status, resp.body or "", content_type)

        def _send(self, status: int, body: str, content_type: str = "text/plain") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return _Server((host, port), Handler)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default of 5 resets connections when Slack sends a burst
