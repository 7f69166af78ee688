"""What Slack never sends but the internet does: hypothesis strategies for request bodies, content
types and signature headers, and Slack's own payloads with fields dropped or replaced."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st

from fakes import slack_requests as sr

_ids = itertools.count(1)

# Any JSON value (NaN and infinities included: Python's json reads and writes them).
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Header values as http.server reads them (latin-1), without the line breaks that end a header.
HEADER_TEXT = st.text(
    st.characters(codec="latin-1", categories=["L", "M", "N", "P", "S", "Zs"]), max_size=40
)
CONTENT_TYPES = (
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data; boundary=x",
            None,  # no Content-Type header
        ]
    )
    | HEADER_TEXT
)
JSON_TYPE, FORM_TYPE = "application/json", "application/x-www-form-urlencoded"
SIGNATURES = st.sampled_from(
    ["valid", "none", "garbage", "wrong secret", "stale", "future", "no timestamp", "bad timestamp"]
)


def templates(response_url: str) -> dict[str, Callable[[], dict[str, Any]]]:
    """Makers of what Slack sends, each call with new ids (so that none is a repeat)."""

    def mention() -> dict[str, Any]:
        ts = f"{next(_ids)}.000001"
        return sr.event_callback(sr.mention("CFUZZ", ts, "Who runs the Fatah Alliance?"))

    def dm() -> dict[str, Any]:
        return sr.event_callback(sr.message("DFUZZ", f"{next(_ids)}.000001", "Who visited Mosul?"))

    def thread_started() -> dict[str, Any]:
        thread = {"user_id": "U1", "channel_id": "DFUZZ", "thread_ts": f"{next(_ids)}.000001"}
        return sr.event_callback({"type": "assistant_thread_started", "assistant_thread": thread})

    return {
        "mention": mention,
        "DM": dm,
        "assistant thread": thread_started,
        "click": lambda: sr.click("feedback_up", "no-such-answer", "U1", response_url, "CFUZZ"),
        "slash command": lambda: sr.slash("Who runs the Fatah Alliance?", response_url, "CFUZZ"),
        "url_verification": lambda: {"type": "url_verification", "challenge": "c", "token": "t"},
    }


@st.composite
def slack_like(draw: st.DrawFn, makers: list[Callable[[], dict[str, Any]]]) -> dict[str, Any]:
    """A payload Slack sends, with up to three fields (of the request or of its event, its
    first action or its user) dropped or replaced by any JSON value; sometimes left intact."""
    body = draw(st.sampled_from(makers))()
    nested = [v for v in body.values() if isinstance(v, dict)]
    nested += [v[0] for v in body.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from([body, *nested]))
        key = draw(st.sampled_from(sorted(target)) | st.text(max_size=8)) if target else "x"
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(JSON)
    return body


def _form(fields: dict[str, Any]) -> bytes:
    return urlencode(fields).encode()


def _json(value: Any) -> tuple[bytes, str]:
    return json.dumps(value).encode(), JSON_TYPE


def bodies(response_url: str) -> dict[str, st.SearchStrategy[tuple[bytes, str | None]]]:
    """Bodies of every class tried (docs/reliability.md), each with the content type Slack would
    send it with (None: no header); the tests also send them under other content types."""
    made = templates(response_url)
    event_makers = [made[k] for k in ("mention", "DM", "assistant thread", "url_verification")]
    return {
        "binary": st.binary(max_size=300).map(lambda b: (b, None)),
        "text": st.text(max_size=300).map(lambda t: (t.encode(), None)),
        "JSON, any shape": JSON.map(_json),
        "Slack JSON, mutated": slack_like(event_makers).map(_json),
        "JSON nested 1,000 to 300,000 deep": st.integers(1_000, 300_000).map(
            lambda n: (b"[" * n + b"]" * n, JSON_TYPE)
        ),
        "form, any fields": st.dictionaries(st.text(max_size=10), st.text(max_size=20)).map(
            lambda fields: (_form(fields), FORM_TYPE)
        ),
        "form, payload not JSON": st.text(max_size=50).map(
            lambda p: (_form({"payload": p}), FORM_TYPE)
        ),
        "form, payload any JSON": JSON.map(
            lambda v: (_form({"payload": json.dumps(v)}), FORM_TYPE)
        ),
        "form, click mutated": slack_like([made["click"]]).map(
            lambda v: (_form({"payload": json.dumps(v)}), FORM_TYPE)
        ),
        "form, slash command mutated": slack_like([made["slash command"]]).map(
            lambda v: (_form(v), FORM_TYPE)
        ),
    }


def signature_headers(
    mode: str, body: bytes, secret: str, garbage: str = "", now: int | None = None
) -> dict[str, str]:
    """Slack's signature headers for `body` (any bytes), done right ("valid") or wrong."""
    now = int(time.time()) if now is None else now
    ts = {"stale": now - 6 * 60, "future": now + 6 * 60}.get(mode, now)
    key = "another secret" if mode == "wrong secret" else secret
    mac = hmac.new(key.encode(), b"v0:%d:%s" % (ts, body), hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={mac}"}
    if mode == "none":
        return {}
    if mode == "garbage":
        headers["X-Slack-Signature"] = garbage
    if mode == "no timestamp":
        del headers["X-Slack-Request-Timestamp"]
    if mode == "bad timestamp":
        headers["X-Slack-Request-Timestamp"] = garbage
    return headers
