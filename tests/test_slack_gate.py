"""The request gate on its own: routes, Content-Length, signatures over the raw bytes, and
bodies that must parse into what Slack sends (bot/slack/gate.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes import hostile
from fakes import slack_requests as sr
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.gate import MAX_BODY, Gate, Rejection, payload_problem

SECRET = "gate-test-secret"
NOW = 1_700_000_000
HOOK = "https://hooks.slack.com/commands/T1/1/x"
JSON, FORM = hostile.JSON_TYPE, hostile.FORM_TYPE
gate = Gate(SECRET, clock=lambda: NOW)


def headers_for(body: bytes, content_type: str | None, mode: str = "valid", **kw: Any) -> dict:
    """The headers as the endpoint hands them to the gate: lower-case names."""
    signature = hostile.signature_headers(mode, body, SECRET, now=NOW, **kw)
    typed = {"content-type": content_type} if content_type is not None else {}
    return {**typed, **{k.lower(): v for k, v in signature.items()}}


def admit(body: bytes, content_type: str | None, mode: str = "valid") -> Rejection | str:
    return gate.admit(headers_for(body, content_type, mode), body)


def test_routes() -> None:
    assert gate.route("POST", "/slack/events") is None
    assert gate.route("GET", "/health") is None
    assert gate.route("GET", "/slack/events") == Rejection(
        405, "method not allowed", {"Allow": "POST"}
    )
    assert gate.route("DELETE", "/health") == Rejection(405, "method not allowed", {"Allow": "GET"})
    for path in ("/", "/slack/events/", "/SLACK/EVENTS", "/slack", "/health/x", ""):
        assert gate.route("POST", path) == Rejection(404, "not found")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, 411),
        ({"content-length": "12", "transfer-encoding": "chunked"}, 411),
        ({"content-length": "abc"}, 400),
        ({"content-length": "-1"}, 400),
        ({"content-length": "1.0"}, 400),
        ({"content-length": " 12"}, 400),
        ({"content-length": "12, 12"}, 400),  # a repeated header, joined
        ({"content-length": "\uff11\uff12"}, 400),  # full-width digits, which int() takes
        ({"content-length": str(MAX_BODY + 1)}, 413),
        ({"content-length": "9" * 5000}, 413),  # int() refuses more than 4300 digits
        ({"content-length": "0"}, 0),
        ({"content-length": str(MAX_BODY)}, MAX_BODY),
    ],
)
def test_body_length(headers: dict[str, str], expected: int) -> None:
    length = gate.body_length(headers)
    assert (length.status if isinstance(length, Rejection) else length) == expected


MENTION = json.dumps(sr.event_callback(sr.mention("C1", "1.000001", "Who?"))).encode()


def test_what_slack_sdk_signs_is_admitted_as_the_same_json() -> None:
    signature = sr.signed(MENTION.decode(), SECRET, timestamp=NOW)  # slack_sdk's SignatureVerifier
    headers = {"content-type": JSON, **{k.lower(): v for k, v in signature.items()}}
    assert json.loads(gate.admit(headers, MENTION)) == json.loads(MENTION)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mode", "garbage"),
    [
        ("none", ""),
        ("no timestamp", ""),
        ("garbage", ""),
        ("garbage", "v0=" + "0" * 64),
        ("garbage", "v0=\u00e9t\u00e9"),  # not ASCII: hmac.compare_digest would raise on str
        ("wrong secret", ""),
        ("stale", ""),
        ("future", ""),
        ("bad timestamp", "abc"),
        ("bad timestamp", "\uff11" * 10),  # full-width digits
        ("bad timestamp", "1" * 5000),
        ("bad timestamp", "-1"),
    ],
)
def test_unsigned_or_badly_signed_gets_401_whatever_the_body(mode: str, garbage: str) -> None:
    for body in (MENTION, b"\xff\xfe not UTF-8", b"[1, 2]", b"payload=%7B", b""):
        headers = headers_for(body, JSON, mode, garbage=garbage)
        assert gate.admit(headers, body) == Rejection(401, "invalid request signature")


def test_the_five_minute_window_is_inclusive() -> None:
    for now in (NOW - 300, NOW + 300):
        headers = {"content-type": JSON, **headers_for(MENTION, JSON)}
        assert isinstance(Gate(SECRET, clock=lambda now=now: now).admit(headers, MENTION), str)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        (b"\xff\xfe{}", JSON, 400, "body is not UTF-8"),
        (b"", JSON, 400, "body is not JSON"),
        (b"not json", JSON, 400, "body is not JSON"),
        (b"[1, 2]", JSON, 400, "not a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, JSON, 400, "body is not JSON"),
        (b"payload=not+json", FORM, 400, "payload is not JSON"),
        (b"payload=%5B%5D", FORM, 400, "not a JSON object"),
        (b"a=1&&b", FORM, 400, "body is not a form"),
        (b"text=%FF", FORM, 400, "body is not a form"),
        (b"text=hello", FORM, 400, "no type"),
        (MENTION, "text/plain", 415, "unsupported content type"),
        (MENTION, None, 415, "unsupported content type"),
    ],
)
def test_signed_but_unreadable_gets_400_or_415(
    body: bytes, content_type: str | None, status: int, reason: str
) -> None:
    assert admit(body, content_type) == Rejection(status, reason)


def _form(fields: dict[str, str]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(fields).encode()


CLICK = sr.click("feedback_up", "a1", "U1", HOOK)
SLASH = sr.slash("Who?", HOOK)
# An org-wide install: Slack sends null for the team and the authorization's team_id.
ORG_AUTH = {"enterprise_id": "E1", "team_id": None, "user_id": "UBOT", "is_bot": True,
            "is_enterprise_install": True}  # fmt: skip
ORG_MENTION = {
    **sr.event_callback(sr.mention("C1", "1.000001", "Who?")),
    "enterprise_id": "E1", "context_enterprise_id": None, "authorizations": [ORG_AUTH],
}  # fmt: skip
ORG_CLICK = {
    **CLICK,
    "team": None,
    "enterprise": {"id": "E1"},
    "user": {"id": "U1", "team_id": "T1"},
}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (MENTION, JSON),
        (MENTION, "Application/JSON; charset=utf-8"),
        (json.dumps(sr.event_callback(sr.message("D1", "1.1", "Who?"))).encode(), JSON),
        (json.dumps({"type": "url_verification", "challenge": "x", "token": "t"}).encode(), JSON),
        (json.dumps({"type": "app_rate_limited", "team_id": "T1"}).encode(), JSON),
        (_form(SLASH), FORM),
        (_form({"payload": json.dumps(CLICK)}), FORM),
        (_form({"ssl_check": "1", "token": "t"}), FORM),
        (json.dumps(ORG_MENTION).encode(), JSON),
        (_form({"payload": json.dumps(ORG_CLICK)}), FORM),
    ],
)
def test_what_slack_sends_is_handed_on_as_a_json_object(body: bytes, content_type: str) -> None:
    text = admit(body, content_type)
    assert isinstance(text, str)
    expected = json.loads(body) if content_type != FORM else _parsed_form(body)
    assert json.loads(text) == expected


def _parsed_form(body: bytes) -> dict[str, Any]:
    from urllib.parse import parse_qsl

    fields = dict(parse_qsl(body.decode()))
    return json.loads(fields["payload"]) if "payload" in fields else fields


def _event(**fields: Any) -> dict[str, Any]:
    return sr.event_callback({**sr.mention("C1", "1.000001", "Who?"), **fields})


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"type": "event_callback"}, "event_callback without event"),
        ({"type": "event_callback", "event": {}}, "event_callback without event"),
        ({"type": "event_callback", "event": {"text": "x"}}, "event without a type"),
        ({"type": "event_callback", "event": "x"}, "event_callback without event"),
        (_event(channel=None), "event app_mention without channel"),
        (_event(ts=1.5), "event app_mention without ts"),
        (_event(text=["x"]), "event text of the wrong type"),
        (_event(thread_ts={}), "event thread_ts of the wrong type"),
        (_event(user={"id": 5}), "event user id of the wrong type"),
        ({**_event(), "authorizations": [1]}, "authorizations of the wrong type"),
        ({**_event(), "authorizations": [{"team_id": 5}]}, "authorizations of the wrong type"),
        ({**_event(), "team": ["id"]}, "team of the wrong type"),
        ({**_event(), "event_id": ["unhashable"]}, "event_id of the wrong type"),
        ({"type": "url_verification"}, "url_verification without challenge"),
        ({**CLICK, "actions": []}, "block_actions without actions"),
        ({**CLICK, "actions": [{}]}, "action without an action_id"),
        ({**CLICK, "user": "U1"}, "block_actions without user"),
        ({**CLICK, "response_url": "javascript:alert(1)"}, "response_url is not a URL"),
        ({**CLICK, "view": "x"}, "view of the wrong type"),
        ({k: v for k, v in SLASH.items() if k != "response_url"}, "command without response_url"),
        ({**SLASH, "channel_id": ""}, "command without channel_id"),
        ({**_event(), "x": json.loads("[" * 40 + "]" * 40)}, "nested too deeply"),
        ({"token": "t"}, "no type"),
        ({"type": 1}, "no type"),
        ([], "not a JSON object"),
        (None, "not a JSON object"),
    ],
)
def test_payload_problems(body: Any, problem: str) -> None:
    assert payload_problem(body) == problem


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    mode=hostile.SIGNATURES,
    garbage=hostile.HEADER_TEXT,
    content_type=hostile.CONTENT_TYPES,
)
def test_any_request_is_refused_or_handed_on_as_a_json_object_bolt_can_read(
    data: st.DataObject, mode: str, garbage: str, content_type: str | None
) -> None:
    from slack_bolt.request import BoltRequest

    classes = hostile.bodies(HOOK)
    body, natural = data.draw(st.sampled_from(sorted(classes)).flatmap(classes.__getitem__))
    content_type = data.draw(st.sampled_from([natural, content_type]))
    result = gate.admit(headers_for(body, content_type, mode, garbage=garbage), body)
    if mode != "valid":
        assert result == Rejection(401, "invalid request signature")
    elif isinstance(result, Rejection):
        assert result.status in (400, 415)
    else:
        assert payload_problem(json.loads(result)) is None
        BoltRequest(body=result, headers={"content-type": JSON})  # parses, builds its context
