"""End to end with the real local LLM: Qwen served by llama.cpp, reached as `local` and `openai`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ARTICLE, free_port

from bot.backends.local.model_files import resolve_gguf
from bot.backends.local.supervisor import LlamaServer
from bot.config import load_settings
from bot.wiring import build_engine

ARTICLE_TEXT = ARTICLE.read_text(encoding="utf-8")

pytestmark = pytest.mark.llm


@pytest.fixture(scope="session")
def qwen_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return resolve_gguf("qwen2.5-coder-1.5b", tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def llama_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """qabot's data dir for the server: its state file lets the CLI reuse the server."""
    return tmp_path_factory.mktemp("llama-state")


@pytest.fixture(scope="session")
def qwen_server(qwen_path: Path, llama_state: Path) -> Iterator[str]:
    """One real llama.cpp server for the session, behind the OpenAI-compatible API."""
    server = LlamaServer(
        qwen_path,
        host="127.0.0.1",
        port=free_port(),
        n_threads=2,
        n_ctx=4096,
        idle_minutes=0,
        state_dir=llama_state,
    )
    try:
        yield server.ensure_running()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def openai_engine(qwen_server: str, tmp_path_factory: pytest.TempPathFactory):
    settings = load_settings(
        backend="openai",
        openai_base_url=qwen_server,
        openai_api_key="test-key",
        data_dir=tmp_path_factory.mktemp("data"),
    )
    return build_engine(settings)


def test_openai_backend_answers_with_verbatim_citation(openai_engine) -> None:
    answer = openai_engine.answer("Who runs the Fatah Alliance?")
    assert answer.grounded
    assert "Amiri" in answer.text
    assert answer.citations
    for c in answer.citations:
        assert ARTICLE_TEXT[c.start : c.end] == c.quote
    assert any("Hadi al-Amiri" in c.quote for c in answer.citations)


def test_openai_backend_declines_what_the_article_does_not_say(openai_engine) -> None:
    answer = openai_engine.answer("What is the population of Mosul?")
    assert not answer.grounded
    assert answer.citations == []
    assert "does not say" in answer.text


def test_follow_up_is_rewritten_from_the_earlier_turn(openai_engine) -> None:
    from bot.engine.types import Turn

    first = openai_engine.answer("Who is the Iranian consul-general in Erbil?")
    assert "Ebadi" in first.text
    follow = openai_engine.answer(
        "How high did he say trade with the KRG could rise?",
        [Turn(first.standalone_question, first.text)],
    )
    assert follow.grounded
    assert "5 billion" in follow.text


def test_local_backend_through_the_cli(
    qwen_server: str, qwen_path: Path, llama_state: Path
) -> None:
    """`qabot ask --json` on the default backend, reusing the server already running there."""
    port = qwen_server.rsplit(":", 1)[1].split("/")[0]
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    env.update(
        QABOT_DATA_DIR=str(llama_state),
        QABOT_LOCAL_MODEL=str(qwen_path),
        QABOT_LLAMA_PORT=port,
        QABOT_LLAMA_IDLE_MINUTES="0",
    )
    qabot = Path(sys.executable).with_name("qabot")
    out = subprocess.run(
        [str(qabot), "ask", "--json", "Which province is Mosul in?"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["grounded"] is True
    assert "Nineveh" in data["answer"]
    assert all(ARTICLE_TEXT[c["start"] : c["end"]] == c["quote"] for c in data["citations"])
    assert data["timings"]["generate"] > 0
