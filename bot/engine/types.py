"""The engine's own values: what it returns to every front-end (no library types cross)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.embeddings import Embeddings

from retrieval.search import Hit
from retrieval.store import StoredChunk


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk as numbered for the model, with its relevance."""

    n: int
    chunk: StoredChunk
    score: float
    context: str = ""  # the text just before it in its document, not shown to the model

    @property
    def id(self) -> str:
        return self.chunk.id

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id

    @property
    def source(self) -> str:
        return self.chunk.source

    @property
    def title(self) -> str:
        return self.chunk.title

    @property
    def paragraph(self) -> int:
        return self.chunk.paragraph

    @property
    def url(self) -> str:
        return self.chunk.url

    @property
    def published(self) -> str:
        return self.chunk.published

    @property
    def site(self) -> str:
        return self.chunk.site

    @property
    def start(self) -> int:
        return self.chunk.start

    @property
    def end(self) -> int:
        return self.chunk.end

    @property
    def text(self) -> str:
        return self.chunk.text


@dataclass(frozen=True)
class Citation:
    """`quote == document_text[start:end]`, verified when the answer was built."""

    n: int
    quote: str
    start: int
    end: int
    score: float
    passage: Passage

    @property
    def source(self) -> str:
        return self.passage.source

    @property
    def title(self) -> str:
        return self.passage.title

    @property
    def paragraph(self) -> int:
        return self.passage.paragraph

    @property
    def url(self) -> str:
        return self.passage.url

    @property
    def published(self) -> str:
        return self.passage.published

    @property
    def site(self) -> str:
        return self.passage.site

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "source": self.source,
            "title": self.title,
            "paragraph": self.paragraph,
            "url": self.url or None,
            "published": self.published or None,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "score": self.score,
        }


@dataclass(frozen=True)
class Turn:
    """One earlier question and answer of a conversation."""

    question: str
    answer: str
    doc_ids: tuple[str, ...] = ()  # the articles its answer cited: follow-ups stay on them


@dataclass
class Answer:
    question: str
    text: str
    grounded: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)  # the retrieved chunks
    evidence: list[Passage] = field(default_factory=list)  # the sentences the model was shown
    standalone_question: str = ""
    notice: str = ""  # e.g. "question truncated to 2000 characters"
    decline_reason: str = ""  # why an answer was withheld (for logs and --json)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def doc_ids(self) -> tuple[str, ...]:
        """The articles the answer cites, in order (a follow-up stays on them)."""
        return tuple(dict.fromkeys(c.passage.doc_id for c in self.citations))

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.text,
            "grounded": self.grounded,
            "citations": [c.to_json() for c in self.citations],
            "decline_reason": self.decline_reason,
            "notice": self.notice,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


class Searcher(Protocol):
    """What the engine needs of retrieval (`retrieval.search.HybridSearcher` is one)."""

    embeddings: Embeddings

    def search(self, query: str, k: int = 4) -> list[Hit]: ...

    def current(self, hits: list[Hit]) -> list[Hit]: ...

    def preceding(self, chunk: StoredChunk) -> StoredChunk | None: ...


class AnswerEngine(Protocol):
    """What the front-ends (terminal, Slack) need of an engine."""

    def warm_up(self) -> None: ...

    def answer(
        self,
        question: str,
        history: Sequence[Turn] = (),
        on_token: Callable[[str], None] | None = None,
    ) -> Answer: ...
