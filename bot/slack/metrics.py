"""Prometheus metrics of the Slack bot: answers by outcome, latencies, queue depth, LLM errors.

One registry per process (not prometheus_client's global one), served at /metrics by
bot.slack.health."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OUTCOMES = (
    "grounded", "declined", "llm_error", "input_error", "error", "turned_away", "rate_limited",
    "restarting",
)  # fmt: skip
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120)


class Metrics:
    """The bot's counters, histograms and gauges, in their own registry."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.answers = Counter(
            "qabot_answers", "Questions finished, by outcome", ["outcome"], registry=self.registry
        )
        for outcome in OUTCOMES:
            self.answers.labels(outcome)  # every outcome shows, even at 0
        self.answer_seconds = Histogram(
            "qabot_answer_seconds", "Time to answer a question (engine)",
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.wait_seconds = Histogram(
            "qabot_queue_wait_seconds", "Time a question waited for an answering thread",
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.llm_errors = Counter(
            "qabot_llm_errors", "Language model failures", registry=self.registry
        )
        self.queue_depth = Gauge(
            "qabot_queue_depth", "Questions waiting for an answering thread", registry=self.registry
        )
        self.answering = Gauge(
            "qabot_answering", "Questions being answered or waiting", registry=self.registry
        )

    def track_pool(self, queued: Callable[[], int], pending: Callable[[], int]) -> None:
        """Read the pool's depth whenever metrics are scraped."""
        self.queue_depth.set_function(lambda: float(queued()))
        self.answering.set_function(lambda: float(pending()))

    def outcome(self, name: str) -> None:
        self.answers.labels(name).inc()
        if name == "llm_error":
            self.llm_errors.inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def value(self, name: str, **labels: Any) -> float:
        """One sample's current value (for tests and `qabot` itself); 0 when absent."""
        return float(self.registry.get_sample_value(name, labels or None) or 0.0)
