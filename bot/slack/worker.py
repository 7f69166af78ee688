"""A bounded pool for the slow part (answering), so acks and clicks never wait behind it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

log = logging.getLogger(__name__)


class AnswerPool:
    """`workers` answers at a time; the rest wait in order. `ahead()` is the queue length."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="qabot-answer")
        self._pending = 0
        self._jobs: dict[Future[Any], tuple[Any, ...]] = {}
        self._lock = threading.Lock()

    def ahead(self) -> int:
        """How many queued jobs a new one would wait behind (running ones not counted)."""
        with self._lock:
            return max(0, self._pending - self.workers)

    def start(self) -> None:
        """Start every thread now rather than on the first jobs, so that a first burst of
        questions is not slowed down (nor its acks) by starting threads."""
        started = threading.Barrier(self.workers + 1)
        for _ in range(self.workers):  # each thread waits for all the others: all are started
            self._executor.submit(started.wait, 10.0)
        try:
            started.wait(10.0)
        except threading.BrokenBarrierError:  # a thread slow to start starts on its first job
            log.info("the answering threads were not all started within 10 s")

    @property
    def pending(self) -> int:
        return self._pending

    def submit(
        self, fn: Callable[..., Any], *args: Any, waited: Callable[[float], None] | None = None
    ) -> Future[Any]:
        """Queue `fn(*args)`; `waited(seconds)` is told how long it waited for a thread."""
        queued_at = time.monotonic()

        def run() -> Any:
            if waited:
                waited(time.monotonic() - queued_at)
            try:
                return fn(*args)
            except Exception:
                log.exception("an answering job failed")
            finally:
                with self._lock:
                    self._pending -= 1

        with self._lock:
            self._pending += 1
            future = self._executor.submit(run)
            self._jobs[future] = args
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._jobs.pop(future, None)

    def drain(self, timeout: float) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Stop taking jobs: those not started are cancelled, those running get up to
        `timeout` seconds. Returns the args of the cancelled jobs and of those still running."""
        with self._lock:
            jobs = dict(self._jobs)
        cancelled = [args for future, args in jobs.items() if future.cancel()]
        with self._lock:
            self._pending -= len(cancelled)
        running = [f for f in jobs if not f.cancelled()]
        _, unfinished = wait(running, timeout=timeout)
        self._executor.shutdown(wait=False, cancel_futures=True)
        return cancelled, [jobs[f] for f in unfinished]

    def shutdown(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=not wait)
