"""Splitting a document into paragraph- and sentence-aligned chunks that keep their offsets."""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.text import paragraphs, sentences, split_long


@dataclass(frozen=True)
class Chunk:
    """A slice of a document: `text == document_text[start:end]`."""

    text: str
    start: int
    end: int
    paragraph: int  # 1-based paragraph number in the document


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
            for piece in split_long(text, sent, max_chars)
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
