"""Real Redis and PostgreSQL servers for tests, started in temporary folders on free ports (and
stopped afterwards). A test that needs one is skipped, saying why, when its binary is missing;
.ci/run installs them."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import free_port


def _wait(ready: Callable[[], bool], proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{what} did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)


@contextmanager
def redis_server() -> Iterator[str]:
    """A redis-server on 127.0.0.1, nothing persisted; yields its URL."""
    exe = shutil.which("redis-server")
    if not exe:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    import redis

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="qabot-redis-") as tmp:
        log = Path(tmp) / "redis.log"
        args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", tmp, "--logfile", str(log)]  # fmt: skip
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis(port=port, socket_connect_timeout=1)

        def ready() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        _wait(ready, proc, "redis-server", log)
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(10)


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    return found


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server on 127.0.0.1 (run as the `postgres` user when we are root, since it
    refuses root); yields a SQLAlchemy URL."""
    initdb, postgres = _pg_bin("initdb"), _pg_bin("postgres")
    if not initdb or not postgres:
        pytest.skip("PostgreSQL server binaries (initdb, postgres) are not installed")
    user = None
    tmp = Path(tempfile.mkdtemp(prefix="qabot-pg-"))
    if os.getuid() == 0:
        user = "postgres"
        entry = pwd.getpwnam(user)
        os.chown(tmp, entry.pw_uid, entry.pw_gid)
    port = free_port()
    log = tmp / "postgres.log"
    try:
        subprocess.run(
            [initdb, "-D", str(tmp / "data"), "-U", "qabot", "--auth=trust", "-E", "UTF8"],
            user=user, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [postgres, "-D", str(tmp / "data"), "-p", str(port), "-k", str(tmp),
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                user=user, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        url = f"postgresql+psycopg://qabot@127.0.0.1:{port}/postgres"

        def ready() -> bool:
            import psycopg

            try:
                psycopg.connect(f"host=127.0.0.1 port={port} user=qabot dbname=postgres").close()
                return True
            except psycopg.Error:
                return False

        _wait(ready, proc, "postgres", log)
        try:
            yield url
        finally:
            proc.terminate()
            proc.wait(20)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def chroma_server(folder: Path) -> Iterator[int]:
    """`chroma run` on 127.0.0.1 with its data in `folder`; yields its port."""
    import sys
    import urllib.request

    exe = Path(sys.executable).with_name("chroma")
    if not exe.exists():
        exe = Path(shutil.which("chroma") or "chroma")
    port = free_port()
    log = folder / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(exe), "run", "--path", str(folder / "db"), "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def ready() -> bool:
        try:
            opener.open(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).read()
            return True
        except OSError:
            return False

    _wait(ready, proc, "chroma server", log)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
