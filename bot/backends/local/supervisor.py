"""Start, reuse and stop the local model server qabot talks to (bot.backends.local.process)."""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from bot.errors import LLMError

_PACKAGE_ROOT = Path(__file__).resolve().parents[3]  # the directory holding `bot/`
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.IGNORECASE)
_POLL = 0.1  # seconds between readiness checks while the model loads


def _alive(pid: int) -> bool:
    """Whether `pid` is a running process (reaping it first if it is our exited child)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_llama_serve(pid: int) -> bool:
    """Whether `pid` is alive and (where /proc tells) really runs bot.backends.local.process."""
    if not _alive(pid):
        return False
    try:
        return b"bot.backends.local.process" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return not Path("/proc/self").exists()  # no /proc (macOS): trust the state file


class LlamaServer:
    """One local OpenAI-compatible server per state directory, started on demand."""

    def __init__(
        self,
        model_path: Path,
        *,
        host: str,
        port: int,
        n_threads: int,
        n_ctx: int,
        idle_minutes: float,
        state_dir: Path,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.model_path = Path(model_path).resolve()
        self.host, self.port = host, port
        self.n_threads, self.n_ctx, self.idle_minutes = n_threads, n_ctx, idle_minutes
        self.state_dir = Path(state_dir)
        self.progress = progress or (lambda message: None)
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.base_url = f"http://{netloc}/v1"
        self.state_file = self.state_dir / "llama-server.json"
        self.log_file = self.state_dir / "llama-server.log"
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._proc: subprocess.Popen[bytes] | None = None

    # -- probes ---------------------------------------------------------------

    def _served_models(self, timeout: float = 2.0) -> list[str] | None:
        """The model ids GET /v1/models lists, or None if nothing healthy answers."""
        try:
            with self._opener.open(f"{self.base_url}/models", timeout=timeout) as response:
                return [str(m["id"]) for m in json.load(response)["data"]]
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError):
            return None

    def _listening(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def is_healthy(self) -> bool:
        """Whether a server on host:port answers /v1/models and lists this model."""
        models = self._served_models()
        return models is not None and self.model_path.stem in models

    # -- state ----------------------------------------------------------------

    def _wanted(self) -> dict[str, object]:
        return {
            "host": self.host,
            "port": self.port,
            "model": str(self.model_path),
            "model_size": self.model_path.stat().st_size,
            "n_ctx": self.n_ctx,
            "n_threads": self.n_threads,
        }

    def _read_state(self) -> dict[str, object] | None:
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) and isinstance(state.get("pid"), int) else None

    def _our_pid(self, state: dict[str, object] | None) -> int | None:
        pid = state.get("pid") if state else None
        return pid if isinstance(pid, int) and _is_llama_serve(pid) else None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise start/stop across qabot processes sharing this state directory."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.state_dir / "llama-server.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # -- lifecycle ------------------------------------------------------------

    def ensure_running(self, timeout: float = 180.0) -> str:
        """Reuse our healthy server or start one; return the OpenAI base URL."""
        if not self.model_path.is_file():
            raise LLMError(f"model file not found: {self.model_path}")
        with self._locked():
            state = self._read_state()
            pid = self._our_pid(state)
            if pid is not None and state is not None:
                if all(state.get(k) == v for k, v in self._wanted().items()):
                    self._wait_ready(pid, timeout, self._serving_or_busy)
                    return self.base_url
                self.progress("Restarting the local model server with new settings...")
                self._terminate(pid)
            elif self._listening():
                raise LLMError(
                    f"port {self.port} on {self.host} is in use by another program; "
                    "set QABOT_LLAMA_PORT to a free port"
                )
            self.state_file.unlink(missing_ok=True)
            self._start(timeout)
        return self.base_url

    def _start(self, timeout: float) -> None:
        self.progress("Starting the local model server (first start loads the model, ~10 s)...")
        command = [
            sys.executable, "-m", "bot.backends.local.process",
            "--model", str(self.model_path),
            "--host", self.host, "--port", str(self.port),
            "--n-threads", str(self.n_threads), "--n-ctx", str(self.n_ctx),
            "--idle-minutes", f"{self.idle_minutes:g}",
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not _SECRET_NAME.search(k)}
        paths = [str(_PACKAGE_ROOT), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        try:
            with self.log_file.open("wb") as log:
                self._proc = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env=env,
                    cwd=self.state_dir,
                )
        except OSError as exc:
            raise LLMError(f"cannot start the local model server: {exc.strerror}") from None
        state = {"pid": self._proc.pid, **self._wanted(), "started_at": time.time()}
        self.state_file.write_text(json.dumps(state, indent=2))
        self._wait_ready(self._proc.pid, timeout, self.is_healthy)

    def _serving_or_busy(self) -> bool:
        """Serving this model, or listening but busy: /v1/models waits for the model lock,
        so while a long generation runs it does not answer within the probe's timeout."""
        models = self._served_models(timeout=1.0)
        if models is None:
            return self._listening()
        return self.model_path.stem in models

    def _wait_ready(self, pid: int, timeout: float, ready: Callable[[], bool]) -> None:
        """Poll `ready` until it holds; raise if `pid` exits first or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while not ready():
            if self._proc is not None and self._proc.pid == pid:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=_POLL)  # returns early if the process exits
            elif _alive(pid):
                time.sleep(_POLL)  # not our child: nothing to wait on but the pid
            if not _alive(pid):
                self.state_file.unlink(missing_ok=True)
                raise LLMError(f"the local model server exited before it was ready: {self._tail()}")
            if time.monotonic() > deadline:
                self._terminate(pid)
                raise LLMError(
                    f"the local model server was not ready after {timeout:g} s; see {self.log_file}"
                )

    def _tail(self, lines: int = 5) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"
        kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
        return " | ".join(kept) or f"(empty log {self.log_file})"

    def _terminate(self, pid: int, grace: float = 10.0) -> None:
        """SIGTERM, up to `grace` seconds to exit, then SIGKILL; forget the state file."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while _alive(pid) and time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=deadline - time.monotonic())
            else:
                time.sleep(0.05)  # not our child: nothing to wait on but the pid
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
        self.state_file.unlink(missing_ok=True)

    def stop(self) -> bool:
        """Stop our server, if one runs; return whether something was stopped."""
        with self._locked():
            state = self._read_state()
            pid = self._our_pid(state)
            if pid is not None:
                self._terminate(pid)
            self.state_file.unlink(missing_ok=True)
            return pid is not None

    def status(self) -> dict[str, object]:
        """For `qabot doctor`: what the state file says and whether the server answers."""
        state = self._read_state()
        pid = self._our_pid(state)
        return {
            "base_url": self.base_url,
            "model": str(self.model_path),
            "running": pid is not None,
            "pid": pid,
            "serving": state.get("model") if state and pid else None,
            "healthy": self.is_healthy() if pid else False,
            "log": str(self.log_file),
        }
