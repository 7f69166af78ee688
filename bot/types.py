"""The engine's own values: what it returns to every front-end (no library types cross)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, numbered as shown to the model."""

    n: int
    id: str
    doc_id: str
    source: str
    title: str
    paragraph: int
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Citation:
    """`quote == source_text[start:end]`, verified when the answer was built."""

    n: int
    source: str
    title: str
    paragraph: int
    quote: str
    start: int
    end: int
    score: float
    passage: Passage


@dataclass(frozen=True)
class Turn:
    """One earlier question and answer of a conversation."""

    question: str
    answer: str


@dataclass
class Answer:
    question: str
    text: str
    grounded: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    standalone_question: str = ""
    notice: str = ""  # e.g. "question truncated to 2000 characters"
    decline_reason: str = ""  # why an answer was withheld (for logs and --json)
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.text,
            "grounded": self.grounded,
            "citations": [
                {k: v for k, v in asdict(c).items() if k != "passage"} for c in self.citations
            ],
            "decline_reason": self.decline_reason,
            "notice": self.notice,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }
