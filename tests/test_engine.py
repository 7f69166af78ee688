"""The answer engine over the real store: extractive answers, input cleaning, and a chat model
fake that behaves (wrong citations, invented facts, refusals, follow-ups, failures)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import httpx
import openai
import pytest
from conftest import engine_options

from bot.engine.citations import NOT_FOUND
from bot.engine.pipeline import Engine
from bot.engine.types import Answer, Turn
from bot.errors import LLMError, QabotError
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.search import HybridSearcher
from retrieval.store import ArticleStore

ROOT = Path(__file__).resolve().parent.parent
ARTICLE_TEXT = (ROOT / "data" / "article.txt").read_text(encoding="utf-8")
FATAH = "Who runs the Fatah Alliance?"
OFF_TOPIC = "Who won the 2018 FIFA World Cup?"


@pytest.fixture(scope="module")
def searcher(article_store: ArticleStore, embeddings: MiniLMEmbeddings) -> HybridSearcher:
    return HybridSearcher(article_store, embeddings)


@pytest.fixture
def engine(searcher: HybridSearcher) -> Engine:
    return Engine(searcher, chat=None, options=engine_options())


def assert_grounded(answer: Answer, store: ArticleStore, must_quote: str) -> None:
    assert answer.grounded and answer.citations and not answer.decline_reason
    for c in answer.citations:
        assert c.quote == ARTICLE_TEXT[c.start : c.end]
        assert c.quote == store.document_text(c.passage.doc_id)[c.start : c.end]
    assert any(must_quote in c.quote for c in answer.citations)


def assert_declined(answer: Answer) -> None:
    assert not answer.grounded and answer.citations == [] and answer.decline_reason
    assert "does not say" in answer.text


# -- extractive backend -------------------------------------------------------------------
def test_answerable_question_is_grounded(engine: Engine, article_store: ArticleStore) -> None:
    answer = engine.answer(FATAH)
    assert_grounded(answer, article_store, "Fatah Alliance is run by Hadi al-Amiri")
    assert "Hadi al-Amiri" in answer.text and "[1]" in answer.text


def test_off_topic_question_is_declined(engine: Engine) -> None:
    assert_declined(engine.answer(OFF_TOPIC))


@pytest.mark.parametrize("question", ["", "   ", "\n\t \r\n", "\x00\x01\x1b"])
def test_empty_question_raises(engine: Engine, question: str) -> None:
    with pytest.raises(QabotError, match="empty"):
        engine.answer(question)


def test_huge_question_is_truncated_with_a_notice(engine: Engine) -> None:
    question = FATAH + " and more" * 12_000
    assert len(question) > 100_000
    answer = engine.answer(question)
    limit = engine.options.max_question_chars
    assert len(answer.question) == limit and answer.question.startswith(FATAH)
    assert str(len(question)) in answer.notice and str(limit) in answer.notice


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x9b", "\x85"])
def test_control_characters_are_stripped(engine: Engine, control: str) -> None:
    answer = engine.answer(f"Who runs{control} the Fatah{control}[2J Alliance?{control}")
    assert not [ch for ch in answer.question if unicodedata.category(ch) == "Cc"]
    assert answer.question.startswith("Who runs the Fatah") and answer.grounded


def test_follow_up_without_a_model_carries_the_earlier_question(engine: Engine) -> None:
    history = [Turn(FATAH, "The Fatah Alliance is run by Hadi al-Amiri [1].")]
    answer = engine.answer("What organization does he head?", history)
    assert "Fatah" in answer.standalone_question
    assert answer.grounded and any("Badr Organization" in c.quote for c in answer.citations)


# -- a chat model that behaves --------------------------------------------------------------
def chat_engine(searcher: HybridSearcher, model: object) -> Engine:
    return Engine(searcher, chat=lambda: model, options=engine_options())


def test_answer_citing_the_wrong_passage_is_repaired(
    searcher: HybridSearcher, article_store: ArticleStore, fake_chat: type
) -> None:
    probe = chat_engine(searcher, fake_chat("NOT IN THE ARTICLES", "NOT IN THE ARTICLES"))
    evidence = probe.answer(FATAH).evidence  # the numbered sentences the model is shown
    right = next(p.n for p in evidence if "Fatah Alliance is run by" in p.text)
    wrong = next(p.n for p in evidence if p.n != right)
    draft = f"The Fatah Alliance is run by Hadi al-Amiri [{wrong}]."
    model = fake_chat(draft)
    tokens: list[str] = []

    answer = chat_engine(searcher, model).answer(FATAH, on_token=tokens.append)

    assert "".join(tokens) == draft and len(tokens) > 1
    assert_grounded(answer, article_store, "Fatah Alliance is run by Hadi al-Amiri")
    assert [c.passage.n for c in answer.citations] == [right]


def test_invented_number_never_reaches_the_answer(
    searcher: HybridSearcher, article_store: ArticleStore, fake_chat: type
) -> None:
    model = fake_chat("Hassan Rouhani signed 37 agreements during his trip to Iraq [1].")
    q = "How many agreements did Hassan Rouhani sign during his trip to Iraq?"
    answer = chat_engine(searcher, model).answer(q)
    assert "37" not in answer.text and len(model.received) == 1
    assert_grounded(answer, article_store, "22 agreements")  # the sentence that says it


def test_model_refusal_is_declined_when_asked_again_it_still_refuses(
    searcher: HybridSearcher, fake_chat: type
) -> None:
    model = fake_chat("NOT IN THE ARTICLES", "NOT IN THE ARTICLES")
    answer = chat_engine(searcher, model).answer("On what date will the joint exercises start?")
    assert_declined(answer)
    assert len(model.received) == 2  # asked again with only the strongest sentences
    first, second = (m[1][1] for m in model.received)
    assert second.count("\n[") < first.count("\n[")


def test_a_refusal_is_recovered_when_the_strongest_sentences_answer(
    searcher: HybridSearcher, article_store: ArticleStore, fake_chat: type
) -> None:
    model = fake_chat("NOT IN THE ARTICLES", "The Fatah Alliance is run by Hadi al-Amiri [9].")
    answer = chat_engine(searcher, model).answer(FATAH)
    assert_grounded(answer, article_store, "Fatah Alliance is run by Hadi al-Amiri")


def test_model_is_not_asked_when_nothing_is_relevant(
    searcher: HybridSearcher, fake_chat: type
) -> None:
    model = fake_chat()
    assert_declined(chat_engine(searcher, model).answer(OFF_TOPIC))
    assert model.received == []


def test_prompt_holds_system_prompt_passages_and_question(
    searcher: HybridSearcher, fake_chat: type
) -> None:
    model = fake_chat("The Fatah Alliance is run by Hadi al-Amiri [1].")
    answer = chat_engine(searcher, model).answer(FATAH)

    [(system_role, system), (user_role, user)] = model.received[0]
    assert (system_role, user_role) == ("system", "user")
    template = (ROOT / "prompts" / "system.md").read_text(encoding="utf-8").strip()
    assert system.strip() == template.replace("{not_found}", NOT_FOUND)
    assert len(answer.passages) == engine_options().top_k
    assert 1 <= len(answer.evidence) <= 4  # a few sentences, not whole chunks
    for p in answer.evidence:
        assert f"[{p.n}] {' '.join(p.text.split())}" in user
    assert f"Article: {answer.evidence[0].title}" in user
    assert FATAH in user and FATAH not in system


def test_follow_up_is_rewritten_and_the_rewrite_is_retrieved(
    searcher: HybridSearcher, article_store: ArticleStore, fake_chat: type
) -> None:
    rewritten = "Which organization does Hadi al-Amiri head?"
    model = fake_chat(f'"{rewritten}"\n', "Hadi al-Amiri is the head of Badr Organization [2].")
    earlier = Turn(FATAH, "The Fatah Alliance is run by Hadi al-Amiri [1].")

    answer = chat_engine(searcher, model).answer("Which organization does he head?", [earlier])

    [(system_role, system), (role, rewrite_prompt)] = model.received[0]
    assert (system_role, role) == ("system", "user")
    assert system == model.received[1][0][1]  # one system message: the server caches it
    assert FATAH in rewrite_prompt and earlier.answer in rewrite_prompt
    assert "Which organization does he head?" in rewrite_prompt
    assert answer.standalone_question == rewritten
    assert [p.id for p in answer.passages] == [h.chunk.id for h in searcher.search(rewritten, 6)]
    assert rewritten in model.received[1][1][1]
    assert_grounded(answer, article_store, "head of Badr Organization")


def test_a_rewrite_that_answers_instead_is_not_taken_for_the_question(
    searcher: HybridSearcher, fake_chat: type
) -> None:
    model = fake_chat("Hadi al-Amiri heads Badr Organization [1].\n", "Badr Organization [1].")
    earlier = Turn(FATAH, "The Fatah Alliance is run by Hadi al-Amiri [1].")

    answer = chat_engine(searcher, model).answer("Which organization does he head?", [earlier])

    assert answer.standalone_question == f"{FATAH} Which organization does he head?"


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        (RuntimeError("token sk-live-SECRET rejected by http://10.9.8.7:1234"), "failed"),
        (openai.APITimeoutError(request=httpx.Request("POST", "http://10.9.8.7/v1")), "in time"),
        (
            openai.APIConnectionError(
                message="Connection refused sk-live-SECRET",
                request=httpx.Request("POST", "http://10.9.8.7/v1"),
            ),
            "cannot be reached",
        ),
    ],
)
def test_model_failure_becomes_llm_error_without_raw_text(
    searcher: HybridSearcher, fake_chat: type, error: Exception, hint: str
) -> None:
    with pytest.raises(LLMError) as err:
        chat_engine(searcher, fake_chat(error)).answer(FATAH)
    message = str(err.value)
    assert hint in message
    assert str(error) not in message and "SECRET" not in message and "10.9.8.7" not in message


def test_answer_that_only_echoes_the_question_falls_back_to_a_quote(
    searcher: HybridSearcher, article_store: ArticleStore, fake_chat: type
) -> None:
    """A reply naming nothing new ("ISNA" to "Besides ISNA, ...?") is no answer: the engine
    quotes the best passage sentence instead, verified like any answer."""
    model = fake_chat("ISNA [1]")
    answer = chat_engine(searcher, model).answer(
        "Besides ISNA, which Iranian outlet reported the meeting?"
    )
    assert answer.grounded
    assert "Fars" in answer.text
    text = article_store.document_text(answer.citations[0].passage.doc_id)
    assert all(text[c.start : c.end] == c.quote for c in answer.citations)


def test_answer_about_someone_else_falls_back_to_a_quote_naming_them(
    searcher: HybridSearcher, article_store: ArticleStore, fake_chat: type
) -> None:
    """The question names Heydari; a reply supported only by a passage about someone else
    is replaced by the verified sentence that names him."""
    model = fake_chat(
        "Alireza Sabahifar met with the Iraqi deputy commander Tariq Abbas Ibrahim on Sunday [1]."
    )
    answer = chat_engine(searcher, model).answer("Which Iraqi officer did Heydari meet with?")
    assert answer.grounded
    assert "Tariq Abbas Ibrahim" in answer.text
    assert all("Heydari" in c.passage.text for c in answer.citations)
