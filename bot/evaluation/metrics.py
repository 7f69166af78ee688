"""The headline figures of an evaluation, and the thresholds that gate them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from bot.evaluation.grading import Graded

STAGES = ("retrieve", "rewrite", "generate", "verify", "total")


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0-100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _ratio(num: float, den: int) -> dict[str, Any]:
    return {"value": num / den if den else None, "num": num, "den": den}


def metrics(single: list[Graded], turns: list[Graded], k: int) -> dict[str, Any]:
    """Every headline figure as {"value" (0-1 or None), "num", "den"}, plus latency and tokens."""
    answerable = [g for g in single if g.item.answerable]
    unanswerable = [g for g in single if not g.item.answerable]
    with_support = [g for g in answerable if g.item.support]
    cited = [c for g in answerable for c in g.outcome.citations]
    every = single + turns
    verbatim = [v for g in every for v in g.outcome.verbatim]
    out: dict[str, Any] = {
        "answer_accuracy": _ratio(sum(g.correct for g in answerable), len(answerable)),
        "refusal_accuracy": _ratio(sum(g.correct for g in unanswerable), len(unanswerable)),
        "false_refusal_rate": _ratio(
            sum(not g.outcome.grounded for g in answerable), len(answerable)
        ),
        "recall_at_k": _ratio(
            sum(g.rank is not None and g.rank <= k for g in with_support), len(with_support)
        ),
        "mrr": _ratio(sum(1 / g.rank for g in with_support if g.rank), len(with_support)),
        "citation_precision": _ratio(sum(g.cited_ok for g in answerable), len(cited)),
        "verbatim_quotes": _ratio(sum(verbatim), len(verbatim)),
        "multiturn_accuracy": _ratio(sum(g.correct for g in turns), len(turns)),
        # answered with confidence (grounded) but wrong, or answered what has no answer
        "confidently_wrong": _ratio(
            sum(g.outcome.grounded and not g.correct for g in every), len(every)
        ),
    }
    out["k"] = k
    out["latency"] = {
        stage: {"p50": percentile(xs, 50), "p95": percentile(xs, 95), "n": len(xs)}
        for stage in STAGES
        if (xs := [g.outcome.timings[stage] for g in every if stage in g.outcome.timings])
    }
    chars = [g.outcome.llm_chars for g in every]
    out["tokens_estimated"] = {
        "per_question": sum(chars) / 4 / len(chars) if chars else 0.0,
        "total": sum(chars) / 4,
        "method": "characters sent to and received from the LLM / 4 (an estimate)",
    }
    return out


THRESHOLDS: dict[str, tuple[str, str]] = {  # option name -> (metric, "min" or "max")
    "min_accuracy": ("answer_accuracy", "min"),
    "min_refusal": ("refusal_accuracy", "min"),
    "max_false_refusal": ("false_refusal_rate", "max"),
    "max_wrong": ("confidently_wrong", "max"),
    "min_recall": ("recall_at_k", "min"),
    "min_citation_precision": ("citation_precision", "min"),
    "min_verbatim": ("verbatim_quotes", "min"),
}


def check_thresholds(
    systems: dict[str, dict[str, Any]], limits: dict[str, float | None]
) -> list[str]:
    """One line per failed threshold, for every qabot system (baselines are not gated).
    A metric with nothing to measure (no citations at all, say) fails a `min` threshold."""
    failures = []
    for name, system in systems.items():
        if system["kind"] != "qabot":
            continue
        for option, limit in limits.items():
            if limit is None:
                continue
            metric, sense = THRESHOLDS[option]
            value = system["metrics"][metric]["value"]
            ok = value is not None and (value >= limit if sense == "min" else value <= limit)
            if not ok and not (value is None and sense == "max"):
                shown = "n/a" if value is None else f"{value:.3f}"
                op = "<" if sense == "min" else ">"
                failures.append(f"{name}: {metric} {shown} {op} {option} {limit:g}")
    return failures
