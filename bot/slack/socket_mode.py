"""Socket Mode: Bolt's handler, with every message checked before the SDK parses it. A malformed
one is acked when it has an envelope_id, ignored with one warning line, and the socket stays."""

from __future__ import annotations

import json
import logging
import socket
import threading
from time import time
from typing import Any

from bot.errors import ConfigError
from bot.slack.gate import payload_problem

log = logging.getLogger(__name__)

CONTROL_TYPES = {"hello", "disconnect"}  # Slack's messages without an envelope
ACKED_ON_ARRIVAL = "events_api"  # an event's ack carries nothing; others may carry a reply
HELLO_TIMEOUT = 30.0  # seconds for Slack's "hello" on a new connection


def envelope_problem(message: Any) -> str | None:
    """Why a parsed Socket Mode message cannot be handed to Bolt, or None."""
    if not isinstance(message, dict):
        return "not a JSON object"
    if "envelope_id" not in message:
        return None if message.get("type") in CONTROL_TYPES else "no envelope_id"
    if not isinstance(message["envelope_id"], str) or not isinstance(message.get("type"), str):
        return "envelope_id or type of the wrong type"
    if not isinstance(message.get("retry_reason"), str | None):  # Bolt makes it a header
        return "retry_reason of the wrong type"
    problem = payload_problem(message.get("payload"))
    return f"payload: {problem}" if problem else None


class SocketModeHandler:
    """slack_bolt's built-in SocketModeHandler, with messages checked on arrival and an ack for
    every envelope, even when Bolt fails or finds no listener (Slack would retry). An event is
    acked as it arrives, before Bolt or a busy thread can delay it; a slash command or a click
    is acked with Bolt's reply."""

    def __init__(self, app: Any, app_token: str, web_client: Any) -> None:
        self.app = app
        self.client = _checked_client(
            app_token=app_token, logger=app.logger, web_client=web_client,
            proxy=web_client.proxy, ping_interval=10,  # as Bolt's handler
        )  # fmt: skip
        self.client.socket_mode_request_listeners.append(self.handle)

    def connect(self) -> None:
        """Connect, and return once Slack has said hello: from then on envelopes arrive."""
        self.client.hello.clear()
        self.client.connect()
        if not self.client.hello.wait(HELLO_TIMEOUT):
            self.client.close()
            raise ConfigError(
                f"Slack did not greet the Socket Mode connection in {HELLO_TIMEOUT:g} s."
            )

    def close(self) -> None:
        self.client.close()

    def handle(self, client: Any, req: Any) -> None:
        from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response

        start = time()
        try:
            response = run_bolt_app(self.app, req)
        except Exception as exc:  # Bolt's reading of a field the checks do not cover
            log.warning(
                "ignored a Socket Mode %s envelope Bolt cannot read (%s: %s)", req.type,
                type(exc).__name__, exc, exc_info=log.isEnabledFor(logging.DEBUG),
            )  # fmt: skip
            if req.type != ACKED_ON_ARRIVAL:
                ack(client, req.envelope_id)
            return
        if req.type == ACKED_ON_ARRIVAL:
            if response.status != 200:
                log.debug("an acked event got %d from Bolt: %s", response.status, response.body)
        elif response.status == 200:
            send_response(client, req, response, start)
        else:
            ack(client, req.envelope_id)


def ack(client: Any, envelope_id: str) -> None:
    """Acknowledge an envelope, so that Slack does not deliver it again."""
    try:
        client.send_socket_mode_response({"envelope_id": envelope_id})
    except Exception as exc:  # the connection went away; Slack will retry on the next one
        log.warning("could not ack envelope %s (%s)", envelope_id, type(exc).__name__)


def _checked_client(**options: Any) -> Any:
    from slack_sdk.socket_mode.builtin import SocketModeClient

    class CheckedClient(SocketModeClient):
        def __init__(self, **options: Any) -> None:
            self.hello = threading.Event()  # set when Slack greets the latest connection
            super().__init__(**options)

        def connect(self) -> None:
            super().connect()
            sock = self.current_session.sock if self.current_session else None
            if sock is not None:  # each ack is one small frame: send it at once
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def enqueue_message(self, message: str) -> None:
            """Called on the receiving thread for every text frame, before the SDK parses it
            (a frame that is not a JSON object would raise there, with a traceback)."""
            try:
                parsed: Any = json.loads(message)
                problem = envelope_problem(parsed)
            except (ValueError, RecursionError):
                parsed, problem = None, "not JSON"
            if problem is None:
                if parsed.get("type") == ACKED_ON_ARRIVAL:
                    ack(self, parsed["envelope_id"])
                elif parsed.get("type") == "hello":
                    self.hello.set()
                super().enqueue_message(message.strip())  # the SDK only parses "{..."
                return
            log.warning("ignored a Socket Mode message (%s)", problem)
            envelope_id = parsed.get("envelope_id") if isinstance(parsed, dict) else None
            if isinstance(envelope_id, str):
                ack(self, envelope_id)

    return CheckedClient(**options)
