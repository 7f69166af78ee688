"""The `qabot` command through its installed entry point, in subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import ARTICLE, QABOT

from retrieval.embeddings import MiniLMEmbeddings
from retrieval.store import ArticleStore, make_client

ROOT = Path(__file__).resolve().parent.parent
FATAH = "Who runs the Fatah Alliance?"


def qabot(
    data_dir: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real entry point with the (already scrubbed) environment plus test settings."""
    full_env = {
        **os.environ,
        "QABOT_DATA_DIR": str(data_dir),
        "QABOT_BACKEND": "extractive",
        **(env or {}),
    }
    return subprocess.run(
        [str(QABOT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


def assert_clean_error(result: subprocess.CompletedProcess[str], codes: tuple[int, ...]) -> str:
    assert result.returncode in codes, result
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by the `ask` tests: the first run indexes the bundled article."""
    return tmp_path_factory.mktemp("qabot-data")


def test_ask_json_gives_a_verbatim_citation(data_dir: Path) -> None:
    result = qabot(data_dir, "ask", "--json", FATAH)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {"question", "answer", "grounded", "citations", "timings"} <= set(out)
    assert out["question"] == FATAH and out["grounded"] is True
    assert "Hadi al-Amiri" in out["answer"]
    assert out["citations"] and isinstance(out["timings"], dict)
    text = ARTICLE.read_text(encoding="utf-8")
    for c in out["citations"]:
        assert {"n", "source", "quote", "start", "end", "score"} <= set(c)
        assert Path(c["source"]) == ARTICLE
        assert c["quote"] == text[c["start"] : c["end"]]


def test_ask_off_topic_is_declined(data_dir: Path) -> None:
    result = qabot(data_dir, "ask", "--json", "Who won the 2018 FIFA World Cup?")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["grounded"] is False and out["citations"] == []
    assert "does not say" in out["answer"]


def test_ask_empty_question_is_a_clean_error(data_dir: Path) -> None:
    line = assert_clean_error(qabot(data_dir, "ask", ""), (1, 2))
    assert "empty" in line


def test_unknown_option_is_a_usage_error(data_dir: Path) -> None:
    result = qabot(data_dir, "ask", "--no-such-option", FATAH)
    assert result.returncode == 2
    assert "no-such-option" in result.stderr and "Traceback" not in result.stderr


def test_chat_answers_shows_sources_and_resets(data_dir: Path) -> None:
    result = qabot(data_dir, "chat", stdin=f"{FATAH}\n/sources\n/reset\n/sources\n/quit\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Hadi al-Amiri" in out
    assert "Sources" in out and "article.txt" in out  # the answer's own sources
    assert "characters " in out  # /sources: the full cited passage with its offsets
    assert "Conversation forgotten." in out
    assert out.index("Conversation forgotten.") < out.index("No sources")
    assert "Traceback" not in result.stderr


def test_ingest_skips_the_binary_file_and_indexes_the_good_one(
    tmp_path: Path, embeddings: MiniLMEmbeddings
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text("Balad air base was hit by rockets on Monday.", "utf-8")
    (docs / "broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    data = tmp_path / "data"

    result = qabot(data, "ingest", str(docs))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "broken.txt" in result.stderr and "binary" in result.stderr
    assert "good.txt" not in result.stderr
    assert "1 added" in result.stdout
    store = ArticleStore(make_client(data / "chroma"), "articles", embeddings, embeddings.name)
    assert [Path(m["source"]).name for m in store.sources()] == ["good.txt"]
    assert store.count() == 1


def test_index_built_with_other_embeddings_is_a_clean_error(tmp_path: Path) -> None:
    import chromadb
    from chromadb.config import Settings

    data = tmp_path / "data"
    client = chromadb.PersistentClient(
        path=str(data / "chroma"), settings=Settings(anonymized_telemetry=False)
    )
    client.create_collection("articles", metadata={"embedding_model": "other"})

    line = assert_clean_error(qabot(data, "ask", FATAH, env={"QABOT_EMBEDDINGS": "minilm"}), (1,))
    assert "'other'" in line and "--rebuild" in line

    rebuilt = qabot(data, "ingest", "--rebuild", str(ARTICLE))  # what the message advises
    assert rebuilt.returncode == 0, rebuilt.stderr
    answer = qabot(data, "ask", "--json", FATAH)
    assert answer.returncode == 0 and json.loads(answer.stdout)["grounded"] is True


def test_doctor_never_prints_the_api_key(tmp_path: Path) -> None:
    secret = "sk-test-SECRET123"
    env = {"OPENAI_API_KEY": secret, "QABOT_BACKEND": "openai"}
    for args in (("doctor",), ("--debug", "doctor")):
        result = qabot(tmp_path / "data", *args, env=env)
        output = result.stdout + result.stderr
        assert "openai_api_key: set (hidden)" in result.stdout, output
        assert secret not in output and "SECRET123" not in output
        assert "Traceback" not in output
