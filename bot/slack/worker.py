"""A bounded pool for the slow part (answering), so acks and clicks never wait behind it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class AnswerPool:
    """`workers` answers at a time; the rest wait in order. `ahead()` is the queue length."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="qabot-answer")
        self._pending = 0
        self._lock = threading.Lock()

    def ahead(self) -> int:
        """How many queued jobs a new one would wait behind (running ones not counted)."""
        with self._lock:
            return max(0, self._pending - self.workers)

    @property
    def pending(self) -> int:
        return self._pending

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        def run() -> Any:
            try:
                return fn(*args)
            except Exception:
                log.exception("an answering job failed")
            finally:
                with self._lock:
                    self._pending -= 1

        with self._lock:
            self._pending += 1
        return self._executor.submit(run)

    def shutdown(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=not wait)
