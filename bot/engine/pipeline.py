"""The answer engine: rewrite follow-ups, retrieve, generate (or extract), verify citations."""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from langchain_core.embeddings import Embeddings

import prompts
from bot.engine.citations import (
    MARKER,
    MISBOUND,
    NOT_FOUND,
    UNSUPPORTED,
    VACUOUS,
    drops_list_items,
    is_fragment,
    is_refusal,
    marked,
    sentence_problem,
    verify,
)
from bot.engine.evidence import (
    candidate_sentences,
    evidence_passages,
    join_references,
    listing,
    score_sentences,
    select,
)
from bot.engine.extractive import extract
from bot.engine.llm import ChatFactory, Messages, stream_reply
from bot.engine.relations import spelled_out
from bot.engine.types import Answer, Citation, Passage, Searcher, Turn
from bot.errors import InputError
from retrieval.search import Hit
from retrieval.text import cosine

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
REFUSED = "the model found no answer in the passages"
_REFERS_BACK = re.compile(
    r"\b(?:he|him|his|she|her|hers|it|its|they|them|their|theirs|there|that|this|these|those|"
    r"the same|also|too|either|else|other|another|former|latter)\b|"
    r"^\s*(?:and|but|what about|how about|why|when|where)\b[^?]{0,25}\?",
    re.IGNORECASE,
)


@functools.cache
def system_message() -> tuple[str, str]:
    """The one system message of every call: kept identical, so llama.cpp's prompt cache
    holds it and only the question's own text is processed."""
    return ("system", prompts.render("system", not_found=NOT_FOUND))


@dataclass(frozen=True)
class EngineOptions:
    """How the engine answers; built from `Settings`, where the defaults live."""

    top_k: int
    min_relevance: float
    max_question_chars: int
    evidence_sentences: int
    evidence_chars: int
    retry_sentences: int = 2
    recover_score: float = 0.55  # evidence this strong may answer when the model says not
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
        self._vectors: dict[str, list[float]] = {}  # of short phrases, for `similar`
        self._vectors_lock = threading.Lock()

    @property
    def embeddings(self) -> Embeddings:
        return self.searcher.embeddings

    # -- public --------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load what the first answer would otherwise wait for: the embedding model, the local
        model server, and the system prompt in the server's prompt cache."""
        self.embeddings.embed_query("warm up")
        if self.chat:
            try:
                self._invoke(
                    [system_message(), ("user", "Question: warm up\nAnswer:")], max_tokens=1
                )
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
            timings["retrieve"] = time.perf_counter() - t
            return self._decline(result, f"no passage is relevant enough ({best:.2f})", t0)
        thread_docs = {d for turn in history[-1:] for d in turn.doc_ids}
        scored = score_sentences(
            standalone, candidate_sentences([h.chunk for h in hits]), self.embeddings, thread_docs
        )
        chosen = select(scored, self.options.evidence_sentences, self.options.evidence_chars)
        chosen = join_references(chosen)  # for the model: "that he said" after who "he" is
        preceding = self.searcher.preceding
        result.evidence = evidence = evidence_passages(chosen, preceding)
        # every candidate sentence, for quoting one when the model's answer fails
        pool = evidence_passages(select(scored, len(scored), 1 << 30), preceding)
        timings["retrieve"] = time.perf_counter() - t

        t = time.perf_counter()
        if self.chat is None:  # the extractive backend quotes the best sentence of them all
            result.evidence = evidence = pool
            draft = self._extract(standalone, pool)
        else:
            draft = self._generate(standalone, evidence, on_token)
        timings["generate"] = time.perf_counter() - t

        t, retrying = time.perf_counter(), 0.0
        text, citations, reason = self._check(draft, standalone, evidence, pool)
        if reason == REFUSED and self.chat is not None and len(evidence) > 1:
            # A refusal is not final while the best sentences may hold the answer: ask again
            # with only those, which a small model reads more reliably.
            strongest = sorted(evidence, key=lambda p: -p.score)[: self.options.retry_sentences]
            retry = sorted(strongest, key=lambda p: p.score)  # the strongest last
            t1 = time.perf_counter()
            draft = self._generate(standalone, retry, None)
            retrying = time.perf_counter() - t1
            timings["generate"] += retrying
            text, citations, reason = self._check(draft, standalone, retry, pool)
            if reason == REFUSED and retry[-1].score >= self.options.recover_score:
                # still no: the strongest sentence may answer it as it stands, if it passes
                # every check an answer must pass
                text, citations, reason = self._check(
                    self._extract(standalone, retry), standalone, retry, None
                )
        timings["verify"] = time.perf_counter() - t - retrying
        if reason or not citations:
            return self._decline(result, reason or "no citation could be verified", t0)
        result.text, result.citations, result.grounded = text, citations, True
        timings["total"] = time.perf_counter() - t0
        return result

    def _check(
        self, draft: str, question: str, evidence: list[Passage], pool: list[Passage] | None
    ) -> tuple[str, list[Citation], str]:
        """Verify a draft: (answer text, citations, "" or why it cannot be given). When the
        draft fails, the best sentence of `pool` that passes every check may stand instead."""
        if is_refusal(draft):
            return "", [], REFUSED
        text, citations, reason = verify(draft, question, evidence, self.similar)
        if (
            pool is not None
            and self.chat is not None
            and (reason == VACUOUS or reason.startswith((MISBOUND, UNSUPPORTED)))
        ):
            # The model echoed the question ("Besides X, who...?" -> "X") or answered about
            # someone or something else: quote the sentence that best answers instead, held
            # to the same checks.
            log.info("falling back to a quote: %s", reason)
            draft = self._extract(question, pool)
            if is_refusal(draft):  # no sentence answers it: the model's failure stands
                return "", [], f"{reason}; no passage sentence answers it"
            text, citations, reason = verify(draft, question, pool, self.similar)
        if (
            not reason
            and citations
            and (
                is_fragment(text, question)
                or any(drops_list_items(text, c.quote) for c in citations)
            )
        ):
            # "Rudaw [1]", or two items of three: give the quoted sentence, which names its
            # subject and keeps every item, instead
            text = " ".join(marked(" ".join(c.quote.split()), c.n) for c in citations)
        return text, citations, reason

    def _extract(self, question: str, evidence: list[Passage]) -> str:
        """The best evidence sentence that states an answer to the question."""

        def states(p: Passage, sentence: str) -> bool:
            start = p.text.find(sentence)
            end = start + len(sentence)
            return not sentence_problem(question, sentence, p, start, end, self.similar)

        return extract(question, evidence, states)

    def similar(self, a: str, b: str) -> float:
        """How alike two short phrases are in meaning (cosine of their embeddings)."""
        with self._vectors_lock:  # answers run in several threads
            missing = [t for t in dict.fromkeys((a, b)) if t not in self._vectors]
            if missing:
                if len(self._vectors) > 4096:
                    self._vectors.clear()
                self._vectors.update(zip(missing, self.embeddings.embed_documents(missing)))
            return cosine(self._vectors[a], self._vectors[b])

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
        """Make a follow-up standalone. A question that does not refer back stands as it is;
        without an LLM, the earlier question is put before it instead."""
        if not _REFERS_BACK.search(question):
            return question
        if not self.chat:
            return f"{history[-1].question} {question}"
        convo = "\n".join(  # earlier answers trimmed: the rewrite needs names, not detail
            f"User: {t.question[:300]}\nAssistant: {t.answer[:300]}" for t in history
        )
        prompt = prompts.render("rewrite", history=convo, question=question)
        # under the same system message as answers, so the server's prompt cache keeps it
        out = self._invoke([system_message(), ("user", prompt)], max_tokens=60)
        line = out.strip().splitlines()[0].strip().strip('"') if out.strip() else ""
        if (
            is_refusal(line)
            or not 3 <= len(line) <= 4 * len(question) + 200
            or MARKER.search(line)  # the model answered instead of rewriting
            or (question.rstrip().endswith("?") and not line.endswith("?"))
        ):
            return f"{history[-1].question} {question}"  # the earlier question gives context
        return line

    def _generate(
        self, question: str, evidence: list[Passage], on_token: Callable[[str], None] | None
    ) -> str:
        passages = listing(evidence)
        question = spelled_out(question, passages)  # "the KRG (Kurdistan Regional Government)"
        user = prompts.render("answer", passages=passages, question=question)
        return self._invoke([system_message(), ("user", user)], on_token=on_token)

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
        docs = {p.doc_id for p in result.passages}  # several articles searched
        result.text = "The articles do not say." if len(docs) > 1 else "The article does not say."
        result.grounded, result.citations, result.decline_reason = False, [], reason
        result.timings["total"] = time.perf_counter() - t0
        log.info("declined %r: %s", result.question[:80], reason)
        return result


def _passage(n: int, hit: Hit) -> Passage:
    return Passage(n=n, chunk=hit.chunk, score=round(hit.relevance, 4))
