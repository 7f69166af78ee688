"""`qabot slack` in Socket Mode against malformed messages (issue #14): frames that are not JSON,
not objects, envelopes without or with the wrong payload, by name and by hypothesis. Each one
with an envelope_id is acked, the rest ignored; one warning line each, never a traceback; the
bot stays on the same connection and answers a real question afterwards."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fakes import hostile
from fakes import slack_requests as sr
from fakes.stack import SlackStack, running_bot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FATAH = "Who runs the Fatah Alliance?"
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackStack]:
    with running_bot(tmp_path_factory.mktemp("slack-socket-hostile")) as stack:
        yield stack


def warnings(stack: SlackStack) -> list[str]:
    return stack.bot.log_lines("WARNING")


def envelope(kind: str = "events_api", **fields: Any) -> dict[str, Any]:
    return {"envelope_id": f"bad-{next(_ids)}", "type": kind, **fields}


def settle(stack: SlackStack) -> None:
    """Wait until every frame sent so far was read: a valid envelope sent after them is acked."""
    assert stack.sock is not None  # a channel post without a mention: ignored without a word
    ts = f"{next(_ids)}.000001"
    stack.sock.wait_ack(stack.sock.event(sr.event_callback(sr.message("CSETTLE", ts, "hi"))))


def still_connected_and_answering(stack: SlackStack, channel: str) -> None:
    assert stack.sock is not None and stack.bot.proc.poll() is None
    assert len(stack.sock.connections) == 1  # never reconnected
    stack.sock.event(sr.event_callback(sr.mention(channel, "1.000001", FATAH)))
    [reply] = stack.replies(channel, "1.000001")
    assert "Hadi al-Amiri" in reply["text"]
    assert "Traceback" not in stack.bot.log()


NO_ENVELOPE_ID = [
    ("not JSON", "hello there"),
    ("starts like JSON", "{not json"),
    ("JSON array", "[1, 2]"),
    ("JSON string", '"text"'),
    ("JSON null", "null"),
    ("nested too deep", "[" * 100_000 + "]" * 100_000),
    ("object without envelope_id", '{"type": "events_api", "payload": {}}'),
    ("envelope_id a number", json.dumps({**envelope(), "envelope_id": 5, "payload": {}})),
]


@pytest.mark.parametrize(
    "frame", [f for _, f in NO_ENVELOPE_ID], ids=[n for n, _ in NO_ENVELOPE_ID]
)
def test_a_malformed_message_is_ignored_with_one_warning_line(
    slack: SlackStack, frame: str
) -> None:
    assert slack.sock is not None
    before = len(warnings(slack))
    slack.sock.send(frame)
    settle(slack)
    new = warnings(slack)[before:]
    assert len(new) == 1 and "ignored a Socket Mode message" in new[0], new
    assert "Traceback" not in slack.bot.log()


MALFORMED_ENVELOPES = [
    ("no payload", envelope()),
    ("payload a string", envelope(payload="x")),
    ("payload a list", envelope(payload=[1])),
    ("payload empty", envelope(payload={})),
    ("event_callback without event", envelope(payload={"type": "event_callback"})),
    (
        "mention without a channel",
        envelope(payload=sr.event_callback({"type": "app_mention", "ts": "1.1", "text": "x"})),
    ),
    ("slash command without response_url", envelope("slash_commands", payload={"command": "/ask"})),
    ("click without actions", envelope("interactive", payload={"type": "block_actions"})),
    ("type not a string", {**envelope(payload=sr.event_callback({"type": "x"})), "type": 1}),
    ("retry_reason not a string", envelope(payload={"type": "x"}, retry_reason=[1])),
]


@pytest.mark.parametrize(
    "message", [m for _, m in MALFORMED_ENVELOPES], ids=[n for n, _ in MALFORMED_ENVELOPES]
)
def test_a_malformed_envelope_is_acked_and_ignored(
    slack: SlackStack, message: dict[str, Any]
) -> None:
    assert slack.sock is not None
    before = len(warnings(slack))
    slack.sock.send(json.dumps(message))
    assert slack.sock.wait_ack(message["envelope_id"]) == {"envelope_id": message["envelope_id"]}
    new = warnings(slack)[before:]
    assert len(new) == 1 and "ignored a Socket Mode message" in new[0], new
    assert "Traceback" not in slack.bot.log()


def test_an_envelope_nobody_listens_to_is_acked(slack: SlackStack) -> None:
    assert slack.sock is not None  # Bolt answers 404 "unhandled": it was not acked, so retried
    eid = slack.sock.interactive({"type": "view_closed", "team": {"id": "T1"}, "user": {"id": "U"}})
    event = {"type": "reaction_added", "user": "U1", "reaction": "eyes", "event_ts": "1.0"}
    eids = [eid, slack.sock.event(sr.event_callback(event))]
    assert [slack.sock.wait_ack(e) for e in eids] == [{"envelope_id": e} for e in eids]
    settle(slack)
    assert [slack.sock.ack_counts[e] for e in eids] == [1, 1]


def test_a_binary_frame_is_ignored(slack: SlackStack) -> None:
    assert slack.sock is not None
    slack.sock.send(b"\x00\xff binary")
    settle(slack)
    assert "unsupported data frame" in slack.bot.log()


KINDS = st.sampled_from(["events_api", "slash_commands", "interactive", "hello"]) | st.text(
    max_size=10
)


@st.composite
def frames(draw: st.DrawFn, response_url: str) -> tuple[str, str, str | None]:
    """(class, text frame, envelope_id if it has one to ack)."""
    made = hostile.templates(response_url)
    payloads = {
        "envelope, payload any JSON": hostile.JSON,
        "envelope, Slack payload mutated": hostile.slack_like(list(made.values())),
    }
    name = draw(
        st.sampled_from(["text", "JSON, any shape", "envelope, fields any JSON", *payloads])
    )
    if name == "text":
        return name, draw(st.text(max_size=200)), None
    if name == "JSON, any shape":
        return name, json.dumps(draw(hostile.JSON)), None
    message: dict[str, Any] = {"envelope_id": f"fz-{next(_ids)}", "type": draw(KINDS)}
    if name == "envelope, fields any JSON":
        message.update(draw(st.dictionaries(st.sampled_from(["payload", "retry_attempt",
            "retry_reason", "accepts_response_payload", "x"]), hostile.JSON)))  # fmt: skip
    else:
        message["payload"] = draw(payloads[name])
    return name, json.dumps(message), message["envelope_id"]


def test_fuzz_socket_mode_messages(slack: SlackStack) -> None:
    assert slack.sock is not None
    sock = slack.sock
    tried: Counter[str] = Counter()

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(frame=frames(slack.api.response_url("socket-fuzz")))
    def one(frame: tuple[str, str, str | None]) -> None:
        name, text, envelope_id = frame
        tried[name] += 1
        sock.send(text)
        if envelope_id is not None:
            sock.wait_ack(envelope_id)
        assert slack.bot.proc.poll() is None

    one()
    settle(slack)
    print(f"messages tried: {dict(sorted(tried.items()))}")  # the figures in reliability.md
    assert len(tried) == 5
    still_connected_and_answering(slack, "CAFTERSOCKET")
