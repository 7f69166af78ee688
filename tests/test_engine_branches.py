"""Each branch of `Engine.answer`, with a fake searcher that returns chosen passages and a fake
chat model that replays chosen replies (the real MiniLM model serves the extractive fallback)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import engine_options

from bot.engine.pipeline import Engine
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.search import Hit
from retrieval.store import StoredChunk

TEXT = (
    "The Fatah Alliance is run by Hadi al-Amiri, the head of Badr Organization. "
    "It won 48 seats in the election."
)


class FakeSearcher:
    """Returns the same passages for every query, with the given relevance."""

    def __init__(self, embeddings: MiniLMEmbeddings, relevance: float) -> None:
        self.embeddings = embeddings
        chunk = StoredChunk("c1", TEXT, "d1", "/news/fatah.txt", "Fatah", 1, 0, len(TEXT))
        self.hits = [Hit(chunk, relevance, relevance, relevance)]
        self.queries: list[str] = []

    def search(self, query: str, k: int = 4) -> list[Hit]:
        self.queries.append(query)
        return self.hits[:k]

    def current(self, hits: list[Hit]) -> list[Hit]:
        return hits

    def preceding(self, chunk: StoredChunk) -> StoredChunk | None:
        return None


def engine(embeddings: MiniLMEmbeddings, model: Any, relevance: float = 0.8) -> Engine:
    return Engine(FakeSearcher(embeddings, relevance), lambda: model, engine_options())


def test_below_the_relevance_floor_declines_without_calling_the_model(
    embeddings: MiniLMEmbeddings, fake_chat: type
) -> None:
    model = fake_chat()  # any call would fail the test
    answer = engine(embeddings, model, relevance=0.1).answer("Who runs the Fatah Alliance?")
    assert not answer.grounded and answer.citations == []
    assert answer.text == "The article does not say."
    assert "relevant" in answer.decline_reason and model.received == []


def test_a_model_refusal_declines(embeddings: MiniLMEmbeddings, fake_chat: type) -> None:
    answer = engine(embeddings, fake_chat("NOT IN THE ARTICLES")).answer("What is Mosul's size?")
    assert not answer.grounded and answer.citations == []
    assert "model" in answer.decline_reason


def test_an_answer_that_repeats_the_question_falls_back_to_a_verified_quote(
    embeddings: MiniLMEmbeddings, fake_chat: type
) -> None:
    model = fake_chat("The Fatah Alliance [1].")
    answer = engine(embeddings, model).answer("Who runs the Fatah Alliance?")
    assert answer.grounded and "Hadi al-Amiri" in answer.text
    [citation] = answer.citations
    assert TEXT[citation.start : citation.end] == citation.quote


def test_an_invented_claim_is_replaced_by_the_sentence_that_answers(
    embeddings: MiniLMEmbeddings, fake_chat: type
) -> None:
    model = fake_chat("The Fatah Alliance is run by Muqtada al-Sadr [1].")
    answer = engine(embeddings, model).answer("Who runs the Fatah Alliance?")
    assert answer.grounded and "Hadi al-Amiri" in answer.text and "Sadr" not in answer.text


def test_a_claim_no_sentence_states_is_withheld(
    embeddings: MiniLMEmbeddings, fake_chat: type
) -> None:
    model = fake_chat("Iraq's defence minister is Hadi al-Amiri [1].")
    answer = engine(embeddings, model).answer("Who is Iraq's defence minister?")
    assert not answer.grounded and answer.citations == []
    assert answer.text == "The article does not say."


def test_a_supported_answer_is_cited_verbatim(
    embeddings: MiniLMEmbeddings, fake_chat: type
) -> None:
    model = fake_chat("The Fatah Alliance is run by Hadi al-Amiri [1].")
    answer = engine(embeddings, model).answer("Who runs the Fatah Alliance?")
    assert answer.grounded and answer.text.endswith("[1].")
    assert answer.citations[0].quote.startswith("The Fatah Alliance is run by Hadi al-Amiri")


@pytest.mark.parametrize("question", ["", "   ", "\x00\x07"])
def test_an_empty_question_is_an_input_error(
    embeddings: MiniLMEmbeddings, fake_chat: type, question: str
) -> None:
    from bot.errors import InputError

    with pytest.raises(InputError):
        engine(embeddings, fake_chat()).answer(question)
