"""Per-user rate limits: at most N questions a minute from one person, counted in this process
(`UserRate`) or in Redis for several workers (`RedisUserRate`, INCR + EXPIRE per minute)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class UserRate:
    """A fixed one-minute window per user; `per_minute` 0 means no limit."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self.per_minute, self.clock = per_minute, clock
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def allow(self, user: str | None) -> bool:
        if not self.per_minute or not user:
            return True
        minute = int(self.clock() // 60)
        with self._lock:
            for old in [k for k in self._counts if k[1] < minute]:
                del self._counts[old]
            count = self._counts[(user, minute)] = self._counts.get((user, minute), 0) + 1
        return count <= self.per_minute


class RedisUserRate:
    """The same window, counted in Redis so that every worker shares it."""

    def __init__(
        self,
        redis: Any,
        per_minute: int,
        clock: Callable[[], float] = time.time,
        prefix: str = "qabot:rate:",
    ) -> None:
        self.redis, self.per_minute, self.clock, self.prefix = redis, per_minute, clock, prefix

    def allow(self, user: str | None) -> bool:
        if not self.per_minute or not user:
            return True
        name = f"{self.prefix}{user}:{int(self.clock() // 60)}"
        with self.redis.pipeline() as pipe:
            count, _ = pipe.incr(name).expire(name, 120).execute()
        return int(count) <= self.per_minute
