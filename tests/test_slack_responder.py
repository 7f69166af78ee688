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
    yield Responder(engine, client, pool, ThreadMemory(), store, update_interval=0.0)
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
    responder.ask("second", Target("C1", "U1", thread_ts="1.0"))
    responder.ask("elsewhere", Target("C1", "U1", thread_ts="2.0"))
    api.wait_for(lambda: len(engine.histories) == 3 and len(texts(api, "C1")) == 3)
    assert engine.histories[1] == [Turn("first", "A: first")]
    assert engine.histories[2] == []  # another thread: no memory of this one
