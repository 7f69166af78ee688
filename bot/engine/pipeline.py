"""The answer engine: rewrite follow-ups, retrieve, generate (or extract), verify citations."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import prompts
from bot.engine.citations import NOT_FOUND, VACUOUS, is_refusal, missing_names, verify
from bot.engine.extractive import extract
from bot.engine.llm import ChatFactory, Messages, stream_reply
from bot.engine.types import Answer, Passage, Searcher, Turn
from bot.errors import InputError
from retrieval.search import Hit

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class EngineOptions:
    """How the engine answers; built from `Settings`, where the defaults live."""

    top_k: int
    min_relevance: float
    max_question_chars: int
    history_turns: int = 3
    reply_deadline: float | None = None  # seconds after which a streamed reply is abandoned


class Engine:
    """Answers questions from an index. Knows nothing of terminals or Slack.

    `chat` builds the chat model on demand (starting a local server if needed); `None`
    selects the extractive backend, which quotes the best supporting sentence.
    """

    def __init__(
        self,
        searcher: Searcher,
        chat: ChatFactory | None,
        options: EngineOptions,
    ) -> None:
        self.searcher = searcher
        self.chat = chat
        self.options = options

    # -- public --------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load what the first answer would otherwise wait for: the embedding model and the
        local model server."""
        self.searcher.embeddings.embed_query("warm up")
        if self.chat:
            try:
                self.chat()
            except Exception as exc:  # the first question will report it properly
                log.warning("warm-up failed: %s", type(exc).__name__)

    def answer(
        self,
        question: str,
        history: Sequence[Turn] = (),
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        t0 = time.perf_counter()
        question, notice = self.clean_question(question)
        timings: dict[str, float] = {}

        standalone = question
        if history:
            t = time.perf_counter()
            standalone = self.rewrite(question, history[-self.options.history_turns :])
            timings["rewrite"] = time.perf_counter() - t

        t = time.perf_counter()
        hits = self._search(standalone)
        timings["retrieve"] = time.perf_counter() - t
        passages = [_passage(i + 1, h) for i, h in enumerate(hits)]
        result = Answer(
            question=question,
            text="",
            grounded=False,
            passages=passages,
            standalone_question=standalone,
            notice=notice,
            timings=timings,
        )

        best = max((h.relevance for h in hits), default=0.0)
        if best < self.options.min_relevance:
            return self._decline(result, f"no passage is relevant enough ({best:.2f})", t0)

        t = time.perf_counter()
        draft = (
            self._generate(standalone, passages, on_token)
            if self.chat
            else extract(standalone, passages, self.searcher.embeddings)
        )
        timings["generate"] = time.perf_counter() - t
        if is_refusal(draft):
            return self._decline(result, "the model found no answer in the passages", t0)

        t = time.perf_counter()
        text, citations, reason = verify(draft, standalone, passages)
        if self.chat and (
            reason == VACUOUS or (not reason and missing_names(standalone, citations, passages))
        ):
            # The model echoed the question ("Besides X, who...?" -> "X") or answered about
            # someone else: quote the passage sentence that best answers instead, verified.
            log.info("falling back to a quote: %s", reason or "answer about other names")
            draft = extract(standalone, passages, self.searcher.embeddings)
            text, citations, reason = verify(draft, standalone, passages)
        timings["verify"] = time.perf_counter() - t
        if reason or not citations:
            return self._decline(result, reason or "no citation could be verified", t0)
        result.text, result.citations, result.grounded = text, citations, True
        timings["total"] = time.perf_counter() - t0
        return result

    def clean_question(self, question: str) -> tuple[str, str]:
        """Strip control characters and excess length; raise on an empty question."""
        text = (question or "").encode("utf-8", "ignore").decode("utf-8")  # lone surrogates
        text = " ".join(_CONTROL.sub(" ", text).split())
        if not text:
            raise InputError("The question is empty: type a question about the articles.")
        limit = self.options.max_question_chars
        if len(text) > limit:
            return text[
                :limit
            ], f"Your question was {len(text)} characters; only the first {limit} were used."
        return text, ""

    # -- steps ---------------------------------------------------------------------------
    def _search(self, question: str) -> list[Hit]:
        """The best hits of the documents' current versions. If a document was replaced while
        searching (some hits are of the version on its way out), search once more."""
        for _ in range(2):
            hits = self.searcher.search(question, self.options.top_k)
            current = {h.chunk.id for h in self.searcher.current(hits)}
            if len(current) == len(hits):
                return hits
        return [h for h in hits if h.chunk.id in current]

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        """Make a follow-up standalone. Without an LLM, prefix the earlier question instead."""
        if not self.chat:
            return f"{history[-1].question} {question}"
        convo = "\n".join(  # earlier answers trimmed: the rewrite needs names, not detail
            f"User: {t.question[:300]}\nAssistant: {t.answer[:300]}" for t in history
        )
        prompt = prompts.render("rewrite", history=convo, question=question)
        out = self._invoke([("user", prompt)], max_tokens=60)
        line = out.strip().splitlines()[0].strip().strip('"') if out.strip() else ""
        return line if 3 <= len(line) <= 4 * len(question) + 200 else question

    def _generate(
        self, question: str, passages: list[Passage], on_token: Callable[[str], None] | None
    ) -> str:
        # Best passage last, nearest the question: small models read recent text best.
        listing = "\n".join(f"[{p.n}] {' '.join(p.text.split())}" for p in reversed(passages))
        messages = [
            ("system", prompts.render("system", not_found=NOT_FOUND)),
            ("user", prompts.render("answer", passages=listing, question=question)),
        ]
        return self._invoke(messages, on_token=on_token)

    def _invoke(
        self,
        messages: Messages,
        on_token: Callable[[str], None] | None = None,
        max_tokens: int | None = None,
    ) -> str:
        assert self.chat is not None
        return stream_reply(
            self.chat,
            messages,
            on_token=on_token,
            max_tokens=max_tokens,
            deadline=self.options.reply_deadline,
        )

    def _decline(self, result: Answer, reason: str, t0: float) -> Answer:
        docs = {p.doc_id for p in result.passages}
        result.text = "The articles do not say." if len(docs) > 1 else "The article does not say."
        result.grounded, result.citations, result.decline_reason = False, [], reason
        result.timings["total"] = time.perf_counter() - t0
        log.info("declined %r: %s", result.question[:80], reason)
        return result


def _passage(n: int, hit: Hit) -> Passage:
    return Passage(n=n, chunk=hit.chunk, score=round(hit.relevance, 4))
