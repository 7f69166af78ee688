"""Thread memory: the earlier question/answer turns of each Slack thread, in a bounded LRU."""

from __future__ import annotations

import threading
from collections import OrderedDict

from bot.engine.types import Turn

ThreadKey = tuple[str, str]  # (channel, thread_ts)


class ThreadMemory:
    """Keeps the last `max_turns` turns of the `max_threads` most recently active threads."""

    def __init__(self, max_threads: int = 2000, max_turns: int = 6) -> None:
        self.max_threads = max_threads
        self.max_turns = max_turns
        self._threads: OrderedDict[ThreadKey, list[Turn]] = OrderedDict()
        self._lock = threading.Lock()

    def turns(self, key: ThreadKey) -> list[Turn]:
        with self._lock:
            turns = self._threads.get(key)
            if turns is None:
                return []
            self._threads.move_to_end(key)
            return list(turns)

    def add(self, key: ThreadKey, turn: Turn) -> None:
        with self._lock:
            turns = self._threads.setdefault(key, [])
            turns.append(turn)
            del turns[: -self.max_turns]
            self._threads.move_to_end(key)
            while len(self._threads) > self.max_threads:
                self._threads.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        return key in self._threads
