"""Thread memory: the earlier question/answer turns of each Slack thread, in a bounded LRU.

A cache only: Slack keeps every thread, and `bot.slack.history` reads a thread's turns back
from it (conversations.replies) when this process does not have them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

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
