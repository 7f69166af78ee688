"""Running `qabot slack` as a separate process with test settings, and stopping it."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import IO

from conftest import QABOT

_PROXIES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def bot_env(**settings: str) -> dict[str, str]:
    """The current environment without proxies or stray service settings, plus `settings`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in _PROXIES and not k.startswith(("QABOT_", "SLACK_", "OPENAI_"))
    }
    return {**env, "QABOT_BACKEND": "extractive", "NO_COLOR": "1", **settings}


class BotProcess:
    """`qabot [--debug] slack ARGS` with its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log: IO[bytes] = open(log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(QABOT), *args], env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_lines(self, level: str) -> list[str]:
        """The log lines of one level ("WARNING"), after their timestamp."""
        pattern = re.compile(rf"^(?:\d{{4}}-\d\d-\d\d[ T][\d:.,]+ )?{level}\b")
        return [line for line in self.log().splitlines() if pattern.match(line)]

    def wait_log(self, text: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"qabot exited ({self.proc.returncode}):\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not logged within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
