"""The feedback store: every answer posted and the latest 👍/👎 of each user, in SQLite or
PostgreSQL through SQLAlchemy."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bot.engine.types import Answer, Turn

CREATE_LOCK = 0x71AB07  # the PostgreSQL advisory lock held while creating the tables


def _tables(metadata: Any) -> tuple[Any, Any]:
    from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, Table, Text

    answers = Table(
        "answers", metadata,
        Column("id", Text, primary_key=True),
        Column("created_at", Text, nullable=False),
        Column("channel", Text, nullable=False),
        Column("thread_ts", Text),
        Column("asked_by", Text),
        Column("question", Text, nullable=False),
        Column("standalone_question", Text, nullable=False),
        Column("answer", Text, nullable=False),
        Column("grounded", Integer, nullable=False),
        Column("citations", Text, nullable=False),
        Column("history", Text, nullable=False),
    )  # fmt: skip
    votes = Table(
        "votes", metadata,
        Column("answer_id", Text, ForeignKey("answers.id"), primary_key=True),
        Column("user_id", Text, primary_key=True),
        Column("vote", Text, CheckConstraint("vote IN ('up', 'down')"), nullable=False),
        Column("clicked_at", Text, nullable=False),
    )  # fmt: skip
    return answers, votes


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
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class FeedbackStore:
    """Answers and votes in any SQLAlchemy database: `feedback.sqlite3` in the data directory
    by default, PostgreSQL (QABOT_DATABASE_URL) for a team. Safe to share between threads and
    between workers."""

    def __init__(self, path_or_url: Path | str) -> None:
        from sqlalchemy import MetaData, create_engine, event, text

        url = path_or_url if isinstance(path_or_url, str) else sqlite_url(path_or_url)
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self._engine = create_engine(url, pool_pre_ping=True)
        if self._engine.dialect.name == "sqlite":

            @event.listens_for(self._engine, "connect")
            def _wal(connection: Any, _: Any) -> None:
                connection.execute("PRAGMA busy_timeout=10000")
                connection.execute("PRAGMA journal_mode=WAL")

        metadata = MetaData()
        self._answers, self._votes = _tables(metadata)
        with self._engine.begin() as db:
            if self._engine.dialect.name == "postgresql":
                # Workers starting together would each find no table and create it: the
                # second fails (duplicate type). One at a time; the lock ends with the commit.
                db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CREATE_LOCK})
            metadata.create_all(db)

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
        row = dict(
            id=answer_id, created_at=_now(), channel=channel, thread_ts=thread_ts,
            asked_by=asked_by, question=answer.question,
            standalone_question=answer.standalone_question or answer.question,
            answer=answer.text, grounded=int(answer.grounded), citations=json.dumps(citations),
            history=json.dumps(turns),
        )  # fmt: skip
        with self._engine.begin() as db:
            db.execute(self._answers.insert().values(**row))
        return answer_id

    def vote(self, answer_id: str, user_id: str, vote: str) -> bool:
        """Record a click; a user's later click on the same answer replaces the earlier one.
        False when the answer is unknown (e.g. posted before the store was reset)."""
        from sqlalchemy import select

        if vote not in ("up", "down"):
            raise ValueError(f"vote must be 'up' or 'down', not {vote!r}")
        with self._engine.begin() as db:
            known = db.execute(select(self._answers.c.id).where(self._answers.c.id == answer_id))
            if known.first() is None:
                return False
            db.execute(self._upsert(answer_id, user_id, vote))
        return True

    def _upsert(self, answer_id: str, user_id: str, vote: str) -> Any:
        from sqlalchemy.dialects import postgresql, sqlite

        dialect: Any = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(self._votes).values(
            answer_id=answer_id, user_id=user_id, vote=vote, clicked_at=_now()
        )
        return stmt.on_conflict_do_update(
            index_elements=["answer_id", "user_id"],
            set_={"vote": stmt.excluded.vote, "clicked_at": stmt.excluded.clicked_at},
        )

    def votes(self, vote: str | None = None) -> list[Vote]:
        """Every user's latest click (only `vote` ones if given), oldest first."""
        from sqlalchemy import select

        a, v = self._answers.c, self._votes.c
        query = select(
            v.answer_id, v.user_id, v.vote, v.clicked_at, a.question, a.standalone_question,
            a.answer, a.grounded, a.citations, a.history,
        ).join_from(self._votes, self._answers, v.answer_id == a.id)  # fmt: skip
        if vote:
            query = query.where(v.vote == vote)
        with self._engine.connect() as db:
            rows = db.execute(query.order_by(v.clicked_at, a.created_at, v.user_id)).all()
        return [
            Vote(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), json.loads(r[8]),
                 json.loads(r[9]))
            for r in rows
        ]  # fmt: skip

    def close(self) -> None:
        self._engine.dispose()
