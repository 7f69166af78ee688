"""Bad input (docs/reliability.md): questions in mixed scripts, emoji, control characters or
far too long, through the engine, `qabot ask` and `qabot chat`; and folders holding what is
not an article (huge files, broken links, pipes) next to good ones. Empty, whitespace-only,
non-UTF-8, binary and empty files are in test_engine.py, test_ingest.py and test_cli.py."""

from __future__ import annotations

import os
import subprocess
import unicodedata
from pathlib import Path

import pytest
from conftest import QABOT, engine_options
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.pipeline import Engine
from bot.errors import InputError
from retrieval.search import HybridSearcher
from retrieval.store import ArticleStore

FATAH = "Who runs the Fatah Alliance?"


def qabot(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QABOT_DATA_DIR": str(data_dir), "QABOT_BACKEND": "extractive"}
    return subprocess.run(
        [str(QABOT), *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture(scope="module")
def engine(article_store: ArticleStore) -> Engine:
    return Engine(
        HybridSearcher(article_store, article_store.embeddings), chat=None, options=engine_options()
    )


@pytest.mark.parametrize(
    "question",
    [
        "Who runs the Fatah Alliance? 🤔🇮🇶👍🏽",
        "من يدير تحالف الفتح؟ Who runs the Fatah Alliance?",
        "Кто руководит Fatah Alliance? 谁领导法塔赫联盟？",
        "Who\u200b runs\u200d the\u202e Fatah\ufeff Alliance?",  # zero-width, bidi override
        "Wh\u0301o ru\u0308ns the Fatah Alliance?",  # combining marks
        "\U0001f600" * 500,
        "Who runs the \ud83d Fatah Alliance?",  # a lone surrogate (JSON allows one)
    ],
)
def test_mixed_scripts_and_emoji_are_answered_or_declined(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.text and (answer.grounded or "does not say" in answer.text)
    assert not [ch for ch in answer.question if unicodedata.category(ch) == "Cc"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000) | st.text(st.sampled_from(["\ud83d", "\udc00", "a", " ", "\x00"])))
def test_property_a_cleaned_question_is_short_printable_or_refused(text: str) -> None:
    engine = Engine(searcher=None, chat=None, options=engine_options())  # type: ignore[arg-type]  # only cleaning
    try:
        question, notice = engine.clean_question(text)
    except InputError:
        printable = (ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs"))
        assert not "".join(printable).strip()
        return
    assert question and question == question.strip()
    question.encode("utf-8")  # no lone surrogates: the tokenizer and Slack reject them
    assert len(question) <= engine.options.max_question_chars
    assert not [ch for ch in question if unicodedata.category(ch) == "Cc"]
    assert bool(notice) == (len(question) == engine.options.max_question_chars < len(text))


def test_ask_with_a_100k_question_answers_with_a_notice(tmp_path: Path) -> None:
    question = FATAH + " " + "padding " * 12_500
    result = qabot(tmp_path / "data", "ask", question)
    assert result.returncode == 0, result.stderr
    assert "Note: Your question was" in result.stdout and "only the first 2000" in result.stdout
    assert "Hadi al-Amiri" in result.stdout


def test_chat_survives_hostile_lines_and_keeps_answering(tmp_path: Path) -> None:
    lines = ["", "   ", "\x00\x01\x1b", "\x1b[2J\x1b[31m", "🤔" * 50, "x" * 100_000, FATAH]
    result = qabot(tmp_path / "data", "chat", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.count("Error: The question is empty") == 1  # the control-only line
    assert "Note: Your question was 100000 characters" in result.stdout
    assert "Hadi al-Amiri" in result.stdout.split("Note:")[-1]  # answered after all of that
    assert "\x1b[2J" not in result.stdout  # the terminal escape was not echoed back


def test_ingest_names_every_file_it_cannot_use_and_indexes_the_rest(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "good.txt").write_text("The mayor of Testville is Jane Roe. She was elected.", "utf-8")
    (docs / "sub" / "also-good.md").write_text("# Roads\n\nThe bridge reopened in May.", "utf-8")
    with (docs / "huge.txt").open("wb") as f:
        f.truncate(21 * 1024 * 1024)  # sparse: over the 20 MiB limit without using the disk
    (docs / "broken.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(docs / "pipe.txt")  # reading it would block for ever
    (docs / "ignored.bin").write_bytes(b"\x00\x01")  # not an article type: not even tried

    result = qabot(tmp_path / "data", "ingest", str(docs))  # timeout: it must not hang

    assert result.returncode == 1, result  # something was skipped
    assert "2 added" in result.stdout
    skipped = {
        Path(line.split(": ", 1)[0].removeprefix("Skipped ")).name: line
        for line in result.stderr.splitlines()
        if line.startswith("Skipped ")
    }
    assert set(skipped) == {"huge.txt", "broken.txt", "pipe.txt"}, result.stderr
    assert "too large" in skipped["huge.txt"]
    assert "broken symbolic link" in skipped["broken.txt"]
    assert "not a regular file" in skipped["pipe.txt"]
    assert "Traceback" not in result.stderr

    named = qabot(tmp_path / "data", "ingest", str(docs / "pipe.txt"))  # named explicitly
    assert named.returncode == 1 and "not a regular file" in named.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="only documents why chmod 000 is not tested")
def test_unreadable_permissions_cannot_be_tested_as_root(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("still readable")
    path.chmod(0)
    assert path.read_text() == "still readable"  # root ignores modes: pipes and links stand in
