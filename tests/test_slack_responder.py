"""The responder in-process, with a real WebClient against the fake Web API and an engine fake
that blocks until released: busy notices, turning questions away, apologies, thread memory."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.slack_api import FakeSlackApi
from slack_sdk import WebClient

from bot.engine.types import Answer, Turn
from bot.errors import LLMError
from bot.slack import reply
from bot.slack.feedback import FeedbackStore
from bot.slack.history import ThreadHistory
from bot.slack.memory import ThreadMemory
from bot.slack.reply import Responder, Target
from bot.slack.worker import AnswerPool


class GatedEngine:
    """Answers "A: <question>" once `gate` is set; raises what `failures` holds first."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.failures: list[Exception] = []
        self.histories: list[list[Turn]] = []

    def answer(self, question: str, history: Any = (), on_token: Any = None) -> Answer:
        self.histories.append(list(history))
        assert self.gate.wait(10)
        if self.failures:
            raise self.failures.pop(0)
        return Answer(question, f"A: {question}", grounded=False)


@pytest.fixture
def api() -> Iterator[FakeSlackApi]:
    server = FakeSlackApi().start()
    yield server
    server.stop()


@pytest.fixture
def engine() -> GatedEngine:
    return GatedEngine()


@pytest.fixture
def responder(api: FakeSlackApi, engine: GatedEngine, tmp_path: Path) -> Iterator[Responder]:
    client = WebClient(token="xoxb-test", base_url=api.url)
    pool = AnswerPool(workers=1)
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    history = ThreadHistory(client, ThreadMemory(), "UBOT")
    yield Responder(engine, client, pool, history, store, update_interval=0.0)
    engine.gate.set()
    pool.shutdown()


def texts(api: FakeSlackApi, channel: str) -> list[str]:
    return [m["text"] for (ch, _), m in api.messages.items() if ch == channel]


def test_a_long_queue_is_announced_and_a_full_one_turns_questions_away(
    api: FakeSlackApi, engine: GatedEngine, responder: Responder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reply, "MAX_QUEUE", 4)
    for n in range(6):
        responder.ask(f"q{n}", Target(f"C{n}", "U1", thread_ts=f"{n}.0"))
    placeholders = [c.params for c in api.calls_to("chat.postMessage")]
    assert "Busy" not in str(placeholders[:3]) and "2 question(s) ahead" in str(placeholders[3])
    assert "too many questions" in texts(api, "C5")[0]
    engine.gate.set()
    answered = lambda: [texts(api, f"C{n}")[0] for n in range(5)]  # noqa: E731
    api.wait_for(lambda: all(t.startswith("A: ") for t in answered()))


def test_failures_become_short_apologies_and_the_bot_goes_on(
    api: FakeSlackApi, engine: GatedEngine, responder: Responder
) -> None:
    engine.failures = [LLMError("secret detail: connection refused"), RuntimeError("boom")]
    engine.gate.set()
    for n in range(3):
        responder.ask(f"q{n}", Target("C1", "U1", thread_ts=f"{n}.0"))
    api.wait_for(lambda: len([t for t in texts(api, "C1") if not t.startswith("Looking")]) == 3)
    first, second, third = texts(api, "C1")
    assert "language model" in first and "Sorry" in first and "secret detail" not in first
    assert "Sorry" in second and "boom" not in second
    assert third == "A: q2"


def test_follow_ups_in_a_thread_get_its_earlier_turns(
    api: FakeSlackApi, engine: GatedEngine, responder: Responder
) -> None:
    engine.gate.set()
    responder.ask("first", Target("C1", "U1", thread_ts="1.0"))
    api.wait_for(lambda: texts(api, "C1") == ["A: first"])
    responder.ask("second", Target("C1", "U1", thread_ts="1.0", ts="1.5"))
    responder.ask("elsewhere", Target("C1", "U1", thread_ts="2.0"))
    api.wait_for(lambda: len(engine.histories) == 3 and len(texts(api, "C1")) == 3)
    assert engine.histories[1] == [Turn("first", "A: first")]
    assert engine.histories[2] == []  # another thread: no memory of this one


def test_a_new_responder_reads_the_thread_back_from_slack(
    api: FakeSlackApi, engine: GatedEngine, responder: Responder, tmp_path: Path
) -> None:
    engine.gate.set()
    api.record_post({"channel": "C1", "ts": "5.0", "user": "U1", "text": "<@UBOT> first"})
    responder.ask("first", Target("C1", "U1", thread_ts="5.0", ts="5.0"))
    api.wait_for(lambda: texts(api, "C1") == ["A: first"])
    assert not api.calls_to("conversations.replies")  # a new thread has nothing earlier

    client = WebClient(token="xoxb-test", base_url=api.url)
    pool = AnswerPool(workers=1)
    store = FeedbackStore(tmp_path / "feedback2.sqlite3")
    fresh = Responder(engine, client, pool, ThreadHistory(client, ThreadMemory(), "UBOT"), store)
    fresh.ask("second", Target("C1", "U1", thread_ts="5.0", ts="5.1"))
    api.wait_for(lambda: len(engine.histories) == 2 and len(texts(api, "C1")) == 2)
    assert engine.histories[1] == [Turn("first", "A: first")]
    pool.shutdown()


def test_thread_turns_pair_questions_with_answers() -> None:
    answer_block = {"type": "actions", "block_id": "feedback", "elements": []}
    thread = [
        {"user": "U1", "ts": "1", "text": "<@UBOT> Who runs the &lt;Fatah&gt; Alliance?"},
        {"user": "UBOT", "ts": "2", "text": "Hadi [1].", "blocks": [answer_block]},  # old post
        {"user": "U2", "ts": "3", "text": "a remark, then a question"},
        {"user": "UBOT", "ts": "4", "text": "Looking that up\u2026"},  # a placeholder
        {"user": "UBOT", "ts": "5", "text": "A [1].", "blocks": [answer_block],
         "metadata": {"event_type": "qabot_answer",
                      "event_payload": {"question": "And he?", "answer": "A [1]."}}},
        {"user": "U0OTHER", "bot_id": "B0", "ts": "6", "text": "another bot"},
        {"user": "U1", "ts": "7", "text": "<@UBOT> the question being answered"},
    ]  # fmt: skip
    history = ThreadHistory(None, ThreadMemory(), "UBOT")
    assert history._pair(thread) == [
        Turn("Who runs the <Fatah> Alliance?", "Hadi [1]."),
        Turn("And he?", "A [1]."),
    ]


def test_a_user_asking_too_fast_is_told_to_wait(
    api: FakeSlackApi, engine: GatedEngine, tmp_path: Path
) -> None:
    from bot.slack.ratelimit import UserRate

    engine.gate.set()
    client = WebClient(token="xoxb-test", base_url=api.url)
    pool = AnswerPool(workers=1)
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    history = ThreadHistory(client, ThreadMemory(), "UBOT")
    limited = Responder(engine, client, pool, history, store, rate=UserRate(1))
    limited.ask("one", Target("C1", "U1", thread_ts="1.0", ts="1.0"))
    limited.ask("two", Target("C2", "U1", thread_ts="2.0", ts="2.0"))
    limited.ask("other user", Target("C3", "U2", thread_ts="3.0", ts="3.0"))
    api.wait_for(lambda: texts(api, "C1") == ["A: one"] and texts(api, "C3") == ["A: other user"])
    assert texts(api, "C2") == [reply.TOO_FAST]
    assert limited.metrics.value("qabot_answers_total", outcome="rate_limited") == 1
    pool.shutdown()
