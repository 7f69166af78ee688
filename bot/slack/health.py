"""A small HTTP server for operations, in either mode: GET /health (JSON) and GET /metrics
(Prometheus), on QABOT_HEALTH_PORT. The Slack endpoint itself stays in bot.slack.http."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.slack.metrics import Metrics

log = logging.getLogger(__name__)


def start_health_server(
    host: str, port: int, health: Callable[[], dict[str, Any]], metrics: Metrics
) -> ThreadingHTTPServer:
    """Serve /health and /metrics in a daemon thread; returns the server (bound, running)."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "qabot"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %s", self.address_string(), format % args)

        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            if path == "/health":
                status = health()
                code = 200 if status.get("ok") else 503
                self._send(code, json.dumps(status).encode(), "application/json")
            elif path == "/metrics":
                self._send(200, *metrics.render())
            else:
                self._send(404, b"not found", "text/plain")

        def _send(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, args=(0.2,), name="qabot-health", daemon=True
    ).start()
    return server
