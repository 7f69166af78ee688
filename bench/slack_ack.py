"""Ack latency of `qabot slack` under load: rounds of 20 concurrent @mentions, sent while the
answers to earlier ones are still being generated, in HTTP mode (signed requests, time to the
HTTP response) and Socket Mode (time from envelope sent to ack received). Prints p50/p99.

    .venv/bin/python bench/slack_ack.py [--rounds 3] [--concurrent 20] [--backend fake-llm]

Runs entirely locally: the fake Slack servers of tests/fakes, the real engine in a subprocess.
`fake-llm` answers through a local OpenAI-compatible fake that streams for ~2 s per answer.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakes import slack_requests as sr  # noqa: E402
from fakes.openai_chat import FakeOpenAIChat  # noqa: E402
from fakes.stack import SlackStack, running_bot  # noqa: E402

from bot.evaluation.metrics import percentile as pct  # noqa: E402

QUESTIONS = [
    "Who runs the Fatah Alliance?",
    "Which Iranian news agency reported the proposal for joint exercises?",
    "Which Iraqi officer did Heydari meet with?",
    "Who visited Mosul?",
]


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0-1): the project's one percentile, scaled."""
    return pct(values, q * 100) or 0.0


def http_round(stack: SlackStack, n: int, round_no: int) -> list[float]:
    barrier = Barrier(n)

    def one(i: int) -> float:
        event = sr.mention(f"C{round_no}", f"{round_no}.{i:06d}", QUESTIONS[i % len(QUESTIONS)])
        body, kind = sr.json_body(sr.event_callback(event))
        barrier.wait()
        t0 = time.perf_counter()
        status, _ = stack.post(body, kind)
        assert status == 200, status
        return time.perf_counter() - t0

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def socket_round(stack: SlackStack, n: int, round_no: int) -> list[float]:
    assert stack.sock is not None
    ids = []
    for i in range(n):
        event = sr.mention(f"C{round_no}", f"{round_no}.{i:06d}", QUESTIONS[i % len(QUESTIONS)])
        ids.append(stack.sock.event(sr.event_callback(event)))
    for eid in ids:
        stack.sock.wait_ack(eid, timeout=30)
    return [stack.sock.acked_at[e] - stack.sock.sent_at[e] for e in ids]


def busy(stack: SlackStack) -> str:
    if not stack.events_url:
        return ""
    return json.loads(stack.get("/health")[1]).__repr__()


def run(mode: str, rounds: int, n: int, settings: dict[str, str]) -> list[float]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_bot(Path(tmp), http=mode == "http", debug=False, **settings) as stack,
    ):
        latencies: list[float] = []
        for r in range(1, rounds + 1):
            measure = http_round if mode == "http" else socket_round
            latencies += measure(stack, n, r)
            print(f"  {mode} round {r}: max {max(latencies[-n:]) * 1000:.0f} ms; {busy(stack)}")
        # every mention gets exactly one answer
        for r in range(1, rounds + 1):
            for i in range(n):
                stack.replies(f"C{r}", f"{r}.{i:06d}", timeout=600)
        finals = [m["text"] for m in stack.api.messages.values()]
        away = sum("too many questions" in t for t in finals)
        print(
            f"  {mode}: {len(finals)} replies to {rounds * n} mentions ({away} turned away: busy)"
        )
        return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--backend", choices=["extractive", "fake-llm"], default="extractive")
    parser.add_argument("--mode", choices=["http", "socket", "both"], default="both")
    args = parser.parse_args()
    llm = None
    settings: dict[str, str] = {}
    if args.backend == "fake-llm":
        reply = "The Fatah Alliance is run by Hadi al-Amiri, the head of Badr Organization [1]."
        llm = FakeOpenAIChat(reply, delay=0.15).start()
        settings = {"QABOT_BACKEND": "openai", "OPENAI_BASE_URL": llm.url}
    modes = ["http", "socket"] if args.mode == "both" else [args.mode]
    for mode in modes:
        lat = run(mode, args.rounds, args.concurrent, settings)
        print(
            f"{mode}: {len(lat)} acks, p50 {statistics.median(lat) * 1000:.1f} ms, "
            f"p99 {percentile(lat, 0.99) * 1000:.1f} ms, max {max(lat) * 1000:.1f} ms "
            f"({args.concurrent} concurrent mentions, backend {args.backend})"
        )
    if llm:
        llm.stop()


if __name__ == "__main__":
    main()
