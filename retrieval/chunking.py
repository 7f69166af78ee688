"""Splitting a document into paragraph- and sentence-aligned chunks that keep their offsets."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

# A sentence ends at . ! or ? (optionally followed by closing quotes/brackets), then whitespace.
_SENT_END = re.compile(r"[.!?…]+[\"'\u201d\u2019)\]]*(?=\s+)")
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Lt|Col|Maj|Capt|Sgt|Rep|Sen|Gov|St|Jr|Sr|Inc|Ltd|Co|Corp|"
    r"vs|etc|No|Vol|Jan|Feb|Mar|Apr|Aug|Sep|Sept|Oct|Nov|Dec|U\.S|U\.K|U\.N|e\.g|i\.e)\.|"
    r"\b[A-Z]\.)$"
)
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A slice of a document: `text == document_text[start:end]`."""

    text: str
    start: int
    end: int
    paragraph: int  # 1-based paragraph number in the document

    @property
    def chunk_id(self) -> str:
        return hashlib.sha256(f"{self.start}:{self.end}:{self.text}".encode()).hexdigest()[:24]


def paragraphs(text: str) -> Iterator[Span]:
    """Non-blank paragraphs (separated by blank lines), trimmed of surrounding whitespace."""
    pos = 0
    for match in [*_PARAGRAPH.finditer(text), None]:
        end = match.start() if match else len(text)
        yield from _trimmed(text, pos, end)
        if match:
            pos = match.end()


def _trimmed(text: str, start: int, end: int) -> Iterator[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield Span(start, end)


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


def _split_long(text: str, span: Span, max_chars: int) -> list[Span]:
    """Break a sentence longer than max_chars at whitespace."""
    out: list[Span] = []
    start = span.start
    while span.end - start > max_chars:
        cut = text.rfind(" ", start + max_chars // 2, start + max_chars)
        cut = cut if cut > start else start + max_chars
        out.extend(_trimmed(text, start, cut))
        start = cut
    out.extend(_trimmed(text, start, span.end))
    return out


def chunk_text(text: str, max_chars: int = 400, overlap: int = 1) -> list[Chunk]:
    """Group each paragraph's sentences into chunks of at most ~max_chars.

    Consecutive chunks of a paragraph share `overlap` sentences; chunks never cross
    paragraphs, so every chunk carries one paragraph number.
    """
    chunks: list[Chunk] = []
    for number, para in enumerate(paragraphs(text), start=1):
        sents = [
            piece
            for sent in sentences(text, para.start, para.end)
            for piece in _split_long(text, sent, max_chars)
        ]
        i = 0
        while i < len(sents):
            j = i + 1
            while j < len(sents) and sents[j].end - sents[i].start <= max_chars:
                j += 1
            start, end = sents[i].start, sents[j - 1].end
            chunks.append(Chunk(text[start:end], start, end, number))
            if j >= len(sents):
                break
            nxt = j - overlap
            if nxt <= i or sents[j].end - sents[nxt].start > max_chars:
                nxt = j  # the overlap would not fit beside the next sentence
            i = nxt
    return chunks
