"""Follow-ups after a restart: a new `qabot slack` process reads the thread's earlier turns
back from Slack (conversations.replies), in Socket Mode and over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes import slack_requests as sr
from fakes.slack_api import FakeSlackApi
from fakes.stack import APP_TOKEN, BOT_TOKEN, SlackStack, running_bot

FIRST = "Who is Iran's land forces commander mentioned in the article?"
FOLLOW_UP = "Which Iraqi officer did he meet?"


def deliver(stack: SlackStack, event: dict[str, Any]) -> None:
    stack.api.record_post(event)  # the post is in the channel, as Slack would keep it
    body = sr.event_callback(event)
    if stack.sock:
        stack.sock.wait_ack(stack.sock.event(body))
    else:
        assert stack.post(*sr.json_body(body))[0] == 200


@pytest.mark.parametrize("http", [False, True], ids=["socket-mode", "http"])
def test_a_follow_up_after_a_restart_sees_the_thread(tmp_path: Path, http: bool) -> None:
    api = FakeSlackApi(BOT_TOKEN, APP_TOKEN).start()
    try:
        with running_bot(tmp_path, http=http, api=api, log_name="first.log") as stack:
            deliver(stack, sr.mention("C300", "300.000001", FIRST))
            [first] = stack.replies("C300", "300.000001")
            assert "Heydari" in first["text"]
        # a new process: nothing of the thread in memory
        with running_bot(tmp_path, http=http, api=api, log_name="second.log") as stack:
            deliver(stack, sr.mention("C300", "300.000002", FOLLOW_UP, thread_ts="300.000001"))
            replies = stack.replies("C300", "300.000001", count=2)
            # alone, the follow-up finds another meeting (Sabahifar's); with the thread, Heydari's
            assert "Heydari" in replies[1]["text"] and "Tariq" in replies[1]["text"]
            [(standalone,)] = stack.db(
                "SELECT standalone_question FROM answers WHERE question = ?", FOLLOW_UP
            )
            assert FIRST in standalone
        reads = api.calls_to("conversations.replies")
        assert [(c.params["channel"], c.params["ts"]) for c in reads] == [("C300", "300.000001")]
    finally:
        api.stop()
