"""`qabot slack` with an OpenAI-compatible backend (a local fake): streamed drafts at most about
once a second, an apology when the model server fails, and answers again once it is back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes import slack_requests as sr
from fakes.openai_chat import FakeOpenAIChat
from fakes.stack import SlackStack, has_feedback, running_bot

FATAH = "Who runs the Fatah Alliance?"
REPLY = "The Fatah Alliance is run by Hadi al-Amiri, the head of Badr Organization [1]."


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAIChat]:
    server = FakeOpenAIChat(REPLY, delay=0.2).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory, llm: FakeOpenAIChat) -> Iterator[SlackStack]:
    with running_bot(tmp_path_factory.mktemp("slack-llm"), **llm.settings()) as stack:
        yield stack


def test_streamed_draft_updates_at_most_about_once_a_second(
    slack: SlackStack, llm: FakeOpenAIChat
) -> None:
    llm.failing = False
    slack.sock.event(sr.event_callback(sr.mention("C1", "1.000001", FATAH)))
    [reply] = slack.replies("C1", "1.000001")
    assert "Hadi al-Amiri" in reply["text"] and has_feedback(reply)
    [placeholder] = [
        c for c in slack.api.calls_to("chat.postMessage") if c.params["channel"] == "C1"
    ]
    updates = [c for c in slack.api.calls_to("chat.update") if c.params["channel"] == "C1"]
    assert len(updates) >= 2  # at least one draft, then the answer
    assert "Drafting" in str(updates[0].params["blocks"])
    times = [placeholder.at] + [u.at for u in updates]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.9, gaps


def test_llm_down_gives_an_apology_and_the_next_question_is_answered_when_back(
    slack: SlackStack, llm: FakeOpenAIChat
) -> None:
    llm.failing = True
    slack.sock.event(sr.event_callback(sr.mention("C2", "2.000001", FATAH)))
    [apology] = slack.replies("C2", "2.000001")
    assert "Sorry" in apology["text"] and not has_feedback(apology)
    assert "500" not in apology["text"] and "Error" not in apology["text"]  # no raw error text

    llm.failing = False
    slack.sock.event(sr.event_callback(sr.mention("C2", "2.000002", FATAH, thread_ts="2.000001")))
    replies = slack.replies("C2", "2.000001", count=2)
    assert "Hadi al-Amiri" in replies[1]["text"] and has_feedback(replies[1])
    assert "sk-test-not-a-real-key" not in slack.bot.log()
