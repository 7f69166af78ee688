"""`qabot slack --http --workers N`: N worker processes, each with its own engine, sharing one
port (SO_REUSEPORT: the kernel spreads connections over them) and, through Redis, delivery
dedupe, thread memory and rate limits. This process only starts, watches and stops them."""

from __future__ import annotations

import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

from bot.config import Settings
from bot.errors import ConfigError

log = logging.getLogger(__name__)
READY_FD = "QABOT_WORKER_READY_FD"  # a worker writes one line there once it serves
START_TIMEOUT = 300.0  # seconds for every worker to load its engine
RESTART_DELAY = 1.0


def _worker_env(settings: Settings, index: int, ready_fd: int) -> dict[str, str]:
    """The environment, plus what command-line flags set, so every worker has our settings."""
    env = dict(os.environ)
    env.update(
        QABOT_BACKEND=settings.backend, QABOT_LOCAL_MODEL=settings.local_model,
        QABOT_DATA_DIR=str(settings.data_dir), QABOT_DOCS=str(settings.docs),
        QABOT_WORKER_INDEX=str(index), **{READY_FD: str(ready_fd)},
    )  # fmt: skip
    if settings.health_port is not None:  # worker i: its own /health and /metrics
        env["QABOT_HEALTH_PORT"] = str(settings.health_port + index)
    return env


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound (not listening) with SO_REUSEPORT: it holds the port, port 0 becomes a
    real one, and the workers bind beside it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"Cannot listen on {host}:{port} ({exc.strerror}).") from None
    return sock


def serve_workers(
    settings: Settings,
    n: int,
    host: str,
    port: int,
    say: Callable[[str], None],
    worker_args: list[str],
    prepare: Callable[[], None],
) -> None:
    """Start `n` workers on host:port, restart any that dies, stop them all on SIGTERM/Ctrl-C
    (each drains its answers). `worker_args`: the `qabot` arguments of one worker."""
    if settings.redis_url is None:
        raise ConfigError(
            "--workers N > 1 needs QABOT_REDIS_URL: the workers share delivery dedupe through it."
        )
    prepare()  # e.g. fill an empty index once, before N processes would race to
    holder = reserve_port(host, port)
    port = holder.getsockname()[1]
    read_end, write_end = os.pipe()
    command = [sys.executable, "-c", "from bot.cli.main import main; main()", *worker_args]
    command += ["--port", str(port)]

    def start(index: int) -> subprocess.Popen[bytes]:
        env = _worker_env(settings, index, write_end)
        return subprocess.Popen(command, env=env, pass_fds=(write_end,))

    workers = [start(i) for i in range(n)]
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        _wait_ready(read_end, workers, n)
        say(f"qabot is serving Slack at http://{host}:{port}/slack/events and /health "
            f"with {n} workers")  # fmt: skip
        while not stopping:
            time.sleep(0.2)
            for i, proc in enumerate(workers):
                if proc.poll() is not None and not stopping:
                    log.warning("worker %d exited (%s); starting it again", i, proc.returncode)
                    time.sleep(RESTART_DELAY)
                    workers[i] = start(i)
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + settings.drain_seconds + 15
        for proc in workers:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        holder.close()
        os.close(read_end)
        os.close(write_end)


def _wait_ready(read_end: int, workers: list[subprocess.Popen[bytes]], n: int) -> None:
    ready, buffer = 0, b""
    deadline = time.monotonic() + START_TIMEOUT
    while ready < n:
        if any(p.poll() is not None for p in workers):
            raise ConfigError("A worker exited while starting; its error is above.")
        if time.monotonic() > deadline:
            raise ConfigError(f"The workers were not ready after {START_TIMEOUT:g} s.")
        if select.select([read_end], [], [], 0.2)[0]:
            buffer += os.read(read_end, 4096)
            ready = buffer.count(b"\n")


def tell_ready() -> Callable[[], None] | None:
    """In a worker: the function that tells the supervisor it serves (None when not one)."""
    fd = os.environ.get(READY_FD)
    if not fd:
        return None

    def ready() -> None:
        os.write(int(fd), f"{os.getpid()}\n".encode())

    return ready
