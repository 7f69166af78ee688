"""Running an evaluation: one index of the articles, an engine per backend, the baseline beside."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from bot.config import Settings
from bot.engine.types import Answer, Turn
from bot.errors import StoreError
from bot.evaluation.dataset import Item
from bot.evaluation.grading import Excerpt, Graded, Outcome, grade
from bot.evaluation.metrics import metrics

Progress = Callable[[str], None]
NOT_APPLICABLE = "not applicable: the tutorial pipeline needs an LLM backend"


class System(Protocol):
    def warm_up(self) -> None: ...

    def ask(self, question: str, history: Sequence[Turn]) -> Outcome: ...


class _Metered:
    """A chat model seen through a counter of the characters sent to it and received."""

    def __init__(self, model: Any, count: list[int]) -> None:
        self._model, self._count = model, count

    def bind(self, **kwargs: Any) -> _Metered:
        return _Metered(self._model.bind(**kwargs), self._count)

    def stream(self, messages: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self._count[0] += _chars(messages)
        for chunk in self._model.stream(messages, *args, **kwargs):
            self._count[0] += len(chunk.content) if isinstance(chunk.content, str) else 0
            yield chunk

    def invoke(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        reply = self._model.invoke(messages, *args, **kwargs)
        self._count[0] += _chars(messages) + _chars(reply.content)
        return reply

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def _chars(messages: Any) -> int:
    if isinstance(messages, str):
        return len(messages)
    if isinstance(messages, (list, tuple)):
        return sum(
            _chars(m[1] if isinstance(m, tuple) else getattr(m, "content", m)) for m in messages
        )
    return 0


class EngineSystem:
    """qabot's own engine, its answers reduced to what grading needs."""

    def __init__(self, engine: Any, doc_text: Callable[[str], str | None]) -> None:
        self.engine, self.doc_text = engine, doc_text
        self._count = [0]
        if engine.chat is not None:
            factory = engine.chat
            engine.chat = lambda: _Metered(factory(), self._count)

    def warm_up(self) -> None:
        """Load the models and start the LLM server before anything is timed."""
        self.engine.searcher.search("warm up", 1)
        if self.engine.chat is not None:
            self.engine.chat()

    def ask(self, question: str, history: Sequence[Turn]) -> Outcome:
        self._count[0] = 0
        answer: Answer = self.engine.answer(question, history)
        citations = [Excerpt(c.quote, c.passage.doc_id, c.start, c.end) for c in answer.citations]
        return Outcome(
            text=answer.text,
            grounded=answer.grounded,
            citations=citations,
            passages=[Excerpt(p.text, p.doc_id, p.start, p.end) for p in answer.passages],
            verbatim=[
                c.text == (self.doc_text(c.doc_id) or "")[c.start : c.end] for c in citations
            ],
            standalone=answer.standalone_question or question,
            timings=dict(answer.timings),
            llm_chars=self._count[0],
            decline_reason=answer.decline_reason,
        )


def _ask_all(
    system: System,
    label: str,
    questions: list[Item],
    threads: list[list[Item]],
    doc_text: Callable[[str], str | None],
) -> tuple[list[Graded], list[Graded]]:
    from tqdm import tqdm

    system.warm_up()
    total = len(questions) + sum(len(t) for t in threads)
    bar = tqdm(total=total, desc=label, unit="q", file=sys.stderr, disable=None, leave=False)
    single = []
    for item in questions:
        single.append(grade(item, system.ask(item.question, []), doc_text))
        bar.update()
    turns = []
    for thread in threads:
        history: list[Turn] = []
        for item in thread:
            outcome = system.ask(item.question, history)
            turns.append(grade(item, outcome, doc_text))
            docs = tuple(dict.fromkeys(c.doc_id for c in outcome.citations))
            history.append(Turn(outcome.standalone, outcome.text, docs))
            bar.update()
    bar.close()
    return single, turns


def _record(g: Graded) -> dict[str, Any]:
    o = g.outcome
    return {
        "id": g.item.id,
        "question": g.item.question,
        "answerable": g.item.answerable,
        "conversation": g.item.conversation or None,
        "correct": g.correct,
        "grounded": o.grounded,
        "answer": o.text,
        "decline_reason": o.decline_reason or None,
        "standalone_question": o.standalone,
        "support_rank": g.rank,
        "citations": len(o.citations),
        "citations_supported": g.cited_ok,
        "citations_verbatim": sum(o.verbatim),
        "timings": {k: round(v, 4) for k, v in o.timings.items()},
        "tokens_estimated": round(o.llm_chars / 4),
    }


def _model_name(settings: Settings) -> str:
    from bot import backends

    return backends.get(settings.backend).model_name(settings)


def _index(settings: Settings, progress: Progress | None) -> tuple[Any, list[Any]]:
    """A fresh evaluation collection holding `settings.docs`: (store, documents)."""
    from bot.wiring import build_store
    from retrieval.ingest import ingest, load_documents

    store = build_store(settings)
    store.drop()
    result = ingest(store, [settings.docs])
    documents, _ = load_documents([settings.docs])
    if progress:
        for skipped in result.skipped:
            progress(f"Skipped {skipped.path}: {skipped.reason}")
    if store.count() == 0:
        raise StoreError(f"No readable articles in {settings.docs} to evaluate on.")
    return store, documents


def _p50_ratio(ours: dict[str, Any], baseline: dict[str, Any]) -> float | None:
    """Our answer p50 over the baseline's, measured in the same run."""
    mine = ours["metrics"]["latency"].get("total", {}).get("p50")
    theirs = baseline["metrics"]["latency"].get("total", {}).get("p50")
    return round(mine / theirs, 3) if mine and theirs else None


def _not_applicable(backend: str) -> dict[str, Any]:
    return {
        "kind": "baseline",
        "backend": backend,
        "model": "none",
        "applicable": False,
        "note": NOT_APPLICABLE,
    }


def run_eval(
    settings: Settings,
    questions: list[Item],
    threads: list[list[Item]],
    backends: Sequence[str],
    baseline: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Index `settings.docs` afresh in an evaluation collection, then ask every question of
    each backend's engine and, for LLM backends, of the tutorial baseline with the same model.
    Returns the report: per system its kind, metrics and per-question records."""
    from bot.evaluation.baseline import TOP_K, TutorialBaseline
    from bot.wiring import build_chat, build_engine, minilm_embeddings

    base = settings.model_copy(update={"collection": f"{settings.collection}-eval"})
    store, documents = _index(base, progress)
    texts: dict[str, str | None] = {}

    def doc_text(doc_id: str) -> str | None:
        if doc_id not in texts:
            texts[doc_id] = store.document_text(doc_id)
        return texts[doc_id]

    def run(system: System, name: str, kind: str, cfg: Settings, k: int) -> dict[str, Any]:
        t0 = time.perf_counter()
        single, turns = _ask_all(system, name, questions, threads, doc_text)
        return {
            "kind": kind,
            "backend": cfg.backend,
            "model": _model_name(cfg),
            "applicable": True,
            "seconds": round(time.perf_counter() - t0, 2),
            "metrics": metrics(single, turns, k),
            "questions": [_record(g) for g in single + turns],
        }

    systems: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="qabot-eval-", ignore_cleanup_errors=True) as tmp:
        for backend in backends:
            cfg = base.model_copy(update={"backend": backend})
            engine = EngineSystem(build_engine(cfg, progress), doc_text)
            systems[backend] = run(engine, backend, "qabot", cfg, cfg.top_k)
            if not baseline:
                continue
            label = f"baseline ({backend})"
            chat = build_chat(cfg, progress)
            if chat is None:  # the tutorial pipeline needs an LLM
                systems[label] = _not_applicable(backend)
                continue
            workdir = Path(tmp) / f"baseline-{backend}"
            reference = TutorialBaseline(documents, minilm_embeddings(), chat, workdir)
            systems[label] = run(reference, label, "baseline", cfg, TOP_K)
            systems[backend]["p50_vs_baseline"] = _p50_ratio(systems[backend], systems[label])
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "docs": str(base.docs),
        "questions": len(questions),
        "answerable": sum(q.answerable for q in questions),
        "conversations": len(threads),
        "turns": sum(len(t) for t in threads),
        "systems": systems,
    }
