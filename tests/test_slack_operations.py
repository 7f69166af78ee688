"""Running the bot as a service: the answer pool size, SIGTERM draining (unanswered questions
told to ask again in place of their placeholders), /health and /metrics in Socket Mode,
timestamped or JSON logs."""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port
from fakes import slack_requests as sr
from fakes.openai_chat import FakeOpenAIChat
from fakes.slack_api import FakeSlackApi
from fakes.stack import http_get as get
from fakes.stack import running_bot
from slack_sdk import WebClient

from bot.engine.types import Answer
from bot.slack.feedback import FeedbackStore
from bot.slack.history import ThreadHistory
from bot.slack.memory import ThreadMemory
from bot.slack.reply import RESTARTING, Responder, Target
from bot.slack.worker import AnswerPool

FATAH = "Who runs the Fatah Alliance?"
REPLY = "The Fatah Alliance is run by Hadi al-Amiri, the head of Badr Organization [1]."


class Gated:
    def __init__(self) -> None:
        self.gate = threading.Event()

    def answer(self, question: str, history: Any = (), on_token: Any = None) -> Answer:
        self.gate.wait(10)
        return Answer(question, f"A: {question}", grounded=False)


def test_drain_tells_queued_and_unfinished_questions_to_ask_again(tmp_path: Path) -> None:
    api = FakeSlackApi().start()
    engine = Gated()
    client = WebClient(token="xoxb-test", base_url=api.url)
    pool = AnswerPool(workers=1)
    history = ThreadHistory(client, ThreadMemory(), "UBOT")
    responder = Responder(engine, client, pool, history, FeedbackStore(tmp_path / "f.sqlite3"))
    try:
        for n in range(3):
            responder.ask(f"q{n}", Target("C1", "U1", thread_ts=f"{n}.0", ts=f"{n}.0"))
        assert pool.pending == 3 and pool.ahead() == 2
        assert responder.drain(timeout=0.2) == 3  # one running past the deadline, two queued
        texts = [m["text"] for m in api.messages.values()]
        assert texts == [RESTARTING] * 3
        responder.ask("late", Target("C2", "U1", thread_ts="9.0", ts="9.0"))
        assert [m["text"] for (ch, _), m in api.messages.items() if ch == "C2"] == [RESTARTING]
        assert responder.metrics.value("qabot_answers_total", outcome="restarting") == 4
    finally:
        engine.gate.set()
        api.stop()


@pytest.fixture
def stalled_llm() -> Iterator[FakeOpenAIChat]:
    llm = FakeOpenAIChat(REPLY).start()
    yield llm
    llm.stop()


def test_socket_mode_health_metrics_json_logs_and_sigterm(
    tmp_path: Path, stalled_llm: FakeOpenAIChat
) -> None:
    port = free_port()
    settings = {
        "QABOT_BACKEND": "openai", "OPENAI_BASE_URL": stalled_llm.url, "OPENAI_API_KEY": "k-test",
        "QABOT_HEALTH_PORT": str(port), "QABOT_ANSWER_WORKERS": "1", "QABOT_DRAIN_SECONDS": "1",
        "QABOT_LOG_FORMAT": "json", "QABOT_TIMEOUT": "30",
    }  # fmt: skip
    with running_bot(tmp_path, debug=False, **settings) as stack:
        assert stack.sock
        stack.bot.wait_log("Health and metrics at ")
        status, body = get(f"http://127.0.0.1:{port}/health")
        assert status == 200 and json.loads(body) == {"ok": True, "answering": 0, "queued": 0}

        stack.sock.event(sr.event_callback(sr.mention("C1", "1.000001", FATAH)))
        [reply] = stack.replies("C1", "1.000001")
        assert "Hadi al-Amiri" in reply["text"]
        metrics = get(f"http://127.0.0.1:{port}/metrics")[1]
        assert 'qabot_answers_total{outcome="grounded"} 1.0' in metrics
        assert "qabot_answer_seconds_count 1.0" in metrics and "qabot_queue_depth 0.0" in metrics

        stalled_llm.mode = "slow"  # the model stops answering: one question runs, two wait
        for n in range(2, 5):
            stack.sock.event(sr.event_callback(sr.mention(f"C{n}", f"{n}.000001", FATAH)))
        stack.api.wait_for(lambda: json.loads(get(f"http://127.0.0.1:{port}/health")[1])
                           == {"ok": True, "answering": 3, "queued": 2})  # fmt: skip
        assert "qabot_queue_depth 2.0" in get(f"http://127.0.0.1:{port}/metrics")[1]
        stopped_at = time.monotonic()
        stack.bot.proc.send_signal(signal.SIGTERM)
        assert stack.bot.proc.wait(15) == 0
        assert time.monotonic() - stopped_at < 10  # drain (1 s), not the model's 30 s timeout
        for n in range(2, 5):  # every placeholder now says to ask again
            [message] = stack.api.thread(f"C{n}", f"{n}.000001")
            assert message["text"] == RESTARTING
        lines = [line for line in stack.bot.log().splitlines() if line.startswith("{")]
        records = [json.loads(line) for line in lines]
        assert any("told to ask again" in r["message"] for r in records)
        assert all(re.match(r"\d{4}-\d\d-\d\dT", r["time"]) and r["level"] for r in records)


def test_text_logs_are_timestamped(tmp_path: Path) -> None:
    with running_bot(tmp_path, http=True, debug=True) as stack:
        stack.bot.wait_log("DEBUG")
    debug_lines = [line for line in stack.bot.log().splitlines() if " DEBUG " in line]
    assert debug_lines and all(
        re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} DEBUG ", line) for line in debug_lines
    )
