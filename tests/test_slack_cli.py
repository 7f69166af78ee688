"""`qabot slack` and `qabot feedback export` through the installed entry point."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.bot_process import QABOT, bot_env
from fakes.slack_api import FakeSlackApi

from bot.config import load_settings

TOKEN = "xoxb-111-222-clitestsecret"


def qabot(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(QABOT), *args], env=bot_env(**settings), capture_output=True, text=True, timeout=120
    )


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith("Error:")]
    return line


@pytest.fixture
def api() -> Iterator[FakeSlackApi]:
    server = FakeSlackApi(bot_token="xoxb-the-right-one").start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("args", "settings", "names"),
    [
        (["slack"], {}, ["SLACK_BOT_TOKEN"]),
        (["slack"], {"SLACK_BOT_TOKEN": "xoxp-user"}, ["SLACK_BOT_TOKEN", "xoxb-"]),
        (["slack"], {"SLACK_BOT_TOKEN": TOKEN}, ["SLACK_APP_TOKEN", "--http"]),
        (["slack", "--http"], {"SLACK_BOT_TOKEN": TOKEN}, ["SLACK_SIGNING_SECRET"]),
    ],
)
def test_missing_or_wrong_settings_are_named(
    tmp_path: Path, args: list[str], settings: dict[str, str], names: list[str]
) -> None:
    line = error_line(qabot(*args, QABOT_DATA_DIR=str(tmp_path), **settings))
    assert all(name in line for name in names) and TOKEN not in line


def test_a_refused_token_is_a_clear_error(tmp_path: Path, api: FakeSlackApi) -> None:
    result = qabot(
        "slack", QABOT_DATA_DIR=str(tmp_path), SLACK_BOT_TOKEN=TOKEN,
        SLACK_APP_TOKEN="xapp-1-x", SLACK_API_URL=api.url,
    )  # fmt: skip
    assert "invalid_auth" in error_line(result)
    assert TOKEN not in result.stdout + result.stderr
    assert [c.method for c in api.calls] == ["auth.test"]  # checked before any indexing
    assert not (tmp_path / "chroma").exists()


def test_an_unreachable_api_is_a_clear_error(tmp_path: Path) -> None:
    result = qabot(
        "slack", "--http", QABOT_DATA_DIR=str(tmp_path), SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET="s" * 32, SLACK_API_URL="http://127.0.0.1:9/api/",
    )  # fmt: skip
    assert "Cannot reach the Slack Web API" in error_line(result)


def test_api_url_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().slack_api_url == "https://slack.com/api/"
    monkeypatch.setenv("SLACK_API_URL", "https://slack-gov.com/api")
    assert load_settings().slack_api_url == "https://slack-gov.com/api/"
    monkeypatch.setenv("SLACK_API_URL", "slack.com/api")
    with pytest.raises(ValueError, match="SLACK_API_URL"):
        load_settings()


def test_feedback_export_without_any_feedback(tmp_path: Path) -> None:
    result = qabot("feedback", "export", QABOT_DATA_DIR=str(tmp_path))
    assert result.returncode == 0 and result.stdout == ""
    assert "0 answer(s)" in result.stderr
