"""HTTP mode: the Events API endpoint and /health as a function of the request (the gate, then
Bolt), whatever server carries it; and the threaded stdlib server that runs it by default."""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.slack.gate import HEALTH_PATH, Gate, Rejection

log = logging.getLogger(__name__)

READ_TIMEOUT = 10.0  # seconds a client may take to send its request; then the connection closes


@dataclass(frozen=True)
class Reply:
    """What the endpoint answers."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)
    close: bool = False  # the body was not read, so the connection cannot carry another request
    then: Callable[[], object] | None = None  # the work left once this reply has been sent


class Endpoint:
    """POST /slack/events and GET /health. Anything else, anything unsigned or malformed, gets
    a 4xx with a short reason before Bolt sees it; what Bolt still fails on gets a 400."""

    def __init__(self, app: Any, gate: Gate, health: Callable[[], dict[str, Any]]) -> None:
        self.app, self.gate, self.health = app, gate, health

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], read: Callable[[int], bytes]
    ) -> Reply:
        """One request: `headers` with lower-case names; `read(n)` returns the body's bytes."""
        path, _, query = target.partition("?")
        refused = self.gate.route(method, path)
        if refused is None and path == HEALTH_PATH:
            return Reply(200, json.dumps(self.health()), "application/json")
        length = refused or self.gate.body_length(headers)
        if isinstance(length, Rejection):
            return self._refuse(method, path, length, close=True)
        try:
            raw = read(length)
        except OSError:  # the client stalled past READ_TIMEOUT or went away
            return self._refuse(method, path, Rejection(408, "body not received"), close=True)
        if len(raw) < length:
            return self._refuse(method, path, Rejection(400, "incomplete body"), close=True)
        body = self.gate.admit(headers, raw)
        if isinstance(body, Rejection):  # past a 401, only a holder of the secret: a warning
            return self._refuse(method, path, body, warn=body.status != 401)
        if json.loads(body).get("type") == "event_callback":
            # An event's ack is an empty 200 whatever Bolt makes of it: sent before Bolt runs,
            # so that the ack never waits for Bolt's middleware or a busy thread.
            return Reply(200, "", then=lambda: self._dispatch(body, query, headers, acked=True))
        return self._dispatch(body, query, headers)

    def _dispatch(
        self, body: str, query: str, headers: Mapping[str, str], acked: bool = False
    ) -> Reply:
        """Bolt's reply to a request; `acked`: the client already has its reply (an event)."""
        from slack_bolt.request import BoltRequest

        try:  # the gate hands Bolt the body as JSON, whatever it was sent as
            request = BoltRequest(
                body=body, query=query, headers={**headers, "content-type": "application/json"}
            )
            response = self.app.dispatch(request)
        except Exception as exc:  # what Bolt still fails on past the gate's checks
            log.warning(
                "refused a signed request Bolt cannot handle (%s: %s)", type(exc).__name__, exc,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )  # fmt: skip
            return Reply(400, "bad request")
        if acked and response.status != 200:
            log.debug("an acked event got %d from Bolt: %s", response.status, response.body)
        content_type = (response.headers.get("content-type") or ["text/plain"])[0]
        return Reply(response.status, response.body or "", content_type)

    def _refuse(
        self, method: str, path: str, refused: Rejection, close: bool = False, warn: bool = False
    ) -> Reply:
        level = logging.WARNING if warn else logging.INFO
        log.log(level, "refused %r %r: %d %s", method, path, refused.status, refused.reason)
        return Reply(refused.status, refused.reason, headers=refused.headers, close=close)


def make_server(
    endpoint: Endpoint, host: str, port: int, reuse_port: bool = False
) -> ThreadingHTTPServer:
    """A threaded HTTP/1.1 server that hands every request, whatever its method, to `endpoint`.
    `reuse_port`: one of several worker processes sharing the port (SO_REUSEPORT)."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "qabot"
        protocol_version = "HTTP/1.1"
        timeout = READ_TIMEOUT
        disable_nagle_algorithm = True  # TCP_NODELAY: the reply's last bytes leave at once

        def __getattr__(self, name: str) -> Any:
            # http.server answers 501 to a method it finds no `do_<METHOD>` for; the endpoint
            # answers every method instead (405 with Allow, or 404).
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %s", self.address_string(), format % args)

        def _handle(self) -> None:
            headers = {k.lower(): ", ".join(self.headers.get_all(k, [])) for k in self.headers}
            reply = endpoint.handle(self.command, self.path, headers, self.rfile.read)
            data = reply.body.encode("utf-8")
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.close:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            if reply.then:
                self.wfile.flush()
                reply.then()

    server_class = _SharedPortServer if reuse_port else _Server
    return server_class((host, port), Handler)


class _Server(ThreadingHTTPServer):
    """Each connection handled in its own thread: one of `ready_threads` started in advance
    when one is free (starting a thread per connection made a burst of requests wait for the
    accepting thread, which waits for each new thread to start), else a new one."""

    daemon_threads = True
    request_queue_size = 128  # the default of 5 resets connections when Slack sends a burst
    ready_threads = 32

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handed: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._free = 0  # ready threads waiting for a connection
        self._free_lock = threading.Lock()
        for n in range(self.ready_threads):
            name = f"qabot-http-{n}"
            threading.Thread(target=self._ready_thread, name=name, daemon=True).start()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._free_lock:
            free = self._free > 0
            self._free -= free
        if free:
            self._handed.put((request, client_address))
        else:  # every ready thread is busy (slow clients, a long burst): a new thread
            super().process_request(request, client_address)

    def _ready_thread(self) -> None:
        while True:
            with self._free_lock:
                self._free += 1
            handed = self._handed.get()
            if handed is None:
                return
            self.process_request_thread(*handed)

    def server_close(self) -> None:
        for _ in range(self.ready_threads):
            self._handed.put(None)
        super().server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line instead of socketserver's traceback on stderr (a client that went away)."""
        exc = sys.exc_info()[1]
        log.info(
            "connection from %s failed (%s: %s)", client_address[0], type(exc).__name__, exc,
            exc_info=log.isEnabledFor(logging.DEBUG),
        )  # fmt: skip


class _SharedPortServer(_Server):
    allow_reuse_port = True  # the kernel spreads connections over the workers
