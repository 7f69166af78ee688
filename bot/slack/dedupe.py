"""Recognising repeated deliveries: keys that expire after a while, kept in this process
(`SeenKeys`) or in Redis for several workers (`RedisSeenKeys`, SET NX EX)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class SeenKeys:
    """Remembers keys for `ttl` seconds (and at most `max_keys` of them)."""

    def __init__(
        self,
        ttl: float = 3600.0,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_keys = max_keys
        self._clock = clock
        self._keys: OrderedDict[Hashable, float] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, key: Hashable) -> bool:
        """True the first time `key` is offered within the TTL, False on every repeat."""
        now = self._clock()
        with self._lock:
            while self._keys:
                oldest, seen_at = next(iter(self._keys.items()))
                if now - seen_at < self.ttl and len(self._keys) < self.max_keys:
                    break
                self._keys.pop(oldest)
            if key in self._keys:
                return False
            self._keys[key] = now
            return True

    def __len__(self) -> int:
        return len(self._keys)


class RedisSeenKeys:
    """The same, shared by every worker: the first `SET key NX EX ttl` wins."""

    def __init__(self, redis: Any, ttl: float = 3600.0, prefix: str = "qabot:seen:") -> None:
        self.redis, self.ttl, self.prefix = redis, int(ttl), prefix

    def first(self, key: Hashable) -> bool:
        name = self.prefix + ":".join(map(str, key if isinstance(key, tuple) else (key,)))
        return bool(self.redis.set(name, "1", nx=True, ex=self.ttl))


def dedupe_middleware(seen: SeenKeys | RedisSeenKeys) -> Callable[..., Any]:
    """Bolt global middleware: a repeated `event_id` (a retry, in HTTP or Socket Mode) is
    acknowledged and dropped. Posts seen twice under different event ids (an `app_mention`
    and a `message` for one post) are caught by the listeners with the post's channel + ts."""

    def deliver_once(body: dict[str, Any], next: Callable[[], None], logger: Any) -> Any:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not seen.first(("event", event_id)):
            from slack_bolt import BoltResponse

            logger.info("dropped a repeated delivery of event %s", event_id)
            return BoltResponse(status=200, body="")
        return next()

    return deliver_once
