"""Compact evidence: the few sentences of the retrieved passages that bear on the question.

A small model reads a handful of sentences better, and much faster, than whole chunks: prompt
processing is most of an answer's time. Each selected sentence becomes a numbered evidence
passage (a slice of its chunk, so quotes keep their document offsets); a sentence that opens
with a pronoun brings the sentence before it, so "He said ..." keeps its subject."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

from langchain_core.embeddings import Embeddings

from bot.engine.relations import excluded_names
from bot.engine.types import Passage
from retrieval.store import StoredChunk
from retrieval.text import cosine, fold, sentences, tokenize

_OPENS_WITH_REFERENCE = re.compile(
    r"^[\"'“‘(]*(?:he|she|it|its|they|their|them|his|her|this|that|these|those|the men|"
    r"the two|both|there|then|but|however|also|in addition|the ministry|the ministers?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Sentence:
    chunk: StoredChunk
    start: int  # offsets in the document
    end: int
    rank: int  # the rank of its chunk in retrieval (0 = best)

    @property
    def text(self) -> str:
        lo = self.start - self.chunk.start
        return self.chunk.text[lo : lo + self.end - self.start]

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.chunk.doc_id, self.start, self.end)


def candidate_sentences(chunks: Sequence[StoredChunk]) -> list[Sentence]:
    """Every sentence of the chunks, once (overlapping chunks share sentences)."""
    seen: set[tuple[str, int, int]] = set()
    out: list[Sentence] = []
    for rank, chunk in enumerate(chunks):
        headline = " ".join(fold(chunk.title).split())
        for span in sentences(chunk.text):
            s = Sentence(chunk, chunk.start + span.start, chunk.start + span.end, rank)
            if " ".join(fold(s.text).split()) == headline:
                continue  # the article's title: shown above its sentences anyway
            if s.key not in seen:
                seen.add(s.key)
                out.append(s)
    return out


def score_sentences(
    question: str,
    cands: Sequence[Sentence],
    embeddings: Embeddings,
    prefer_docs: Collection[str] = (),
) -> list[tuple[float, Sentence]]:
    """(score, sentence), best first: meaning (cosine to the question), the share of the
    question's terms the sentence holds, a little for its chunk's rank, and a little for the
    articles the conversation is about."""
    if not cands:
        return []
    excluded = set(tokenize(" ".join(excluded_names(question))))
    q_terms = set(tokenize(question)) - excluded  # "Besides ISNA, ...": ISNA is not sought
    q_vec = embeddings.embed_query(question)
    vectors = embeddings.embed_documents([s.text for s in cands])
    scored = []
    for s, vec in zip(cands, vectors):
        have = set(tokenize(s.text))
        cover = len(q_terms & have) / len(q_terms) if q_terms else 0.0
        score = 0.5 * cosine(q_vec, vec) + 0.5 * cover - 0.02 * s.rank
        if have & excluded:
            score -= 0.1
        if s.chunk.doc_id in prefer_docs:
            score += 0.1
        scored.append((score, s))
    scored.sort(key=lambda pair: -pair[0])
    return scored


Preceding = Callable[[StoredChunk], StoredChunk | None]  # the chunk before (the searcher's)


def _previous(s: Sentence, preceding: Preceding | None = None) -> Sentence | None:
    """The sentence just before s in the same chunk, or, given `preceding`, the last sentence
    of the chunk before it (news paragraphs are often one sentence long)."""
    chunk, lo = s.chunk, s.start - s.chunk.start
    before = [sp for sp in sentences(chunk.text) if sp.end <= lo]
    if not before and preceding is not None and (earlier := preceding(chunk)) is not None:
        chunk, lo = earlier, s.start - earlier.start
        before = [sp for sp in sentences(chunk.text) if sp.end <= lo]
    if not before:
        return None
    sp = before[-1]
    return Sentence(chunk, chunk.start + sp.start, chunk.start + sp.end, s.rank)


def select(
    scored: Sequence[tuple[float, Sentence]], max_sentences: int, max_chars: int
) -> list[tuple[float, Sentence, Sentence | None]]:
    """The best sentences within the budget, each with the sentence it refers back to."""
    chosen: list[tuple[float, Sentence, Sentence | None]] = []
    used = 0
    taken: set[tuple[str, int, int]] = set()
    for score, s in scored:
        if len(chosen) >= max_sentences:
            break
        if s.key in taken:
            continue
        lead = _previous(s) if _OPENS_WITH_REFERENCE.match(s.text) else None
        if lead is not None and lead.key in taken:
            lead = None
        size = len(s.text) + (len(lead.text) + 1 if lead else 0)
        if chosen and used + size > max_chars:
            continue
        chosen.append((score, s, lead))
        used += size
        taken |= {s.key} | ({lead.key} if lead else set())
    return chosen


_REFERS = re.compile(r"\b(?:he|she|him|his|her|they|them|their)\b", re.IGNORECASE)


def join_references(
    chosen: list[tuple[float, Sentence, Sentence | None]],
) -> list[tuple[float, Sentence, Sentence | None]]:
    """A chosen sentence that refers back within itself ("Rudaw reported that he said ...")
    takes the chosen sentence just before it as its lead, so the two are read together
    (listed by score, they could be far apart or in the wrong order)."""
    by_key = {s.key: (score, s, lead) for score, s, lead in chosen}
    out = list(chosen)
    for score, s, lead in chosen:
        if lead is not None or not _REFERS.search(s.text):
            continue
        before = _previous(s)
        if before is None or before.key not in by_key:
            continue
        earlier = by_key.pop(before.key)
        if earlier[2] is not None or earlier not in out:
            continue
        out.remove(earlier)
        index = out.index((score, s, lead))
        out[index] = (max(score, earlier[0]), s, before)
        by_key[s.key] = out[index]
    return out


def evidence_passages(
    chosen: Sequence[tuple[float, Sentence, Sentence | None]],
    preceding: Preceding | None = None,
) -> list[Passage]:
    """Numbered passages, grouped by article, the best article last and the best sentence
    last within each (a small model reads what is nearest the question best); numbers follow
    the order shown. Each carries the sentence before it as its context (from the paragraph
    before, given `preceding`)."""
    by_doc: dict[str, list[tuple[float, Sentence, Sentence | None]]] = {}
    for item in chosen:
        by_doc.setdefault(item[1].chunk.doc_id, []).append(item)
    groups = sorted(by_doc.values(), key=lambda g: max(i[0] for i in g))
    out: list[Passage] = []
    for group in groups:
        for score, s, lead in sorted(group, key=lambda i: i[0]):
            first = lead or s
            lo = first.start - s.chunk.start
            text = s.chunk.text[lo : lo + s.end - first.start]
            piece = replace(
                s.chunk, id=f"{s.chunk.id}@{first.start}", text=text, start=first.start, end=s.end
            )
            before = _previous(first, preceding)
            context = before.text if before else ""
            out.append(Passage(len(out) + 1, piece, round(score, 4), context))
    return out


def listing(passages: Sequence[Passage]) -> str:
    """The evidence as the model reads it: an article title, then its numbered sentences."""
    lines: list[str] = []
    current = None
    for p in passages:
        if p.doc_id != current:
            current = p.doc_id
            lines.append(f"Article: {' '.join(p.title.split())}")
        lines.append(f"[{p.n}] {' '.join(p.text.split())}")
    return "\n".join(lines)
