"""Thread memory: the earlier question/answer turns of each Slack thread, in a bounded LRU.

A cache only: Slack keeps every thread, and `bot.slack.history` reads a thread's turns back
from it (conversations.replies) when the memory does not have them. `RedisThreadMemory` is the
same cache shared by several workers."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from bot.engine.types import Turn

ThreadKey = tuple[str, str]  # (channel, thread_ts)


class ThreadMemory:
    """Keeps the last `max_turns` turns of the `max_threads` most recently active threads."""

    def __init__(self, max_threads: int = 2000, max_turns: int = 6) -> None:
        self.max_threads = max_threads
        self.max_turns = max_turns
        self._threads: OrderedDict[ThreadKey, list[Turn]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: ThreadKey) -> list[Turn] | None:
        """The thread's turns, or None when this memory does not know the thread."""
        with self._lock:
            turns = self._threads.get(key)
            if turns is None:
                return None
            self._threads.move_to_end(key)
            return list(turns)

    def turns(self, key: ThreadKey) -> list[Turn]:
        return self.get(key) or []

    def put(self, key: ThreadKey, turns: Sequence[Turn]) -> None:
        """Remember a thread's turns as read from elsewhere (Slack), replacing what was kept."""
        with self._lock:
            self._threads[key] = list(turns)[-self.max_turns :]
            self._trim(key)

    def add(self, key: ThreadKey, turn: Turn) -> None:
        with self._lock:
            turns = self._threads.setdefault(key, [])
            turns.append(turn)
            del turns[: -self.max_turns]
            self._trim(key)

    def _trim(self, key: ThreadKey) -> None:
        self._threads.move_to_end(key)
        while len(self._threads) > self.max_threads:
            self._threads.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        return key in self._threads


class RedisThreadMemory:
    """Thread memory in Redis: one list of JSON turns per thread, expiring `ttl` seconds after
    its last turn, so every worker sees the turns any worker answered."""

    def __init__(
        self, redis: Any, max_turns: int = 6, ttl: int = 7 * 24 * 3600, prefix: str = "qabot:thr:"
    ) -> None:
        self.redis, self.max_turns, self.ttl, self.prefix = redis, max_turns, ttl, prefix

    def _name(self, key: ThreadKey) -> str:
        return f"{self.prefix}{key[0]}:{key[1]}"

    def get(self, key: ThreadKey) -> list[Turn] | None:
        name = self._name(key)
        if not self.redis.exists(name):
            return None
        rows = self.redis.lrange(name, 0, -1)
        return [_turn(json.loads(r)) for r in rows if r != b"{}"]

    def turns(self, key: ThreadKey) -> list[Turn]:
        return self.get(key) or []

    def put(self, key: ThreadKey, turns: Sequence[Turn]) -> None:
        rows = ["{}", *(json.dumps(t.__dict__) for t in list(turns)[-self.max_turns :])]
        name = self._name(key)  # "{}" marks a thread known to have no turns yet
        with self.redis.pipeline() as pipe:
            pipe.delete(name).rpush(name, *rows).expire(name, self.ttl).execute()

    def add(self, key: ThreadKey, turn: Turn) -> None:
        name = self._name(key)
        with self.redis.pipeline() as pipe:
            pipe.rpush(name, json.dumps(turn.__dict__)).ltrim(name, -self.max_turns, -1)
            pipe.expire(name, self.ttl).execute()


def _turn(stored: dict[str, Any]) -> Turn:
    """A turn as written by `asdict`: its tuple of article ids came back as a list."""
    return Turn(stored["question"], stored["answer"], tuple(stored.get("doc_ids") or ()))
