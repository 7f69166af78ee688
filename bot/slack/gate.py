"""What a Slack request must be before Bolt sees it: the route and size, then the signature over
the raw bytes, then a body that parses into a JSON object with the fields its kind needs.
No HTTP server and no Bolt here, so any server (threaded, WSGI or ASGI workers) can use it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/health"
ROUTES = {EVENTS_PATH: "POST", HEALTH_PATH: "GET"}
MAX_BODY = 1024 * 1024
MAX_AGE = 5 * 60  # seconds between Slack's timestamp and now; anything older may be a replay
MAX_DEPTH = 40  # JSON nesting; Slack's payloads go about 10 deep

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"

_S, _O, _L = (str,), (dict,), (list,)
# The JSON type of each field that Bolt or the listeners read, wherever they read it (the
# request, its `event`, its `authorizations`). Null is taken as absent (Slack sends null for
# some, e.g. `team` and `enterprise_id` in org-wide installs), except for `event`.
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(
        "type token team_id api_app_id event_id user_id channel_id enterprise_id command text"
        " response_url trigger_id challenge ts thread_ts subtype channel_type bot_id"
        " ssl_check".split(),
        _S,
    ),
    **dict.fromkeys(("team", "user", "channel", "enterprise"), (str, dict)),
    **dict.fromkeys(("event", "view", "assistant_thread", "message", "item"), _O),
    **dict.fromkeys(("authorizations", "actions"), _L),
}
NOT_NULL = {"event"}  # Bolt reads `body.get("event", {}).get("type")`
# The fields each kind of request (or event) needs, present and not empty. Slash commands and
# Slack's SSL checks have no `type`: they are "command" and "ssl_check".
NEEDS: dict[str, dict[str, tuple[type, ...]]] = {
    "url_verification": {"challenge": _S},
    "event_callback": {"event": _O},
    "block_actions": {"actions": _L, "user": _O, "response_url": _S},
    "command": {"command": _S, "user_id": _S, "channel_id": _S, "response_url": _S},
    "ssl_check": {"ssl_check": _S},
    "app_mention": {"channel": _S, "ts": _S},
    "message": {"channel": _S, "ts": _S},
    "assistant_thread_started": {"assistant_thread": _O},
    "assistant_thread_context_changed": {"assistant_thread": _O},
    "assistant_thread": {"channel_id": _S, "thread_ts": _S},
}
ASSISTANT_EVENTS = ("assistant_thread_started", "assistant_thread_context_changed")


@dataclass(frozen=True)
class Rejection:
    """A request refused: the HTTP status, a short reason (the response body), extra headers."""

    status: int
    reason: str
    headers: Mapping[str, str] = field(default_factory=dict)


class Gate:
    """Checks requests to the Events API endpoint. Headers are a mapping with lower-case names
    (repeated headers joined with ", "). In order: `route`, `body_length` (before reading the
    body), then `admit` with the raw bytes, which returns the body as a JSON object's text."""

    def __init__(
        self,
        signing_secret: str,
        max_body: int = MAX_BODY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = signing_secret.encode()
        self.max_body = max_body
        self._clock = clock

    def route(self, method: str, path: str) -> Rejection | None:
        allowed = ROUTES.get(path)
        if allowed is None:
            return Rejection(404, "not found")
        if method != allowed:
            return Rejection(405, "method not allowed", {"Allow": allowed})
        return None

    def body_length(self, headers: Mapping[str, str]) -> Rejection | int:
        """The Content-Length to read, or why the body must not be read at all."""
        if "transfer-encoding" in headers:
            return Rejection(411, "send the body with a Content-Length")
        length = headers.get("content-length")
        if length is None:
            return Rejection(411, "Content-Length required")
        if not (length.isascii() and length.isdigit()):
            return Rejection(400, "invalid Content-Length")
        if len(length) > len(str(self.max_body)) or int(length) > self.max_body:
            return Rejection(413, "request body too large")
        return int(length)

    def admit(self, headers: Mapping[str, str], raw: bytes) -> Rejection | str:
        """401 unless signed by Slack within the last five minutes; then 400 (or 415) unless
        the body is what Slack sends; else the body as JSON text, which Bolt parses as is."""
        if not self.signed(headers, raw):
            return Rejection(401, "invalid request signature")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return Rejection(400, "body is not UTF-8")
        media = headers.get("content-type", "").partition(";")[0].strip().lower()
        if media not in (JSON_TYPE, FORM_TYPE):
            return Rejection(415, "unsupported content type")
        try:
            body = _parse(text, media)
        except _Unreadable as exc:
            return Rejection(400, str(exc))
        problem = payload_problem(body)
        return Rejection(400, problem) if problem else json.dumps(body)

    def signed(self, headers: Mapping[str, str], raw: bytes) -> bool:
        """Slack's v0 signature: HMAC-SHA256 of `v0:{timestamp}:{raw body}`. Computed on the
        bytes here because slack_sdk's SignatureVerifier decodes the body as UTF-8 and parses
        the timestamp with int(), which raise on what the internet sends."""
        timestamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            return False
        if abs(self._clock() - int(timestamp)) > MAX_AGE:
            return False
        mac = hmac.new(self._secret, b"v0:%s:%s" % (timestamp.encode(), raw), hashlib.sha256)
        expected = b"v0=" + mac.hexdigest().encode()
        return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))


class _Unreadable(Exception):
    """A body that does not parse; the message is the reason given to the client."""


def _parse(text: str, media: str) -> Any:
    """JSON, or a form: an interactive request's JSON `payload`, or a slash command's fields."""
    if media == JSON_TYPE:
        return _json(text, "body is not JSON")
    try:
        fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict"))
    except ValueError:
        raise _Unreadable("body is not a form") from None
    return _json(fields["payload"], "payload is not JSON") if "payload" in fields else fields


def _json(text: str, reason: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # syntax, numbers too long, nesting too deep
        raise _Unreadable(reason) from None


def payload_problem(body: Any) -> str | None:
    """Why a request body (HTTP) or envelope payload (Socket Mode) cannot be handled, in a few
    words, or None: it must be a JSON object whose kind has the fields it needs (`NEEDS`), and
    every field that is read must have its JSON type (`FIELD_TYPES`)."""
    if not isinstance(body, dict):
        return "not a JSON object"
    if _depth(body) > MAX_DEPTH:  # Bolt parses the body again, deeper in the stack
        return "nested too deeply"
    kind = request_kind(body)
    if not isinstance(kind, str):
        return "no type"
    problem = _fields_problem(body, kind)
    if problem or kind != "event_callback":
        return problem
    event = body["event"]
    if not isinstance(event.get("type"), str):
        return "event without a type"
    problem = _fields_problem(event, event["type"], "event ")
    if problem or event["type"] not in ASSISTANT_EVENTS:
        return problem
    # Bolt's Assistant middleware replies in the thread it names
    return _fields_problem(event["assistant_thread"], "assistant_thread", "event ")


def request_kind(body: dict[str, Any]) -> Any:
    """A request's `type`; slash commands and Slack's SSL checks have none: "command" and
    "ssl_check". Whatever JSON value the body holds, or None."""
    kind = body.get("type")
    if kind is None:
        kind = next((name for name in ("command", "ssl_check") if name in body), None)
    return kind


def _fields_problem(obj: dict[str, Any], kind: str, where: str = "") -> str | None:
    for name, types in NEEDS.get(kind, {}).items():
        if not isinstance(value := obj.get(name), types) or not value:
            return f"{where}{kind} without {name}"
    for name, value in obj.items():
        expected = FIELD_TYPES.get(name)
        if value is None and name not in NOT_NULL:
            continue
        if expected and not isinstance(value, expected):
            return f"{where}{name} of the wrong type"
        if name == "response_url" and not value.startswith(("https://", "http://")):
            return f"{where}response_url is not a URL"  # Bolt's respond() would raise on it
        if isinstance(value, dict) and name in ("team", "user", "channel", "enterprise"):
            if not isinstance(value.get("id", ""), str):
                return f"{where}{name} id of the wrong type"
    for auth in obj.get("authorizations") or ():
        if not isinstance(auth, dict) or _fields_problem(auth, ""):
            return f"{where}authorizations of the wrong type"
    for action in obj.get("actions") or ():
        if not (isinstance(action, dict) and isinstance(action.get("action_id"), str)):
            return f"{where}action without an action_id"
    return None


def _depth(value: Any) -> int:
    """How deeply JSON arrays and objects nest in `value` (without recursing)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            todo.extend(
                (v, depth + 1) for v in (value.values() if isinstance(value, dict) else value)
            )
    return deepest
