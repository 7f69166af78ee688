"""Citation checking: wrong markers are repaired or dropped, unsupported answers are declined,
and every quote is verbatim from the article."""

from __future__ import annotations

import re

import pytest
from conftest import ARTICLE
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.citations import is_refusal, repeats_question, verify
from bot.engine.types import Citation, Passage
from retrieval.chunking import chunk_text
from retrieval.loader import read_document
from retrieval.store import StoredChunk
from retrieval.text import sentences

DOC = read_document(ARTICLE)
CHUNKS = chunk_text(DOC.text)
SENTENCES = [DOC.text[s.start : s.end] for s in sentences(DOC.text)]


def passage(n: int, index: int) -> Passage:
    c = CHUNKS[index]
    chunk = StoredChunk(
        id=f"{DOC.doc_id}-{index}",
        text=c.text,
        doc_id=DOC.doc_id,
        source=DOC.source,
        title=DOC.title,
        paragraph=c.paragraph,
        start=c.start,
        end=c.end,
    )
    return Passage(n=n, chunk=chunk, score=0.5)


def passages_with(*needles: str) -> list[Passage]:
    """Passages [1], [2], ... from the first chunk holding each needle, in document offsets."""
    return [
        passage(n, next(i for i, c in enumerate(CHUNKS) if needle in c.text))
        for n, needle in enumerate(needles, start=1)
    ]


FATAH = "Who runs the Fatah Alliance?"
PASSAGES = passages_with("Fatah Alliance is run by", "signed 22 agreements", "Nineveh province")


def assert_verbatim(citations: list[Citation]) -> None:
    for c in citations:
        assert c.quote == DOC.text[c.start : c.end]
        assert c.passage.start <= c.start < c.end <= c.passage.end
    assert [c.n for c in citations] == list(range(1, len(citations) + 1))


@pytest.mark.parametrize("marker", ["[3]", "[9]", "[2, 3]", ""])
def test_wrong_or_missing_marker_is_repaired_to_the_supporting_passage(marker: str) -> None:
    answer = f"The Fatah Alliance is run by Hadi al-Amiri {marker}."
    text, citations, reason = verify(answer, "Who runs the Fatah Alliance?", PASSAGES)
    assert reason == ""
    assert len(citations) == 1 and citations[0].passage.n == 1
    assert "Fatah Alliance is run by Hadi al-Amiri" in citations[0].quote
    assert_verbatim(citations)
    assert re.findall(r"\[(\d+)\]", text) == ["1"]


def test_unsupported_second_sentence_is_dropped() -> None:
    answer = "The Fatah Alliance is run by Hadi al-Amiri [1]. He won the 2018 World Cup [2]."
    text, citations, reason = verify(answer, "Who runs the Fatah Alliance?", PASSAGES)
    assert reason == "" and "World Cup" not in text and "Hadi al-Amiri" in text
    assert [c.passage.n for c in citations] == [1]


def test_each_claim_is_cited_to_its_own_passage() -> None:
    answer = "Rouhani signed 22 agreements [1]. Mosul is in Nineveh province [1]."
    text, citations, reason = verify(answer, "What did Rouhani sign?", PASSAGES)
    assert reason == ""
    assert [c.passage.n for c in citations] == [2, 3]
    assert "22 agreements" in citations[0].quote and "Nineveh" in citations[1].quote
    assert text.count("[1]") == 1 and text.count("[2]") == 1
    assert_verbatim(citations)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Who runs the Fatah Alliance?", "The Fatah Alliance is run by Muqtada al-Sadr [1]."),
        ("How many agreements did Rouhani sign?", "Rouhani signed 37 agreements [2]."),
        ("Which province is Mosul in?", "Mosul is in Anbar province [3]."),
    ],
)
def test_claim_no_passage_supports_is_declined(question: str, answer: str) -> None:
    text, citations, reason = verify(answer, question, PASSAGES)
    assert reason and citations == [] and text == ""


def test_empty_answer_is_declined() -> None:
    assert verify("  ", "Who runs the Fatah Alliance?", PASSAGES)[2]


@pytest.mark.parametrize(
    "text",
    [
        "NOT IN THE ARTICLES",
        "not in the articles.",
        "The article does not mention the population of Mosul.",
        "The articles don't say when the exercises will take place.",
        "The date is not specified in the passages.",
        "I cannot determine that from the passages.",
    ],
)
def test_refusals_are_recognised(text: str) -> None:
    assert is_refusal(text)


@pytest.mark.parametrize(
    "text",
    [
        "The Fatah Alliance is run by Hadi al-Amiri [1].",
        "Iraq has said it does not want to be in the middle of Iran-US tensions [1].",
        "Trade could rise to $5 billion this year, from $4 billion previously [2].",
        "It was unclear why Iraq needs snipers from Iran's regular army [3].",
    ],
)
def test_normal_answers_are_not_refusals(text: str) -> None:
    assert not is_refusal(text)


MARKERS = st.sampled_from(["", " [{}]", "[{}]", " [{}, {}]", " [passage {}]", " [{}-{}]"])


@st.composite
def cited_answers(draw: st.DrawFn) -> tuple[str, str, list[Passage]]:
    picked = draw(st.lists(st.integers(0, len(CHUNKS) - 1), min_size=1, max_size=5, unique=True))
    passages = [passage(n, i) for n, i in enumerate(picked, start=1)]
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        sentence = draw(st.sampled_from(SENTENCES)).rstrip(".")
        numbers = [draw(st.integers(0, 12)) for _ in range(2)]
        parts.append(sentence + draw(MARKERS).format(*numbers) + ".")
    return " ".join(parts), draw(st.sampled_from(SENTENCES)), passages


@settings(max_examples=100, deadline=None)
@given(case=cited_answers())
def test_property_every_quote_is_verbatim(case: tuple[str, str, list[Passage]]) -> None:
    answer, question, passages = case
    text, citations, reason = verify(answer, question, passages)
    assert_verbatim(citations)
    assert bool(reason) != bool(citations)
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert cited == {c.n for c in citations}


def test_fragments_are_answers_that_do_not_name_their_subject() -> None:
    from bot.engine.citations import is_fragment

    question = "Which outlet reported that Ebadi spoke of trade worth $5 billion?"
    assert is_fragment("Rudaw [1].", question)
    assert is_fragment("$5 billion [1]", "How much could trade increase to?")
    assert is_fragment("Hadi al-Amiri, the head of Badr Organization [1].", FATAH)
    assert not is_fragment("The Fatah Alliance is run by Hadi al-Amiri [1].", FATAH)


def test_an_answer_that_drops_items_of_its_quotes_list_is_caught() -> None:
    from bot.engine.citations import drops_list_items

    quote = (
        "Special forces, combat engineers and helicopter crews are taking part, and the drills "
        "focus on mine clearance, border surveillance and the evacuation of wounded soldiers."
    )
    full = "The drills focus on mine clearance, border surveillance and evacuation of the wounded."
    assert not drops_list_items(full, quote)
    assert drops_list_items("The drills focus on mine clearance and border surveillance.", quote)


def test_a_claim_that_only_adds_its_source_repeats_the_question() -> None:
    q = "Besides joint drills, what areas of cooperation did the officers discuss?"
    claim = "Besides joint drills, the officers discussed cooperation according to ISNA's report."
    assert repeats_question(claim, q)
    assert not repeats_question("According to ISNA, they discussed air defence.", q)
