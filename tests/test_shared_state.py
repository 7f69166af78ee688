"""What several workers share: delivery dedupe, thread memory and per-user rate limits in a
real Redis, feedback in a real PostgreSQL; the same code as SQLite / in-process otherwise."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from services import postgres_server, redis_server

from bot.engine.types import Answer, Citation, Passage, Turn
from bot.slack.dedupe import RedisSeenKeys
from bot.slack.export import thumbs_down
from bot.slack.feedback import FeedbackStore
from bot.slack.memory import RedisThreadMemory
from bot.slack.ratelimit import RedisUserRate, UserRate
from retrieval.store import StoredChunk


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def redis(redis_url: str):
    import redis as redis_lib

    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    return client


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def test_a_delivery_is_claimed_once_across_workers(redis) -> None:
    workers = [RedisSeenKeys(redis, ttl=60) for _ in range(3)]  # three processes' views
    wins: list[bool] = []
    threads = [
        threading.Thread(target=lambda w=w: wins.append(w.first(("event", "Ev1"))))
        for w in workers * 10
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1 and len(wins) == 30
    assert 0 < redis.ttl("qabot:seen:event:Ev1") <= 60
    assert workers[1].first(("post", "C1", "1.0")) and not workers[2].first(("post", "C1", "1.0"))


def test_thread_memory_is_shared_and_bounded(redis) -> None:
    one, two = RedisThreadMemory(redis, max_turns=2), RedisThreadMemory(redis, max_turns=2)
    key = ("C1", "1.0")
    assert one.get(key) is None  # unknown: read the thread from Slack
    one.put(key, [])
    assert two.get(key) == []  # known, and empty
    for n in range(3):
        (one if n % 2 else two).add(key, Turn(f"q{n}", f"a{n}"))
    assert two.get(key) == [Turn("q1", "a1"), Turn("q2", "a2")]
    assert 0 < redis.ttl("qabot:thr:C1:1.0")


def test_rate_limit_counts_a_user_across_workers(redis) -> None:
    now = [600.0]
    a, b = (RedisUserRate(redis, 3, clock=lambda: now[0]) for _ in range(2))
    assert [a.allow("U1"), b.allow("U1"), a.allow("U1"), b.allow("U1")] == [1, 1, 1, 0]
    assert a.allow("U2") and a.allow(None)
    now[0] += 60  # the next minute
    assert b.allow("U1")
    local = UserRate(1, clock=lambda: now[0])
    assert local.allow("U1") and not local.allow("U1")
    assert UserRate(0).allow("U1")  # 0: no limit


def _answer(question: str) -> Answer:
    p = Passage(1, StoredChunk("p", "Hadi.", "d", "/a.txt", "A", 1, 0, 5), 0.9)
    return Answer(question, "Hadi [1].", True, [Citation(1, "Hadi.", 0, 5, 0.9, p)], [p], question)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_feedback_store_on_sqlite_and_postgresql(
    backend: str, request: pytest.FixtureRequest, tmp_path
) -> None:
    url = (
        request.getfixturevalue("postgres_url") if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'f.sqlite3'}"
    )  # fmt: skip
    stores = [FeedbackStore(url), FeedbackStore(url)]  # two workers
    first = stores[0].record_answer(_answer("Who runs it?"), "C1", "1.0", "U1")
    second = stores[1].record_answer(_answer("And he?"), "C1", "1.0", "U1", [Turn("Who?", "H.")])
    votes = [
        (first, "U2", "down"),
        (first, "U2", "up"),
        (first, "U3", "down"),
        (second, "U2", "down"),
    ]
    for n, (aid, user, vote) in enumerate(votes):
        assert stores[n % 2].vote(aid, user, vote)
    assert not stores[0].vote("unknown", "U2", "down")
    mine = {(v.answer_id, v.user_id, v.vote) for v in stores[1].votes()}
    assert {(first, "U2", "up"), (first, "U3", "down"), (second, "U2", "down")} <= mine
    lines = [
        line for line in thumbs_down(stores[0]) if line["feedback"]["answer_id"] in (first, second)
    ]
    assert [line.get("question") for line in lines] == ["Who runs it?", None]
    assert [t["question"] for t in lines[1]["turns"]] == ["Who?", "And he?"]
    for store in stores:
        store.close()


def _open_at_once(url: str, n: int) -> list[Exception]:
    """`n` threads open a FeedbackStore on `url` at the same moment; what they raised."""
    ready = threading.Barrier(n)
    failures: list[Exception] = []

    def open_store() -> None:
        ready.wait()
        try:
            FeedbackStore(url).close()
        except Exception as exc:
            failures.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_workers_starting_at_once_create_the_feedback_tables_once(postgres_url: str) -> None:
    """Several workers opening an empty PostgreSQL database at the same moment: each checks
    for the tables and creates them; without a lock two of them create the same table."""
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres_url)
    for attempt in range(5):  # the race without the lock failed in the first attempt or two
        schema = f"race{attempt}"
        with admin.begin() as db:
            db.execute(text(f"CREATE SCHEMA {schema}"))
        failures = _open_at_once(f"{postgres_url}?options=-csearch_path%3D{schema}", 6)
        assert not failures, failures[0]
        with admin.connect() as db:
            tables = db.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY 1"),
                {"s": schema},
            ).scalars()
            assert list(tables) == ["answers", "votes"]
    admin.dispose()
