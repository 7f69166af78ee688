"""Evaluation: the question set format of eval/README.md, its grading rule, and the metrics."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import QabotError

_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
MIN_OVERLAP = 10  # characters a cited span must share with a support string (or all of it)
STAGES = ("retrieve", "rewrite", "generate", "verify", "total")


class EvalDataError(QabotError):
    """An evaluation file is missing or malformed."""

    exit_code = 2


@dataclass(frozen=True)
class Item:
    """One question to ask: a line of the QA file, or one turn of a conversation."""

    id: str
    question: str
    answerable: bool
    expect: tuple[tuple[str, ...], ...]
    support: tuple[str, ...] = ()
    conversation: str = ""  # the thread's id for a conversation turn


@dataclass(frozen=True)
class Span:
    """A retrieved passage or a cited quote: its text and where it sits in its document."""

    text: str
    doc_id: str = ""
    start: int = -1
    end: int = -1


@dataclass
class Outcome:
    """What one system answered, reduced to what grading needs (no engine types)."""

    text: str
    grounded: bool
    citations: list[Span] = field(default_factory=list)
    passages: list[Span] = field(default_factory=list)
    verbatim: list[bool] = field(default_factory=list)  # per citation: exact slice of its doc
    standalone: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    llm_chars: int = 0  # characters sent to and received from the LLM


@dataclass
class Graded:
    item: Item
    outcome: Outcome
    correct: bool
    rank: int | None  # 1-based rank of the first passage holding a support string
    cited_ok: int  # citations that contain or overlap a support string


def fold(text: str) -> str:
    """Lower-case, with curly quotes and apostrophes made straight (the grading rule)."""
    return text.translate(_FOLD).lower()


def meets_expect(answer: str, expect: Sequence[Sequence[str]]) -> bool:
    """True when, for every group, at least one alternative occurs in the answer."""
    folded = fold(answer)
    return all(any(fold(alt) in folded for alt in group) for group in expect)


def _occurrences(doc: str, support: Iterable[str]) -> list[tuple[int, int]]:
    folded, spans = fold(doc), []
    for s in support:
        needle, at = fold(s), 0
        while needle and (at := folded.find(needle, at)) >= 0:
            spans.append((at, at + len(needle)))
            at += 1
    return spans


def holds_support(span: Span, support: Sequence[str], doc_text: str | None) -> bool:
    """Whether a passage or quote contains a support string, or overlaps one in its document
    by at least MIN_OVERLAP characters (all of a shorter one)."""
    text = fold(span.text)
    if any(fold(s) in text for s in support):
        return True
    if doc_text is None or span.start < 0:
        return False
    for lo, hi in _occurrences(doc_text, support):
        shared = min(hi, span.end) - max(lo, span.start)
        if shared >= min(MIN_OVERLAP, hi - lo):
            return True
    return False


def grade(item: Item, outcome: Outcome, doc_text: Callable[[str], str | None]) -> Graded:
    """Answerable: grounded and every expect group met. Unanswerable: declined, no citations."""
    if item.answerable:
        correct = outcome.grounded and meets_expect(outcome.text, item.expect)
    else:
        correct = not outcome.grounded and not outcome.citations
    rank = None
    if item.support:
        for i, p in enumerate(outcome.passages, 1):
            if holds_support(p, item.support, doc_text(p.doc_id) if p.doc_id else None):
                rank = i
                break
    cited_ok = sum(
        holds_support(c, item.support, doc_text(c.doc_id) if c.doc_id else None)
        for c in outcome.citations
    )
    return Graded(item, outcome, correct, rank, cited_ok)


# -- loading ------------------------------------------------------------------------------
def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalDataError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalDataError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise EvalDataError(f"{path}:{number}: each line must be a JSON object")
        rows.append((number, row))
    return rows


def _item(row: dict[str, Any], where: str, id_: str, conversation: str = "") -> Item:
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise EvalDataError(f"{where}: 'question' must be a non-empty string")
    expect = row.get("expect", [])
    if not isinstance(expect, list) or not all(
        isinstance(g, list) and g and all(isinstance(a, str) and a for a in g) for g in expect
    ):
        raise EvalDataError(f"{where}: 'expect' must be a list of non-empty lists of strings")
    support = row.get("support", [])
    if not isinstance(support, list) or not all(isinstance(s, str) and s for s in support):
        raise EvalDataError(f"{where}: 'support' must be a list of non-empty strings")
    answerable = row.get("answerable", bool(expect))
    if not isinstance(answerable, bool) or (answerable and not expect):
        raise EvalDataError(f"{where}: an answerable question needs 'expect' groups")
    return Item(
        id=id_,
        question=question,
        answerable=answerable,
        expect=tuple(tuple(g) for g in expect),
        support=tuple(support),
        conversation=conversation,
    )


def load_questions(path: Path) -> list[Item]:
    """The QA file: one question per line (eval/README.md)."""
    items = [
        _item(row, f"{path}:{n}", str(row.get("id") or f"q{n}")) for n, row in _read_jsonl(path)
    ]
    if not items:
        raise EvalDataError(f"{path} has no questions")
    return items


def load_conversations(path: Path) -> list[list[Item]]:
    """The conversations file: one thread per line, `turns` asked in order."""
    threads = []
    for n, row in _read_jsonl(path):
        cid, turns = str(row.get("id") or f"c{n}"), row.get("turns")
        if not isinstance(turns, list) or not turns:
            raise EvalDataError(f"{path}:{n}: 'turns' must be a non-empty list")
        if not all(isinstance(t, dict) for t in turns):
            raise EvalDataError(f"{path}:{n}: each turn must be a JSON object")
        where = f"{path}:{n} turn"
        threads.append(
            [_item(t, f"{where} {i}", f"{cid}.{i}", cid) for i, t in enumerate(turns, 1)]
        )
    return threads


# -- metrics ------------------------------------------------------------------------------
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


# -- thresholds ---------------------------------------------------------------------------
THRESHOLDS: dict[str, tuple[str, str]] = {  # option name -> (metric, "min" or "max")
    "min_accuracy": ("answer_accuracy", "min"),
    "min_refusal": ("refusal_accuracy", "min"),
    "max_false_refusal": ("false_refusal_rate", "max"),
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
