"""The local model server manager, against real `python -m bot.backends.local.process` processes."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import free_port

from bot.backends.local.model_files import resolve_gguf
from bot.backends.local.supervisor import LlamaServer
from bot.errors import LLMError

Factory = Callable[..., LlamaServer]


def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _exited(pid: int) -> bool:
    """Whether our child `pid` has exited (reaping it)."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True


@pytest.fixture(scope="module")
def smollm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]")
    return resolve_gguf("smollm2-135m", tmp_path_factory.mktemp("models"))


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Factory]:
    """Build LlamaServers sharing one state dir and port; every process is stopped at the end."""
    port = free_port()
    made: list[LlamaServer] = []

    def make(model: Path, **overrides: object) -> LlamaServer:
        options: dict = dict(
            host="127.0.0.1", port=port, n_threads=1, n_ctx=1024, idle_minutes=5,
            state_dir=tmp_path / "state",
        )  # fmt: skip
        server = LlamaServer(model, **{**options, **overrides})
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()
        if server._proc is not None and server._proc.poll() is None:
            server._proc.kill()
            server._proc.wait()


@pytest.mark.llm
def test_start_reuse_chat_and_stop(smollm: Path, make_server: Factory) -> None:
    from openai import OpenAI

    messages: list[str] = []
    first = make_server(smollm, progress=messages.append)
    url = first.ensure_running(timeout=120)
    assert url == first.base_url and url.endswith("/v1")
    assert any("Starting the local model server" in m for m in messages)
    assert first.is_healthy()
    pid = first.status()["pid"]
    assert isinstance(pid, int)

    second = make_server(smollm)
    assert second.ensure_running() == url
    assert second.status()["pid"] == pid  # reused, not restarted

    client = OpenAI(base_url=url, api_key="x", max_retries=0, timeout=120)
    reply = client.chat.completions.create(
        model=smollm.stem,
        messages=[{"role": "user", "content": "Say hello."}],
        temperature=0,
        extra_body={"max_tokens": 8},
    )
    assert reply.choices[0].message.content
    assert reply.usage is not None and 0 < reply.usage.completion_tokens <= 8

    # langchain-openai sends max_completion_tokens, which llama_cpp.server alone ignores.
    capped = client.chat.completions.create(
        model=smollm.stem,
        messages=[{"role": "user", "content": "Write a long story about a lighthouse."}],
        temperature=0,
        max_completion_tokens=3,
    )
    assert capped.usage is not None and capped.usage.completion_tokens == 3
    assert capped.choices[0].finish_reason == "length"

    assert second.stop() is True
    assert not first.is_healthy()
    assert first.status()["running"] is False
    assert not first.state_file.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", first.port), timeout=1).close()
    assert first.stop() is False


@pytest.mark.llm
def test_two_processes_starting_at_once_share_one_server(
    smollm: Path, make_server: Factory
) -> None:
    server = make_server(smollm)  # same port and state dir as the two processes below
    script = (
        "import sys; from pathlib import Path; "
        "from bot.backends.local.supervisor import LlamaServer; "
        "s = LlamaServer(Path(sys.argv[1]), host='127.0.0.1', port=int(sys.argv[2]), "
        "n_threads=1, n_ctx=1024, idle_minutes=5, state_dir=Path(sys.argv[3])); "
        "s.ensure_running(timeout=120); print(s.status()['pid'])"
    )
    args = [sys.executable, "-c", script, str(smollm), str(server.port), str(server.state_dir)]
    root = Path(__file__).resolve().parent.parent
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=root) for _ in range(2)]
    pids = {proc.communicate(timeout=180)[0].strip() for proc in procs}
    assert [proc.returncode for proc in procs] == [0, 0]
    assert pids == {str(server.status()["pid"])}


def test_stop_never_signals_a_process_that_is_not_our_server(make_server: Factory) -> None:
    server = make_server(Path(sys.executable))
    server.state_dir.mkdir(parents=True)
    server.state_file.write_text(json.dumps({"pid": os.getpid(), "port": server.port}))
    assert server.status()["running"] is False
    assert server.stop() is False  # a recycled pid: this very test process
    assert not server.state_file.exists()


@pytest.mark.llm
def test_stops_itself_when_idle_and_starts_again(smollm: Path, make_server: Factory) -> None:
    server = make_server(smollm, idle_minutes=0.05)  # 3 seconds
    server.ensure_running(timeout=120)
    old_pid = server.status()["pid"]

    assert isinstance(old_pid, int)
    # Poll the process, not the server: every HTTP request would count as activity.
    assert _wait_until(lambda: _exited(old_pid), timeout=60)
    assert server.status()["running"] is False
    assert "idle for 0.05 min" in server.log_file.read_text()

    server.ensure_running(timeout=120)  # the stale state file is replaced
    assert server.is_healthy()
    assert server.status()["pid"] not in (None, old_pid)


@pytest.mark.llm
def test_other_model_restarts_our_server(
    smollm: Path, make_server: Factory, tmp_path: Path
) -> None:
    server = make_server(smollm)
    server.ensure_running(timeout=120)
    old_pid = server.status()["pid"]

    other_model = tmp_path / "other-model.gguf"
    shutil.copyfile(smollm, other_model)
    messages: list[str] = []
    other = make_server(other_model, progress=messages.append)
    other.ensure_running(timeout=120)

    assert any("Restarting" in m for m in messages)
    assert other.is_healthy() and not server.is_healthy()
    assert other.status()["pid"] != old_pid
    assert other.status()["serving"] == str(other_model.resolve())


@pytest.mark.llm
def test_unloadable_model_reports_the_log(make_server: Factory, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + bytes(64))
    server = make_server(broken)
    with pytest.raises(LLMError, match="exited before it was ready: .*cannot load"):
        server.ensure_running(timeout=120)
    assert not server.state_file.exists()


def test_port_taken_by_another_program(make_server: Factory, tmp_path: Path) -> None:
    model = tmp_path / "unused.gguf"
    model.write_bytes(b"GGUF")
    server = make_server(model)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", server.port))
        squatter.listen()
        with pytest.raises(LLMError, match=f"port {server.port} .*QABOT_LLAMA_PORT"):
            server.ensure_running(timeout=5)
    assert not server.state_file.exists()
