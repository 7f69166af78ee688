"""What Slack sends: event wrappers, messages, slash commands, clicks, and request signatures."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

_ids = itertools.count(1)


def event_callback(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "verification-token",
        "team_id": "T1",
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
        "event": event,
    }


def message(
    channel: str, ts: str, text: str, user: str = "U1", thread_ts: str | None = None, **extra: Any
) -> dict[str, Any]:
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts}
    event["channel_type"] = "im" if channel.startswith("D") else "channel"
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {**event, "event_ts": ts, **extra}


def mention(
    channel: str, ts: str, text: str, user: str = "U1", thread_ts: str | None = None
) -> dict[str, Any]:
    event = {**message(channel, ts, f"<@UBOT> {text}", user, thread_ts), "type": "app_mention"}
    event.pop("channel_type")
    return event


def slash(text: str, response_url: str, channel: str = "C1", user: str = "U1") -> dict[str, str]:
    return {
        "token": "verification-token",
        "team_id": "T1",
        "channel_id": channel,
        "user_id": user,
        "command": "/ask",
        "text": text,
        "response_url": response_url,
        "trigger_id": f"trigger-{next(_ids)}",
        "api_app_id": "A1",
    }


def click(
    action_id: str, value: str, user: str, response_url: str, channel: str = "C1"
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user},
        "api_app_id": "A1",
        "token": "verification-token",
        "trigger_id": f"trigger-{next(_ids)}",
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": channel},
        "channel": {"id": channel},
        "response_url": response_url,
        "actions": [
            {"type": "button", "action_id": action_id, "block_id": "feedback", "value": value}
        ],
    }


def feedback(vote: str, answer_id: str, user: str, response_url: str, channel: str = "C1") -> dict:
    """A click on the feedback buttons element: 👍 ("up") or 👎 ("down")."""
    payload = click("feedback", f"{vote}:{answer_id}", user, response_url, channel)
    payload["actions"][0]["type"] = "feedback_buttons"
    return payload


def signed(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends with a request body, signed with the app's signing secret."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def json_body(payload: dict[str, Any]) -> tuple[str, str]:
    return json.dumps(payload), "application/json"


def form_body(fields: dict[str, str]) -> tuple[str, str]:
    return urlencode(fields), "application/x-www-form-urlencoded"


def click_body(payload: dict[str, Any]) -> tuple[str, str]:
    return form_body({"payload": json.dumps(payload)})
