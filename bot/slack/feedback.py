"""The feedback store: every answer posted and the latest 👍/👎 of each user, in SQLite."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bot.engine.types import Answer, Turn

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    asked_by TEXT,
    question TEXT NOT NULL,
    standalone_question TEXT NOT NULL,
    answer TEXT NOT NULL,
    grounded INTEGER NOT NULL,
    citations TEXT NOT NULL,
    history TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers(id),
    user_id TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    clicked_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
"""


@dataclass(frozen=True)
class Vote:
    """One user's latest click on one answer, with what was asked and answered."""

    answer_id: str
    user_id: str
    vote: str
    clicked_at: str
    question: str
    standalone_question: str
    answer: str
    grounded: bool
    citations: list[dict[str, Any]]
    history: list[dict[str, str]]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class FeedbackStore:
    """`feedback.sqlite3` in the data directory; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def record_answer(
        self,
        answer: Answer,
        channel: str,
        thread_ts: str | None,
        asked_by: str | None,
        history: Sequence[Turn] = (),
    ) -> str:
        """Store an answer about to be posted; returns the id its buttons carry."""
        answer_id = uuid.uuid4().hex
        citations = [
            {"n": c.n, "source": c.source, "title": c.title, "paragraph": c.paragraph,
             "quote": c.quote, "start": c.start, "end": c.end}
            for c in answer.citations
        ]  # fmt: skip
        turns = [{"question": t.question, "answer": t.answer} for t in history]
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    answer_id, _now(), channel, thread_ts, asked_by, answer.question,
                    answer.standalone_question or answer.question, answer.text,
                    int(answer.grounded), json.dumps(citations), json.dumps(turns),
                ),
            )  # fmt: skip
        return answer_id

    def vote(self, answer_id: str, user_id: str, vote: str) -> bool:
        """Record a click; a user's later click on the same answer replaces the earlier one.
        False when the answer is unknown (e.g. posted before the store was reset)."""
        if vote not in ("up", "down"):
            raise ValueError(f"vote must be 'up' or 'down', not {vote!r}")
        with self._lock, self._db:
            if not self._db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone():
                return False
            self._db.execute(
                "INSERT INTO votes VALUES (?, ?, ?, ?) ON CONFLICT(answer_id, user_id) "
                "DO UPDATE SET vote = excluded.vote, clicked_at = excluded.clicked_at",
                (answer_id, user_id, vote, _now()),
            )
        return True

    def votes(self, vote: str | None = None) -> list[Vote]:
        """Every user's latest click (only `vote` ones if given), oldest first."""
        sql = (
            "SELECT v.answer_id, v.user_id, v.vote, v.clicked_at, a.question,"
            " a.standalone_question, a.answer, a.grounded, a.citations, a.history"
            " FROM votes v JOIN answers a ON a.id = v.answer_id"
        )
        args: tuple[str, ...] = ()
        if vote:
            sql, args = sql + " WHERE v.vote = ?", (vote,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY v.clicked_at, v.rowid", args).fetchall()
        return [
            Vote(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), json.loads(r[8]),
                 json.loads(r[9]))
            for r in rows
        ]  # fmt: skip

    def close(self) -> None:
        with self._lock:
            self._db.close()
