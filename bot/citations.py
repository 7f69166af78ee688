"""Checking an answer against its passages: resolve [n] markers to verbatim quotes, repair or
drop bad ones, and decide whether the answer is supported at all."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.types import Citation, Passage
from retrieval.chunking import sentences
from retrieval.lexical import tokenize

_MARKER = re.compile(
    r"\s*[\[【]\s*(?:passages?|source|ref)?\s*(\d{1,2}(?:\s*(?:,|;|and|&|-)\s*\d{1,2})*)\s*[\]】]",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    r"NOT IN THE ARTICLES?|\b(?:do|does|did)(?: not|n't) (?:say|mention|state|specify|provide|"
    r"contain|include|give|indicate|discuss|report)|\bnot (?:mentioned|specified|stated|"
    r"provided|given|available|known|clear from)|\bno (?:information|mention|details?)\b|"
    r"\bI (?:do not|don't|cannot|can't) (?:know|find|answer|determine)|\bunknown\b|"
    r"\bcannot be (?:determined|found|answered)",
    re.IGNORECASE,
)
SUPPORT_MIN = 0.6  # share of a claim's answer terms that its quote must contain


@dataclass(frozen=True)
class Claim:
    text: str
    cited: tuple[int, ...]


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL.search(text))


def split_claims(answer: str) -> list[Claim]:
    """Sentences of the answer with the passage numbers cited in (or right after) each."""
    claims: list[Claim] = []
    spans = sentences(answer)
    for span in spans:
        piece = answer[span.start : span.end]
        cited: list[int] = []
        for match in _MARKER.finditer(piece):
            for lo, sep, hi in re.findall(r"(\d+)(?:\s*(-)\s*(\d+))?", match.group(1)):
                cited.extend(range(int(lo), int(hi) + 1) if sep else [int(lo)])
        text = _MARKER.sub("", piece).strip()
        if not re.search(r"\w", text) and claims:  # a bare marker after the last sentence
            claims[-1] = Claim(claims[-1].text, claims[-1].cited + tuple(cited))
        elif text:
            claims.append(Claim(text, tuple(cited)))
    return claims


def _weights(terms: list[str], raw: str) -> dict[str, float]:
    """Names and numbers weigh more: they are what an invented answer gets wrong."""
    weighty = {t for t in tokenize(" ".join(re.findall(r"\b(?:[A-Z][\w'-]*|\d[\d.,]*)", raw)))}
    return {t: (2.0 if t in weighty or t[0].isdigit() else 1.0) for t in terms}


def support(claim: str, question: str, sentence: str) -> float:
    """Weighted share of the claim's new terms (not already in the question) in the sentence."""
    q = set(tokenize(question))
    terms = [t for t in dict.fromkeys(tokenize(claim)) if t not in q] or list(
        dict.fromkeys(tokenize(claim))
    )
    if not terms:
        return 0.0
    have = set(tokenize(sentence))
    weights = _weights(terms, claim)
    return sum(w for t, w in weights.items() if t in have) / sum(weights.values())


def best_quote(claim: str, question: str, passage: Passage) -> tuple[float, int, int]:
    """The passage sentence (or adjacent pair) that best supports a claim: (score, start, end)
    in document offsets."""
    spans = sentences(passage.text)
    candidates = [(s.start, s.end) for s in spans]
    candidates += [(a.start, b.end) for a, b in zip(spans, spans[1:])]
    best = (0.0, 0, 0)
    for lo, hi in candidates:
        score = support(claim, question, passage.text[lo:hi])
        # prefer the shorter quote on ties
        if score > best[0] + 1e-9 or (abs(score - best[0]) < 1e-9 and hi - lo < best[2] - best[1]):
            best = (score, lo, hi)
    return best[0], passage.start + best[1], passage.start + best[2]


def verify(answer: str, question: str, passages: list[Passage]) -> tuple[str, list[Citation], str]:
    """Resolve and check citations. Returns (answer text with renumbered markers, citations,
    reason it is unsupported or ""). Markers to passages that do not support their sentence
    are repaired to the passage that does, or the sentence is dropped."""
    by_n = {p.n: p for p in passages}
    claims = split_claims(answer)
    if not claims:
        return "", [], "empty answer"
    citations: list[Citation] = []
    kept: list[str] = []
    for index, claim in enumerate(claims):
        ranked = [by_n[n] for n in claim.cited if n in by_n] + [
            p for p in passages if p.n not in claim.cited
        ]
        found = None
        for passage in ranked:
            score, start, end = best_quote(claim.text, question, passage)
            if score >= SUPPORT_MIN and (found is None or score > found[0] + 0.2):
                found = (score, start, end, passage)
            if found and passage.n in claim.cited:
                break  # the model's own citation holds: keep it
        if found is None:
            if index == 0:
                return "", [], f"unsupported claim: {claim.text[:80]}"
            continue  # drop an unsupported secondary sentence
        score, start, end, passage = found
        same = next((c for c in citations if (c.start, c.end) == (start, end)), None)
        if same is None:
            rel = start - passage.start
            same = Citation(
                n=len(citations) + 1, source=passage.source, title=passage.title,
                paragraph=passage.paragraph, quote=passage.text[rel : rel + end - start],
                start=start, end=end, score=round(score, 3), passage=passage,
            )
            citations.append(same)
        kept.append(f"{claim.text} [{same.n}]")
    return " ".join(kept), citations, ""
