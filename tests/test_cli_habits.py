"""Terminal habits: the question from stdin, `qabot search`, output formats, options from the
environment, shell completion and multi-line chat input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import FATAH, qabot

from bot.config import Settings


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("habits-data")


def test_the_question_comes_from_stdin(data: Path) -> None:
    result = qabot(data, "ask", stdin=f"{FATAH}\n")
    assert result.returncode == 0, result.stderr
    assert "Hadi al-Amiri" in result.stdout and "article.txt, paragraph 3" in result.stdout
    empty = qabot(data, "ask", stdin="")
    assert empty.returncode == 2 and "empty" in empty.stderr


def test_formats_and_options_from_the_environment(data: Path) -> None:
    markdown = qabot(data, "ask", "--format", "markdown", FATAH).stdout
    assert "**Sources**" in markdown and "1. \u201c" in markdown and "\u2014 article" in markdown
    as_json = qabot(data, "ask", FATAH, env={"QABOT_FORMAT": "json"})
    assert json.loads(as_json.stdout)["citations"][0]["title"] == "article"
    auto = qabot(data, "search", "Fatah Alliance", env={"QABOT_SEARCH_TOP": "1"})
    assert auto.stdout.count("\n1. ") + auto.stdout.startswith("1. ") == 1
    assert "\n2. " not in auto.stdout


def test_search_shows_scores_and_why_without_the_model(data: Path) -> None:
    # an unreachable OpenAI server: search must not need it
    env = {"QABOT_BACKEND": "openai", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    result = qabot(data, "search", "-k", "3", "Fatah Alliance", env=env)
    assert result.returncode == 0, result.stderr
    first = result.stdout.split("\n\n")[0]
    assert first.startswith("1. ") and "keyword 1.00 (fatah, alliance)" in first
    assert "vector 0." in first and "Hadi al-Amiri" in first

    rows = json.loads(qabot(data, "search", "--format", "json", stdin="Fatah Alliance").stdout)
    assert [r["rank"] for r in rows] == list(range(1, Settings(_env_file=None).top_k + 1))
    assert rows[0]["matched_terms"] == ["fatah", "alliance"] and rows[0]["keyword"] == 1.0
    assert rows == sorted(rows, key=lambda r: -r["score"])
    assert {"vector", "relevance", "below_floor", "title", "url", "start", "end"} <= set(rows[0])


def test_chat_takes_multi_line_questions(data: Path) -> None:
    lines = "Who runs \\\nthe Fatah Alliance?\n/multi\nWho is Iran's\nland forces commander?\n"
    lines += "/end\n"
    result = qabot(data, "chat", stdin=lines + "/quit\n")
    assert result.returncode == 0, result.stderr
    assert "Hadi al-Amiri" in result.stdout and "Koumars Heydari" in result.stdout


def test_shell_completion_script(data: Path) -> None:
    result = qabot(data, env={"_QABOT_COMPLETE": "bash_source"})
    assert result.returncode == 0 and "_qabot_completion" in result.stdout
