"""LLM faults (docs/reliability.md): an OpenAI-compatible server that fails with 500 or 429,
sends garbage, stalls past the timeout, trickles tokens, drops the stream half-way, or is not
there at all. The user gets a clear message in time, retries back off, the process stays up,
and the next question is answered once the server is back. Also: a dead local model server is
started again by the next question (marked `llm`)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import QABOT, engine_options, free_port
from fakes import slack_requests as sr
from fakes.openai_chat import FakeOpenAIChat
from fakes.stack import SlackStack, has_feedback, running_bot

from bot.cli.repl import ReplSession
from bot.config import load_settings
from bot.engine.pipeline import Engine
from bot.errors import LLMError
from bot.wiring import LLM_RETRIES, build_chat
from retrieval.search import HybridSearcher
from retrieval.store import ArticleStore

FATAH = "Who runs the Fatah Alliance?"
REPLY = "The Fatah Alliance is run by Hadi al-Amiri, the head of Badr Organization [1]."
KEY = "sk-test-reliability-SECRET-42"
TIMEOUT = 1.0
# each of 1 + LLM_RETRIES requests may take the timeout; openai's backoff adds up to ~1 s,
# and the rest is headroom for a loaded machine
BOUND = TIMEOUT * (LLM_RETRIES + 1) + 3.0


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAIChat]:
    server = FakeOpenAIChat(REPLY).start()
    yield server
    server.stop()


@pytest.fixture
def fake(llm: FakeOpenAIChat) -> Iterator[FakeOpenAIChat]:
    llm.mode, llm.delay, llm.stall, llm.retry_after = "ok", 0.0, 30.0, 1
    llm.times.clear()
    yield llm
    llm.mode, llm.delay = "ok", 0.0


def openai_engine(store: ArticleStore, base_url: str, timeout: float = TIMEOUT) -> Engine:
    settings = load_settings(
        backend="openai", openai_base_url=base_url, openai_api_key=KEY, timeout=timeout
    )
    options = engine_options(timeout=timeout)
    return Engine(HybridSearcher(store, store.embeddings), build_chat(settings), options)


@pytest.fixture
def engine(article_store: ArticleStore, llm: FakeOpenAIChat) -> Engine:
    return openai_engine(article_store, llm.url)


def failed_within(engine: Engine, seconds: float) -> str:
    t0 = time.monotonic()
    with pytest.raises(LLMError) as caught:
        engine.answer(FATAH)
    elapsed = time.monotonic() - t0
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    message = str(caught.value)
    assert KEY not in message and "Traceback" not in message
    return message


MESSAGES = {
    "500": "server failed (HTTP 500)",
    "429": "rate-limiting",
    "garbage": "cannot read",
    "slow": "did not answer in time",
    "cut": "cut off",
}


@pytest.mark.parametrize("mode", list(MESSAGES))
def test_fault_gives_a_clear_message_in_time_then_answers_when_back(
    engine: Engine, fake: FakeOpenAIChat, mode: str
) -> None:
    fake.mode = mode
    assert MESSAGES[mode] in failed_within(engine, BOUND)
    fake.mode = "ok"
    answer = engine.answer(FATAH)  # the same engine (the process stays up)
    assert answer.grounded and "Hadi al-Amiri" in answer.text


def test_server_errors_are_retried_once_after_a_backoff(
    engine: Engine, fake: FakeOpenAIChat
) -> None:
    fake.mode = "500"
    failed_within(engine, BOUND)
    assert len(fake.times) == 1 + LLM_RETRIES
    assert fake.times[1] - fake.times[0] >= 0.3  # openai: 0.5 s x jitter (0.75-1) first


def test_rate_limit_is_retried_after_its_retry_after(engine: Engine, fake: FakeOpenAIChat) -> None:
    fake.mode, fake.retry_after = "429", 1
    failed_within(engine, BOUND)
    assert len(fake.times) == 1 + LLM_RETRIES
    assert fake.times[1] - fake.times[0] >= 0.95


def test_a_server_trickling_tokens_is_cut_off_at_the_deadline(
    engine: Engine, fake: FakeOpenAIChat
) -> None:
    fake.reply = " ".join(["word"] * 40)  # 40 x 0.25 s: each token in time, the whole not
    fake.delay = 0.25
    try:
        assert "did not answer in time" in failed_within(engine, BOUND)
    finally:
        fake.reply = REPLY


def test_unreachable_base_url_is_reported_at_once(article_store: ArticleStore) -> None:
    engine = openai_engine(article_store, f"http://127.0.0.1:{free_port()}/v1")
    assert "cannot be reached" in failed_within(engine, BOUND)


def test_chat_apologises_and_keeps_going(
    engine: Engine, fake: FakeOpenAIChat, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = ReplSession(engine, history_file=tmp_path / "history")
    fake.mode = "slow"
    session.ask(FATAH)
    assert "Sorry: The language model did not answer in time" in capsys.readouterr().out
    assert session.turns == []
    fake.mode = "ok"
    session.ask(FATAH)
    assert "Hadi al-Amiri" in capsys.readouterr().out and len(session.turns) == 1


@pytest.mark.parametrize("mode", ["slow", "unreachable"])
def test_ask_command_fails_cleanly_within_the_timeout(
    fake: FakeOpenAIChat, tmp_path: Path, mode: str
) -> None:
    fake.mode = mode
    url = fake.url if mode != "unreachable" else f"http://127.0.0.1:{free_port()}/v1"
    env = {
        **os.environ,
        "QABOT_DATA_DIR": str(tmp_path / "data"),
        "QABOT_BACKEND": "openai",
        "OPENAI_BASE_URL": url,
        "OPENAI_API_KEY": KEY,
        "QABOT_TIMEOUT": str(TIMEOUT),
    }
    for args in (["ask", FATAH], ["--debug", "ask", "--json", FATAH]):
        result = subprocess.run(
            [str(QABOT), *args], capture_output=True, text=True, env=env, timeout=120
        )
        output = result.stdout + result.stderr
        assert result.returncode == 1, output
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1 and "language model" in errors[0], output
        assert KEY not in output and "SECRET-42" not in output
        if "--debug" not in args:
            assert "Traceback" not in output


# -- Slack ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory, llm: FakeOpenAIChat) -> Iterator[SlackStack]:
    settings = {
        "QABOT_BACKEND": "openai",
        "OPENAI_BASE_URL": llm.url,
        "OPENAI_API_KEY": KEY,
        "QABOT_TIMEOUT": str(TIMEOUT),
    }
    with running_bot(tmp_path_factory.mktemp("slack-faults"), **settings) as stack:
        yield stack


@pytest.mark.parametrize("mode", ["slow", "cut", "garbage", "429"])
def test_slack_apologises_in_time_and_answers_when_back(
    slack: SlackStack, fake: FakeOpenAIChat, mode: str
) -> None:
    assert slack.sock is not None
    channel = f"CF{mode}"
    fake.mode = mode
    slack.sock.event(sr.event_callback(sr.mention(channel, "5.000001", FATAH)))
    [apology] = slack.replies(channel, "5.000001", timeout=BOUND + 5)
    assert "Sorry" in apology["text"] and not has_feedback(apology)
    fake.mode = "ok"
    slack.sock.event(
        sr.event_callback(sr.mention(channel, "5.000002", FATAH, thread_ts="5.000001"))
    )
    replies = slack.replies(channel, "5.000001", count=2)
    assert "Hadi al-Amiri" in replies[1]["text"] and has_feedback(replies[1])
    assert slack.bot.proc.poll() is None
    assert KEY not in slack.bot.log()


# -- the local model server -----------------------------------------------------------------
@pytest.mark.llm
def test_dead_local_server_is_started_again_by_the_next_question(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]")
    settings = load_settings(
        backend="local",
        local_model="smollm2-135m",
        llama_port=free_port(),
        llama_threads=1,
        llama_ctx=1024,
        data_dir=tmp_path,
    )
    from bot.backends.local.chat import local_server

    server = local_server(settings)
    chat = build_chat(settings)
    assert chat is not None
    try:
        chat()  # starts it
        first = server.status()
        assert first["healthy"] and isinstance(first["pid"], int)
        os.kill(first["pid"], signal.SIGKILL)  # the server dies (OOM killer, say)
        deadline = time.monotonic() + 10
        while server.is_healthy() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not server.is_healthy()
        chat()  # the next question: ensure_running starts a new one
        second = server.status()
        assert second["healthy"] and second["pid"] != first["pid"]
    finally:
        server.stop()
