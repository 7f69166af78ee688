"""Grading one answer by the rule of eval/README.md: expected strings, refusals, support."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bot.evaluation.dataset import Item
from retrieval.text import fold

MIN_OVERLAP = 10  # characters a cited span must share with a support string (or all of it)


@dataclass(frozen=True)
class Excerpt:
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
    citations: list[Excerpt] = field(default_factory=list)
    passages: list[Excerpt] = field(default_factory=list)
    verbatim: list[bool] = field(default_factory=list)  # per citation: exact slice of its doc
    standalone: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    llm_chars: int = 0  # characters sent to and received from the LLM
    decline_reason: str = ""  # why a system withheld its answer (qabot only)


@dataclass
class Graded:
    item: Item
    outcome: Outcome
    correct: bool
    rank: int | None  # 1-based rank of the first passage holding a support string
    cited_ok: int  # citations that contain or overlap a support string


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


def holds_support(span: Excerpt, support: Sequence[str], doc_text: str | None) -> bool:
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
