"""Two data folders answering at the same time with the local model: a `qabot slack` bot and a
`qabot ask` beside it, the configured port taken by another program. One server serves both."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest
from conftest import QABOT, free_port
from fakes import slack_requests as sr
from fakes.bot_process import bot_env
from fakes.stack import is_final, running_bot

from bot.slack.reply import APOLOGY, APOLOGY_LLM

QUESTION = "Who runs the Fatah Alliance?"


@pytest.mark.llm
def test_two_data_folders_share_one_local_server(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]")
    port = free_port()
    local = {
        "QABOT_BACKEND": "local", "QABOT_LOCAL_MODEL": "smollm2-135m",
        "QABOT_LLAMA_PORT": str(port), "QABOT_LLAMA_THREADS": "1", "QABOT_LLAMA_CTX": "2048",
        "QABOT_LLAMA_IDLE_MINUTES": "2", "QABOT_RUNTIME_DIR": str(tmp_path / "run"),
        "QABOT_TIMEOUT": "120",
    }  # fmt: skip
    ask_env = bot_env(QABOT_DATA_DIR=str(tmp_path / "other-data"), **local)
    (tmp_path / "bot").mkdir()
    with socket.socket() as squatter:  # "port 8765 is in use by another program"
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with running_bot(tmp_path / "bot", **local) as stack:
            assert stack.sock
            stack.sock.event(sr.event_callback(sr.mention("C1", "1.000001", QUESTION)))
            ask = subprocess.run(
                [str(QABOT), "ask", "--json", QUESTION], env=ask_env, capture_output=True,
                text=True, timeout=600,
            )  # fmt: skip
            [reply] = stack.replies("C1", "1.000001", timeout=300)
            assert is_final(reply)
            assert reply["text"] not in (APOLOGY, APOLOGY_LLM) and "Sorry" not in reply["text"]
            assert "in use by another program" not in stack.bot.log()
        assert ask.returncode == 0, ask.stderr
        assert json.loads(ask.stdout)["answer"]
        status = subprocess.run(
            [str(QABOT), "server", "status"], env=ask_env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    [server] = shown["all_servers"]  # one server for both folders
    assert server["port"] != port and shown["this_model"]["pid"] == server["pid"]
    subprocess.run([str(QABOT), "server", "stop"], env=ask_env, timeout=60, check=True)
