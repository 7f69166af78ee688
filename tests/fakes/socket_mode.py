"""A fake Socket Mode server: a websocket on 127.0.0.1 that says hello, pushes envelopes
(events, slash commands, clicks) and records the client's acks."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve


class FakeSocketMode:
    def __init__(self) -> None:
        self.connections: list[ServerConnection] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.sent_at: dict[str, float] = {}
        self.acked_at: dict[str, float] = {}
        self.ack_counts: Counter[str] = Counter()  # Slack takes the first ack of an envelope
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = serve(self._session, "127.0.0.1", 0, ping_interval=None)
        self.port = self._server.socket.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/link/?ticket=fake"

    def start(self) -> FakeSocketMode:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def _session(self, ws: ServerConnection) -> None:
        with self._lock:
            self.connections.append(ws)
        ws.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {}}))
        try:
            for raw in ws:
                data = json.loads(raw)
                if "envelope_id" in data:
                    with self._lock:
                        self.acked_at.setdefault(data["envelope_id"], time.monotonic())
                        self.acks.setdefault(data["envelope_id"], data)
                        self.ack_counts[data["envelope_id"]] += 1
        except ConnectionClosed:
            pass  # the bot stopped

    def wait_connected(self, timeout: float = 60.0) -> None:
        self._wait(lambda: self.connections, timeout, "no Socket Mode connection")

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        return self._wait(lambda: self.acks.get(envelope_id), timeout, f"no ack of {envelope_id}")

    def _wait(self, predicate: Any, timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(f"{what} within {timeout} s")

    # -- pushing envelopes ---------------------------------------------------------------
    def send(self, frame: str | bytes) -> None:
        """Send any frame on the latest connection: text (a str) or binary (bytes)."""
        self.connections[-1].send(frame)

    def push(self, kind: str, payload: dict[str, Any], retry_attempt: int = 0) -> str:
        """Send an envelope on the latest connection; returns its envelope_id."""
        envelope_id = f"env-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        self.sent_at[envelope_id] = time.monotonic()
        self.send(json.dumps(envelope))
        return envelope_id

    def event(self, body: dict[str, Any], retry_attempt: int = 0) -> str:
        return self.push("events_api", body, retry_attempt)

    def command(self, fields: dict[str, Any]) -> str:
        return self.push("slash_commands", fields)

    def interactive(self, payload: dict[str, Any]) -> str:
        return self.push("interactive", payload)
