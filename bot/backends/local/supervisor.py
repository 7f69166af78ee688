"""Start, reuse and stop the local model servers qabot talks to (bot.backends.local.process).

One server per model file (by sha256) and context size serves every qabot on the machine,
whatever its data folder: a registry directory holds one state file per server (pid, port,
model), and a server is reused only when it says, at GET /qabot, that it is that process
serving that file. A new server takes the configured port when it is free, else any free
port."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
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

from bot.backends.local.model_files import file_sha256
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
    """The local OpenAI-compatible server for one model file, shared machine-wide through the
    registry in `state_dir`; started on demand."""

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
        self.host, self.port, self.configured_port = host, port, port
        self.n_threads, self.n_ctx, self.idle_minutes = n_threads, n_ctx, idle_minutes
        self.state_dir = Path(state_dir)
        self.progress = progress or (lambda message: None)
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._proc: subprocess.Popen[bytes] | None = None
        self._sha256: str | None = None

    # -- identity -------------------------------------------------------------

    @property
    def sha256(self) -> str:
        """The model file's sha256 (hashed once, then remembered beside the registry)."""
        if self._sha256 is None:
            name = hashlib.sha1(str(self.model_path).encode()).hexdigest()[:16]
            cache = self.state_dir / "hashes" / f"{name}.json"
            try:
                self._sha256 = file_sha256(self.model_path, cache)
            except OSError as exc:
                raise LLMError(f"cannot read the model file {self.model_path}: {exc}") from None
        return self._sha256

    @property
    def key(self) -> str:
        return f"{self.sha256[:16]}-ctx{self.n_ctx}"

    @property
    def state_file(self) -> Path:
        return self.state_dir / f"llama-{self.key}.json"

    @property
    def log_file(self) -> Path:
        return self.state_dir / f"llama-{self.key}.log"

    @property
    def base_url(self) -> str:
        netloc = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        return f"http://{netloc}/v1"

    # -- probes ---------------------------------------------------------------

    def _get(self, path: str, timeout: float) -> object:
        root = self.base_url.removesuffix("/v1")
        with self._opener.open(f"{root}{path}", timeout=timeout) as response:
            return json.load(response)

    def _served_models(self, timeout: float = 2.0) -> list[str] | None:
        """The model ids GET /v1/models lists, or None if nothing healthy answers."""
        try:
            data = self._get("/v1/models", timeout)
            return [str(m["id"]) for m in data["data"]]  # type: ignore[index]
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError):
            return None

    def identity(self, timeout: float = 1.0) -> dict[str, object] | None:
        """What the server on host:port says it is (GET /qabot: pid, model path, sha256,
        n_ctx), or None when nothing, or something else, answers there. It answers at once,
        even while a long generation holds the model."""
        try:
            data = self._get("/qabot", timeout)
        except (OSError, http.client.HTTPException, ValueError):
            return None
        return data if isinstance(data, dict) and "pid" in data else None

    def _is_ours(self, pid: int | None) -> bool:
        """The server on host:port is process `pid` serving this model file's content."""
        ident = self.identity()
        return (
            ident is not None
            and (pid is None or ident.get("pid") == pid)
            and ident.get("sha256") == self.sha256
            and ident.get("n_ctx") == self.n_ctx
        )

    def _listening(self, port: int | None = None) -> bool:
        try:
            with socket.create_connection((self.host, port or self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def is_healthy(self) -> bool:
        """Whether our server answers on host:port, serving this model."""
        return self._is_ours(None) and self._served_models() is not None

    # -- state ----------------------------------------------------------------

    def _read_state(self) -> dict[str, object] | None:
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) and isinstance(state.get("pid"), int) else None

    def _our_pid(self, state: dict[str, object] | None) -> int | None:
        pid = state.get("pid") if state else None
        return pid if isinstance(pid, int) and _is_llama_serve(pid) else None

    def _registry(self) -> Path:
        """The registry directory, private to this user."""
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.state_dir.stat().st_uid != os.getuid():
            raise LLMError(f"{self.state_dir} belongs to another user; set QABOT_RUNTIME_DIR")
        return self.state_dir

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise start/stop of this model's server across every qabot on the machine."""
        lock_path = self._registry() / f"llama-{self.key}.lock"
        with lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # -- lifecycle ------------------------------------------------------------

    def ensure_running(self, timeout: float = 180.0) -> str:
        """Reuse the machine's server for this model or start one; return its base URL."""
        if not self.model_path.is_file():
            raise LLMError(f"model file not found: {self.model_path}")
        with self._locked():
            state = self._read_state()
            pid = self._our_pid(state)
            if pid is not None and state is not None and isinstance(state.get("port"), int):
                self.port = int(state["port"])  # type: ignore[call-overload]
                if self._wait_ours(pid, timeout):
                    return self.base_url
                self._terminate(pid)  # alive, but not answering as our server: replace it
            self.state_file.unlink(missing_ok=True)
            for attempt in range(2):  # another program may take the free port we picked
                self.port = self._pick_port()
                try:
                    self._start(timeout)
                    break
                except LLMError:
                    if attempt or not self._listening():
                        raise
        return self.base_url

    def _pick_port(self) -> int:
        """The configured port when nothing listens there, else a free one."""
        if not self._listening(self.configured_port):
            return self.configured_port
        with socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET) as s:
            s.bind((self.host, 0))
            port = int(s.getsockname()[1])
        self.progress(
            f"Port {self.configured_port} is in use; the local model server takes port {port}."
        )
        return port

    def _start(self, timeout: float) -> None:
        self.progress("Starting the local model server (first start loads the model, ~10 s)...")
        command = [
            sys.executable, "-m", "bot.backends.local.process",
            "--model", str(self.model_path), "--sha256", self.sha256,
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
        pid = self._proc.pid
        state = {
            "pid": pid, "host": self.host, "port": self.port, "model": str(self.model_path),
            "sha256": self.sha256, "n_ctx": self.n_ctx, "n_threads": self.n_threads,
            "started_at": time.time(), "started_by": os.getpid(),
        }  # fmt: skip
        self.state_file.write_text(json.dumps(state, indent=2))
        self._wait_ready(pid, timeout, lambda: self._is_ours(pid))

    def _wait_ours(self, pid: int, timeout: float) -> bool:
        """Wait for a recorded server to answer as itself; False if something else answers
        on its port (or nothing, long after it should)."""
        deadline = time.monotonic() + min(timeout, 30.0)
        while _alive(pid) and time.monotonic() < deadline:
            ident = self.identity()
            if ident is not None:
                return self._is_ours(pid)
            time.sleep(_POLL)
        return False

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
        """Stop the server for this model (every qabot on the machine shares it), if one
        runs; return whether something was stopped."""
        with self._locked():
            state = self._read_state()
            pid = self._our_pid(state)
            if pid is not None:
                self._terminate(pid)
            self.state_file.unlink(missing_ok=True)
            return pid is not None

    def status(self) -> dict[str, object]:
        """For `qabot server status` and doctor: which server serves this model, on which
        port, and whether it answers as itself."""
        state = self._read_state()
        pid = self._our_pid(state)
        if pid is not None and state is not None and isinstance(state.get("port"), int):
            self.port = int(state["port"])  # type: ignore[call-overload]
        return {
            "base_url": self.base_url if pid else None,
            "model": str(self.model_path),
            "sha256": self.sha256,
            "running": pid is not None,
            "pid": pid,
            "port": self.port if pid else None,
            "configured_port": self.configured_port,
            "serving": state.get("model") if state and pid else None,
            "started_by": state.get("started_by") if state and pid else None,
            "healthy": self._is_ours(pid) if pid else False,
            "log": str(self.log_file),
        }


def running_servers(state_dir: Path) -> list[dict[str, object]]:
    """Every local model server recorded in the registry whose process still runs."""
    out = []
    for path in sorted(Path(state_dir).glob("llama-*.json")):
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        pid = state.get("pid") if isinstance(state, dict) else None
        if isinstance(pid, int) and _is_llama_serve(pid):
            keep = ("pid", "host", "port", "model", "sha256", "n_ctx", "started_by")
            out.append({k: state.get(k) for k in keep})
    return out
