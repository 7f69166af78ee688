"""The project's one vocabulary for text: folding, tokens, sentences and paragraphs, cosine.

Retrieval, citation checking, the extractive answerer and grading all use these, so a word,
a sentence or a folded string means the same thing everywhere."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_FOLD = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
)
_TOKEN = re.compile(r"[^\W_]+(?:[.'][^\W_]+)*", re.UNICODE)

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them themselves then
    there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours also did does according said says
    s t don article mentioned mention tell""".split()
)

# A sentence ends at . ! or ? (optionally followed by closing quotes/brackets), then whitespace.
_SENT_END = re.compile(r"[.!?…]+[\"'\u201d\u2019)\]]*(?=\s+)")
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Lt|Col|Maj|Capt|Sgt|Rep|Sen|Gov|St|Jr|Sr|Inc|Ltd|Co|Corp|"
    r"vs|etc|No|Vol|Jan|Feb|Mar|Apr|Aug|Sep|Sept|Oct|Nov|Dec|U\.S|U\.K|U\.N|e\.g|i\.e)\.|"
    r"\b[A-Z]\.)$"
)
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")


def fold(text: str) -> str:
    """Lower-case, curly quotes, apostrophes and dashes made straight; one character for one,
    so offsets in the folded text are offsets in the original."""
    return text.translate(_FOLD).lower()


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def tokenize(text: str) -> list[str]:
    """Content-word tokens: folded, possessives dropped, stopwords removed, lightly stemmed."""
    out = []
    for tok in _TOKEN.findall(fold(unicodedata.normalize("NFKC", text))):
        if tok.endswith("'s"):
            tok = tok[:-2]
        if tok and tok not in STOPWORDS:
            out.append(_stem(tok))
    return out


@dataclass(frozen=True)
class Span:
    """A stretch of a text, by character offsets."""

    start: int
    end: int


def _trimmed(text: str, start: int, end: int) -> Iterator[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield Span(start, end)


def paragraphs(text: str) -> Iterator[Span]:
    """Non-blank paragraphs (separated by blank lines), trimmed of surrounding whitespace."""
    pos = 0
    for match in [*_PARAGRAPH.finditer(text), None]:
        end = match.start() if match else len(text)
        yield from _trimmed(text, pos, end)
        if match:
            pos = match.end()


def sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans of text[start:end], in document offsets, trimmed of whitespace."""
    end = len(text) if end is None else end
    spans: list[Span] = []
    pos = start
    for match in _SENT_END.finditer(text, start, end):
        if _ABBREV.search(text, max(start, match.start() - 6), match.end()):
            continue
        nxt = match.end()
        while nxt < end and text[nxt].isspace():
            nxt += 1
        if nxt < end and text[nxt].islower():
            continue
        spans.extend(_trimmed(text, pos, match.end()))
        pos = match.end()
    spans.extend(_trimmed(text, pos, end))
    return spans


def split_long(text: str, span: Span, max_chars: int) -> list[Span]:
    """Break a span longer than max_chars at whitespace."""
    out: list[Span] = []
    start = span.start
    while span.end - start > max_chars:
        cut = text.rfind(" ", start + max_chars // 2, start + max_chars)
        cut = cut if cut > start else start + max_chars
        out.extend(_trimmed(text, start, cut))
        start = cut
    out.extend(_trimmed(text, start, span.end))
    return out


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0.0 when either is all zeros)."""
    dot = sum(x * y for x, y in zip(a, b))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0
