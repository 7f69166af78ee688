"""Chunking: offsets slice the source, chunks stay inside paragraphs, and no text is lost."""

from __future__ import annotations

import bisect
import re
from pathlib import Path

import pytest
from conftest import ARTICLE
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.chunking import Chunk, chunk_text
from retrieval.loader import read_document
from retrieval.text import sentences

BLANK_LINE = re.compile(r"\n[ \t]*\n")  # what separates paragraphs

EDGE_CASES = {
    "abbreviations": (
        "The U.S. Army met Maj. Gen. Tariq Abbas Ibrahim on Monday. Mr. Smith of the U.N. "
        "said e.g. drills were planned, i.e. soon. Dr. J. R. Jones disagreed."
    ),
    "curly quotes": (
        "\u201cWe are ready,\u201d Heydari said. \u2018They agree.\u2019 Then he left! "
        "Did he? \u201cYes.\u201d"
    ),
    "long sentence": "word " * 600 + "end.",
    "long word": "x" * 2500 + " tail.",
    "blank lines": "First para.\n\n\n\n\nSecond para.\n \t \n\nThird.\n\n\n",
    "leading space": "\n\n   Indented start. Another sentence.\n\n\t",
    "single line breaks": "One line\nwraps here. Two.\nThree and\nfour.",
    "ellipsis": "He paused\u2026 Then spoke. Wait... what? Yes!",
    "numbers": "Trade rose to $5.5 billion in 2019. It was 4.2% higher. No. 3 came next.",
}


def check_invariants(text: str, chunks: list[Chunk], max_chars: int) -> None:
    covered = [False] * len(text)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text and chunk.text == chunk.text.strip()
        assert len(chunk.text) <= max_chars
        assert not BLANK_LINE.search(chunk.text), "a chunk crosses a paragraph break"
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    lost = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert not lost, f"text lost from the chunks: {text[lost[0] : lost[0] + 40]!r}"
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    for chunk in chunks:
        assert chunk.paragraph == paragraph_number(text, chunk.start)


def paragraph_number(text: str, offset: int) -> int:
    """1-based number of the paragraph holding offset, counted independently of the chunker."""
    starts, pos = [], 0
    for match in [*BLANK_LINE.finditer(text), None]:
        end = match.start() if match else len(text)
        if text[pos:end].strip():
            starts.append(pos)
        if match:
            pos = match.end()
    return bisect.bisect_right(starts, offset)


def test_bundled_article_offsets_slice_the_source() -> None:
    text = read_document(ARTICLE).text
    chunks = chunk_text(text)
    assert len(chunks) > 5
    check_invariants(text, chunks, 400)


@pytest.mark.parametrize("max_chars", [60, 150, 400])
@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_cases_keep_offsets_and_lose_nothing(name: str, max_chars: int) -> None:
    text = EDGE_CASES[name]
    check_invariants(text, chunk_text(text, max_chars=max_chars), max_chars)


def spans_text(text: str) -> list[str]:
    return [text[s.start : s.end] for s in sentences(text)]


def test_abbreviations_do_not_end_sentences() -> None:
    text = "Maj. Gen. Tariq Abbas Ibrahim met U.S. officials. Mr. Smith left. Then it rained."
    assert spans_text(text) == [
        "Maj. Gen. Tariq Abbas Ibrahim met U.S. officials.",
        "Mr. Smith left.",
        "Then it rained.",
    ]


def test_closing_curly_quotes_stay_with_their_sentence() -> None:
    text = "\u201cWe are ready.\u201d Heydari said so. \u2018Fine.\u2019 Done."
    assert spans_text(text) == [
        "\u201cWe are ready.\u201d",
        "Heydari said so.",
        "\u2018Fine.\u2019",
        "Done.",
    ]


def test_paragraph_numbers_count_runs_of_blank_lines_once() -> None:
    text = EDGE_CASES["blank lines"]
    chunks = chunk_text(text)
    assert [(c.text, c.paragraph) for c in chunks] == [
        ("First para.", 1),
        ("Second para.", 2),
        ("Third.", 3),
    ]


def test_long_sentence_is_split_at_spaces_within_the_limit() -> None:
    text = EDGE_CASES["long sentence"]
    chunks = chunk_text(text, max_chars=400)
    assert len(chunks) > 1
    for chunk in chunks:  # cut between words, never inside one
        assert chunk.start == 0 or text[chunk.start - 1] == " "
        assert chunk.end == len(text) or text[chunk.end] == " "


def test_consecutive_chunks_of_a_paragraph_overlap_by_a_sentence() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(20))
    chunks = chunk_text(text, max_chars=120, overlap=1)
    for a, b in zip(chunks, chunks[1:]):
        assert a.start < b.start < a.end < b.end
        assert text[b.start : a.end].endswith(".")


def test_crlf_is_converted_by_the_loader(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"Title line\r\n\r\nFirst sentence. Second one.\r\n\r\r\nNext paragraph.\r\n")
    doc = read_document(path)
    assert "\r" not in doc.text
    chunks = chunk_text(doc.text)
    check_invariants(doc.text, chunks, 400)
    assert [c.paragraph for c in chunks if c.text == "Next paragraph."] == [3]


# -- properties ---------------------------------------------------------------------------
WORDS = st.sampled_from(
    ["Iran", "Iraq", "U.S.", "Maj.", "Gen.", "Mr.", "e.g.", "said", "the", "a", "$5", "3.5",
     "\u201cquote\u201d", "it\u2019s", "(aside)", "x" * 90, "Dr.", "A.", "etc.", "no"]
)  # fmt: skip
ENDINGS = st.sampled_from([".", "!", "?", "...", ".\u201d", "?\u2019", "\u2026", ""])
GAPS = st.sampled_from([" ", "  ", "\n", "\t", "\n\n", "\n \n", "\n\n\n\n", " \n\t\n "])


@st.composite
def articles(draw: st.DrawFn) -> str:
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 12))):
        words = draw(st.lists(WORDS, min_size=1, max_size=30))
        parts.append(" ".join(words) + draw(ENDINGS))
        parts.append(draw(GAPS))
    return draw(st.sampled_from(["", " ", "\n\n"])) + "".join(parts)


CHARS = st.sampled_from(list("ab .!?\u201d\u2019\n\t")) | st.characters(
    codec="utf-8", exclude_characters="\r"
)


@settings(max_examples=100, deadline=None)
@given(text=articles(), max_chars=st.integers(20, 500), overlap=st.integers(0, 2))
def test_property_article_like_text(text: str, max_chars: int, overlap: int) -> None:
    check_invariants(text, chunk_text(text, max_chars=max_chars, overlap=overlap), max_chars)


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=CHARS, max_size=600), max_chars=st.integers(10, 300))
def test_property_arbitrary_text(text: str, max_chars: int) -> None:
    check_invariants(text, chunk_text(text, max_chars=max_chars), max_chars)
