"""The answer engine: rewrite follow-ups, retrieve, generate (or extract), verify citations."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import prompts
from bot.citations import VACUOUS, is_refusal, missing_names, verify
from bot.errors import InputError, LLMError, QabotError
from bot.extractive import extract
from bot.types import Answer, Passage, Turn
from retrieval.search import Hit, HybridSearcher

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
ChatFactory = Callable[[], Any]  # returns a langchain-core chat model, ready to call


@dataclass(frozen=True)
class EngineOptions:
    top_k: int = 4
    min_relevance: float = 0.25
    max_question_chars: int = 2000
    history_turns: int = 3
    reply_deadline: float | None = None  # seconds after which a streamed reply is abandoned


class Engine:
    """Answers questions from an index. Knows nothing of terminals or Slack.

    `chat` builds the chat model on demand (starting a local server if needed); `None`
    selects the extractive backend, which quotes the best supporting sentence.
    """

    def __init__(
        self,
        searcher: HybridSearcher,
        chat: ChatFactory | None,
        options: EngineOptions | None = None,
        backend: str = "extractive",
    ) -> None:
        self.searcher = searcher
        self.chat = chat
        self.options = options or EngineOptions()
        self.backend = backend if chat else "extractive"

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
            current = {c.id for c in self.searcher.store.current(h.chunk for h in hits)}
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
            ("system", prompts.load("system")),
            ("user", prompts.render("answer", passages=listing, question=question)),
        ]
        return self._invoke(messages, on_token=on_token)

    def _invoke(
        self,
        messages: list[tuple[str, str]],
        on_token: Callable[[str], None] | None = None,
        max_tokens: int | None = None,
    ) -> str:
        assert self.chat is not None
        try:
            model = self.chat()
            if max_tokens:
                model = model.bind(extra_body={"max_tokens": max_tokens})
            limit = self.options.reply_deadline
            deadline = time.monotonic() + limit if limit else None
            parts: list[str] = []
            finished = from_api = False
            for chunk in model.stream(messages):
                meta = getattr(chunk, "response_metadata", None) or {}
                from_api = from_api or "model_provider" in meta or "model_name" in meta
                finished = finished or bool(meta.get("finish_reason"))
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if piece:
                    parts.append(piece)
                    if on_token:
                        on_token(piece)
                if deadline and time.monotonic() > deadline:  # a server trickling tokens
                    raise LLMError(_TIMEOUT_MESSAGE)
            if from_api and not finished:  # the connection ended before the reply did
                raise LLMError("The language model's reply was cut off. Try again.")
            return "".join(parts)
        except QabotError:
            raise
        except Exception as exc:  # openai/httpx errors: translate at the boundary
            # the traceback only with --debug: without it, the user sees one `Error:` line
            log.warning("LLM call failed: %s", type(exc).__name__)
            log.debug("LLM call failure details", exc_info=True)
            raise LLMError(_llm_message(exc)) from exc

    def _decline(self, result: Answer, reason: str, t0: float) -> Answer:
        docs = {p.doc_id for p in result.passages}
        result.text = "The articles do not say." if len(docs) > 1 else "The article does not say."
        result.grounded, result.citations, result.decline_reason = False, [], reason
        result.timings["total"] = time.perf_counter() - t0
        log.info("declined %r: %s", result.question[:80], reason)
        return result


def _passage(n: int, hit: Hit) -> Passage:
    c = hit.chunk
    return Passage(
        n=n,
        id=c.id,
        doc_id=c.doc_id,
        source=c.source,
        title=c.title,
        paragraph=c.paragraph,
        start=c.start,
        end=c.end,
        text=c.text,
        score=round(hit.relevance, 4),
    )


_TIMEOUT_MESSAGE = "The language model did not answer in time. Try again, or raise QABOT_TIMEOUT."


def _status(exc: BaseException | None) -> int | None:
    """The HTTP status of an API error, looked for along the exception's causes."""
    while exc is not None:
        status = getattr(exc, "status_code", None)
        if isinstance(status, int):
            return status
        exc = exc.__cause__ or exc.__context__
    return None


def _llm_message(exc: Exception) -> str:
    name = type(exc).__name__
    if "Timeout" in name:
        return _TIMEOUT_MESSAGE
    if "Connection" in name:
        return "The language model server cannot be reached; `qabot doctor` shows its state."
    if "Authentication" in name:
        return "The language model server refused the API key (check OPENAI_API_KEY)."
    if "RateLimit" in name:
        return "The language model server is rate-limiting requests; try again shortly."
    status = _status(exc)
    if status is not None and status >= 500:
        return f"The language model server failed (HTTP {status}). Try again shortly."
    if isinstance(exc, ValueError):  # e.g. a reply that is not JSON
        return "The language model server sent a reply qabot cannot read. Try again."
    return (
        f"The language model failed ({name}). Try again; `qabot doctor` shows the backend's state."
    )
