"""Three `qabot slack --http` workers on one port, sharing Redis and PostgreSQL: 100 @mentions,
with Slack's retries and duplicate deliveries spread over the workers, are each answered exactly
once, none lost, and every worker answers some.

    .venv/bin/python tests/test_slack_workers.py   # prints the figures (docs/reliability.md)
"""

from __future__ import annotations

import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier
from typing import Any

import pytest

if __name__ == "__main__":
    sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).parent)]

from conftest import free_port  # noqa: E402
from fakes import slack_requests as sr  # noqa: E402
from fakes.stack import SIGNING_SECRET, SlackStack, http_get, is_final, running_bot  # noqa: E402
from services import postgres_server, redis_server  # noqa: E402

from bot.evaluation.metrics import percentile  # noqa: E402

WORKERS, MENTIONS, CONCURRENT = 3, 100, 20
QUESTIONS = [
    "Who runs the Fatah Alliance?",
    "Which Iranian news agency reported the proposal for joint exercises?",
    "Which Iraqi officer did Heydari meet with?",
    "Who won the 2018 FIFA World Cup?",
]


def deliveries(i: int) -> list[tuple[str, dict[str, str] | None]]:
    """Mention i as Slack may deliver it: once, plus a retry (every 3rd) and the same post
    under another event id (every 5th)."""
    event = sr.mention(f"CW{i}", f"7.{i:06d}", QUESTIONS[i % 4])
    body = json.dumps(sr.event_callback(event))
    out: list[tuple[str, dict[str, str] | None]] = [(body, None)]
    if i % 3 == 0:
        retry = {**sr.signed(body, SIGNING_SECRET), "X-Slack-Retry-Num": "1",
                 "X-Slack-Retry-Reason": "http_timeout"}  # fmt: skip
        out.append((body, retry))
    if i % 5 == 0:
        out.append((json.dumps(sr.event_callback(event)), None))  # a new event_id
    return out


def run(stack: SlackStack, health_port: int) -> dict[str, Any]:
    acks: list[float] = []
    sent = 0
    for start in range(0, MENTIONS, CONCURRENT):
        batch = [d for i in range(start, start + CONCURRENT) for d in deliveries(i)]
        barrier = Barrier(len(batch))

        def send(delivery: tuple[str, dict[str, str] | None], barrier: Barrier = barrier) -> float:
            body, headers = delivery
            barrier.wait()
            t0 = time.perf_counter()
            status, _ = stack.post(body, "application/json", headers)
            assert status == 200, status
            return time.perf_counter() - t0

        with ThreadPoolExecutor(len(batch)) as pool:
            acks += pool.map(send, batch)
        sent += len(batch)
    for i in range(MENTIONS):
        stack.replies(f"CW{i}", f"7.{i:06d}", timeout=180)
    stack.stays(lambda: len(stack.api.calls_to("chat.postMessage")) == MENTIONS, seconds=1.0)
    threads = [stack.api.thread(f"CW{i}", f"7.{i:06d}") for i in range(MENTIONS)]
    per_worker = []
    for w in range(WORKERS):
        text = http_get(f"http://127.0.0.1:{health_port + w}/metrics")[1]
        counts = re.findall(r'qabot_answers_total\{outcome="(grounded|declined)"\} (\S+)', text)
        per_worker.append(int(sum(float(v) for _, v in counts)))
    return {
        "workers": WORKERS,
        "mentions": MENTIONS,
        "deliveries": sent,
        "answered_once": sum(len(t) == 1 and is_final(t[0]) for t in threads),
        "duplicates": sum(max(0, len(t) - 1) for t in threads),
        "lost": sum(not t for t in threads),
        "answers_per_worker": per_worker,
        "ack_p50_ms": round(percentile(acks, 50) * 1000, 1),
        "ack_p99_ms": round(percentile(acks, 99) * 1000, 1),
        "ack_max_ms": round(max(acks) * 1000, 1),
    }


def three_workers(tmp: Path, redis_url: str, database_url: str, health_port: int) -> Any:
    return running_bot(
        tmp, http=True, debug=False, extra_args=("--workers", str(WORKERS)),
        QABOT_REDIS_URL=redis_url, QABOT_DATABASE_URL=database_url,
        QABOT_HEALTH_PORT=str(health_port),
    )  # fmt: skip


def health_ports() -> int:
    base = free_port()
    return base if base + WORKERS < 65536 else health_ports()


@pytest.mark.slow
def test_three_workers_answer_each_mention_exactly_once(tmp_path: Path) -> None:
    port = health_ports()
    with (
        redis_server() as redis_url,
        postgres_server() as database_url,
        three_workers(tmp_path, redis_url, database_url, port) as stack,
    ):
        figures = run(stack, port)
        print(json.dumps(figures, indent=2))
        rows = stack_rows(database_url)
    assert figures["answered_once"] == MENTIONS and figures["duplicates"] == 0
    assert figures["lost"] == 0 and rows == MENTIONS  # one feedback record per answer
    assert sum(figures["answers_per_worker"]) == MENTIONS
    assert all(n > 0 for n in figures["answers_per_worker"]), figures  # spread over all
    assert figures["ack_max_ms"] < 3000


def stack_rows(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as db:
        count = db.execute(text("SELECT count(*) FROM answers")).scalar_one()
    engine.dispose()
    return int(count)


if __name__ == "__main__":
    import tempfile

    with (
        tempfile.TemporaryDirectory() as tmp,
        redis_server() as redis_url,
        postgres_server() as database_url,
    ):
        port = health_ports()
        with three_workers(Path(tmp), redis_url, database_url, port) as stack:
            print(json.dumps(run(stack, port), indent=2))
