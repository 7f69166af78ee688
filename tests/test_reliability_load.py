"""Load (docs/reliability.md): 50 @mentions at once, plus 10 retried deliveries, through the
Slack HTTP endpoint of a real `qabot slack` process (extractive backend, so that the run takes
seconds on 2 cores; the LLM backends only make each answer slower, the pool is the same).
Every mention is answered exactly once, memory stays bounded, nothing deadlocks.

    .venv/bin/python tests/test_reliability_load.py [--concurrent 50] [--bursts 2]

prints the figures recorded in docs/reliability.md."""

from __future__ import annotations

import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier
from typing import Any

import pytest

if __name__ == "__main__":
    sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).parent)]

from fakes import slack_requests as sr  # noqa: E402
from fakes.stack import SIGNING_SECRET, SlackStack, is_final, running_bot  # noqa: E402

QUESTIONS = [
    "Who runs the Fatah Alliance?",
    "Which Iranian news agency reported the proposal for joint exercises?",
    "Which Iraqi officer did Heydari meet with?",
    "Who won the 2018 FIFA World Cup?",  # declined: a different path through the engine
]
RETRIED = 10  # of the mentions, this many are delivered a second time (Slack's retry)


def rss_kib(pid: int) -> dict[str, int]:
    """Resident memory now and at its peak (VmRSS, VmHWM) of a process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def burst(stack: SlackStack, n: int, tag: str) -> dict[str, Any]:
    """n mentions at once (RETRIED of them twice), then wait until every one is answered."""
    barrier = Barrier(n)
    events = [
        sr.event_callback(sr.mention(f"C{tag}{i}", f"9.{i:06d}", QUESTIONS[i % 4]))
        for i in range(n)
    ]

    def send(i: int) -> float:
        body, kind = sr.json_body(events[i])
        barrier.wait()
        t0 = time.perf_counter()
        status, _ = stack.post(body, kind)
        assert status == 200, status
        return time.perf_counter() - t0

    def retry(i: int) -> int:
        body, kind = sr.json_body(events[i])
        headers = {**sr.signed(body, SIGNING_SECRET), "X-Slack-Retry-Num": "1",
                   "X-Slack-Retry-Reason": "http_timeout"}  # fmt: skip
        return stack.post(body, kind, headers)[0]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(n) as pool:
        acks = list(pool.map(send, range(n)))
        assert all(s == 200 for s in pool.map(retry, range(RETRIED)))
    for i in range(n):
        stack.replies(f"C{tag}{i}", f"9.{i:06d}", timeout=120)
    answered = time.perf_counter() - t0
    finals = {}
    for i in range(n):
        thread = stack.api.thread(f"C{tag}{i}", f"9.{i:06d}")
        assert len(thread) == 1 and is_final(thread[0]), thread  # one message: the answer
        finals[i] = thread[0]["text"]
    return {
        "acks": acks,
        "answered_s": answered,
        "turned_away": sum("too many questions" in t for t in finals.values()),
        "grounded": sum("does not say" not in t for t in finals.values()),
    }


def settled_health(stack: SlackStack, timeout: float = 10.0) -> dict[str, Any]:
    """/health once the pool is idle: a job posts its answer a moment before it counts itself
    done, so the last reply can be seen while `answering` still reads 1."""
    deadline = time.monotonic() + timeout
    while True:
        health: dict[str, Any] = json.loads(stack.get("/health")[1])
        if health.get("answering") == 0 or time.monotonic() > deadline:
            return health
        time.sleep(0.05)


def run(stack: SlackStack, n: int, bursts: int) -> dict[str, Any]:
    pid = stack.bot.proc.pid
    before = rss_kib(pid)
    results, after = [], []
    for b in range(bursts):
        results.append(burst(stack, n, f"L{b}x"))
        after.append(rss_kib(pid)["VmRSS"])
    health = settled_health(stack)
    acks = [a for r in results for a in r["acks"]]
    return {
        "mentions": n * bursts,
        "retried": RETRIED * bursts,
        "ack_p50_ms": statistics.median(acks) * 1000,
        "ack_max_ms": max(acks) * 1000,
        "all_answered_s": [round(r["answered_s"], 1) for r in results],
        "turned_away": sum(r["turned_away"] for r in results),
        "grounded": sum(r["grounded"] for r in results),
        "rss_start_mib": before["VmRSS"] // 1024,
        "rss_after_bursts_mib": [a // 1024 for a in after],
        "rss_peak_mib": rss_kib(pid)["VmHWM"] // 1024,
        "health": health,
        "messages_posted": len(stack.api.calls_to("chat.postMessage")),
    }


@pytest.mark.slow
def test_fifty_mentions_at_once_are_each_answered_exactly_once(tmp_path: Path) -> None:
    with running_bot(tmp_path, http=True, debug=False) as stack:
        stack.post(*sr.json_body(sr.event_callback(sr.mention("CW", "8.000001", QUESTIONS[0]))))
        stack.replies("CW", "8.000001")  # warm: the index is built and the model loaded
        figures = run(stack, 50, bursts=2)
    print(json.dumps(figures, indent=2))
    assert figures["turned_away"] == 0
    assert figures["messages_posted"] == 1 + 100  # one per mention: retries got no answer
    assert figures["grounded"] == 2 * (50 - 50 // 4)  # every answerable one, both bursts
    assert figures["health"] == {"ok": True, "answering": 0, "queued": 0}
    assert figures["ack_max_ms"] < 3000  # Slack's limit, even with 50 in flight
    first, second = figures["rss_after_bursts_mib"]
    assert second - first < 50, figures  # a second burst does not grow memory again
    assert figures["rss_peak_mib"] - figures["rss_start_mib"] < 300, figures


if __name__ == "__main__":
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--bursts", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_bot(Path(tmp), http=True, debug=False) as s:
        s.post(*sr.json_body(sr.event_callback(sr.mention("CW", "8.000001", QUESTIONS[0]))))
        s.replies("CW", "8.000001")
        print(json.dumps(run(s, args.concurrent, args.bursts), indent=2))
