"""Slack's AI-app features end to end, against the fake Web API and Socket Mode with a fake
OpenAI-compatible model: Bolt's Assistant flow (greeting, suggested prompts, a status with
rotating loading messages), verified sentences streamed with chat.startStream/appendStream/
stopStream (never a sentence that failed checking), the native feedback buttons, and the
placeholder-and-update fallback where the streaming methods are missing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fakes import slack_requests as sr
from fakes.openai_chat import FakeOpenAIChat
from fakes.slack_api import FakeSlackApi
from fakes.stack import SlackStack, answer_id, has_feedback, running_bot
from slack_sdk import WebClient

from bot.engine.types import Answer, Citation, Passage
from bot.slack import format as fmt
from bot.slack.stream import stream_answer, verified_pieces
from retrieval.store import StoredChunk

FATAH = "Who runs the Fatah Alliance?"
SUPPORTED = "The Fatah Alliance is run by Hadi al-Amiri, the head of Badr Organization [1]."
INVENTED = "It was founded on the Moon by Zorgon Blax in 1850 [1]."
STREAM_METHODS = ("chat.startStream", "chat.appendStream", "chat.stopStream")


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackStack]:
    llm = FakeOpenAIChat(f"{SUPPORTED} {INVENTED}", delay=0.05).start()
    try:
        with running_bot(tmp_path_factory.mktemp("slack-assistant"), **llm.settings()) as stack:
            yield stack
    finally:
        llm.stop()


def start_thread(slack: SlackStack, channel: str, thread_ts: str) -> None:
    started = {
        "type": "assistant_thread_started",
        "assistant_thread": {"user_id": "U1", "channel_id": channel, "thread_ts": thread_ts,
                             "context": {}},
        "event_ts": thread_ts,
    }  # fmt: skip
    slack.sock.event(sr.event_callback(started))


def stream_calls(slack: SlackStack, channel: str) -> list[tuple[str, dict]]:
    return [
        (c.method, c.params)
        for c in slack.api.calls
        if c.method in STREAM_METHODS and c.params.get("channel") == channel
    ]


def test_an_assistant_thread_streams_only_verified_sentences(slack: SlackStack) -> None:
    start_thread(slack, "D10", "10.000001")
    [greeting] = slack.replies("D10", "10.000001")
    assert "Ask me about the articles" in greeting["text"]
    [prompts] = slack.api.wait_for(
        lambda: slack.api.calls_to("assistant.threads.setSuggestedPrompts")
    )
    assert prompts.params["channel_id"] == "D10" and len(prompts.params["prompts"]) == 3

    slack.sock.event(
        sr.event_callback(sr.message("D10", "10.000002", FATAH, thread_ts="10.000001"))
    )
    _, answer = slack.replies("D10", "10.000001", count=2)
    [status] = [
        c for c in slack.api.calls_to("assistant.threads.setStatus")
        if c.params["channel_id"] == "D10"
    ]  # fmt: skip
    assert status.params["loading_messages"] == fmt.LOADING_MESSAGES

    calls = stream_calls(slack, "D10")
    assert [m for m, _ in calls][0] == "chat.startStream" and calls[-1][0] == "chat.stopStream"
    pieces = [c["text"] for _, p in calls for c in p.get("chunks") or []]
    assert pieces and "".join(pieces) == answer["text"]
    assert all(piece.strip().endswith("[1].") for piece in pieces)  # whole, cited sentences
    assert "Hadi al-Amiri" in answer["text"]
    everything = json.dumps([c.params for c in slack.api.calls])
    assert "Zorgon" not in everything and "Moon" not in everything  # failed checking: never sent
    assert not [c for c in slack.api.calls_to("chat.update") if c.params["channel"] == "D10"]
    final_blocks = calls[-1][1]["blocks"]
    assert "Hadi al-Amiri" in json.dumps(final_blocks) and has_feedback(answer)  # the sources
    assert answer["blocks"][-1]["elements"][0]["type"] == "feedback_buttons"


def test_the_native_feedback_buttons_are_stored(slack: SlackStack) -> None:
    slack.sock.event(
        sr.event_callback(sr.message("D20", "20.000002", FATAH, thread_ts="20.000001"))
    )
    [answer] = slack.replies("D20", "20.000001")
    aid = answer_id(answer)
    slack.sock.interactive(sr.feedback("down", aid, "U5", slack.api.response_url("fb")))
    [thanks] = slack.api.wait_for(lambda: slack.api.responses("fb"))
    assert "noted" in thanks["text"]
    assert slack.db("SELECT user_id, vote FROM votes WHERE answer_id = ?", aid) == [("U5", "down")]


def test_without_the_streaming_methods_the_answer_is_posted(slack: SlackStack) -> None:
    slack.api.missing = {"chat.startStream"}
    try:
        slack.sock.event(
            sr.event_callback(sr.message("D30", "30.000002", FATAH, thread_ts="30.000001"))
        )
        [answer] = slack.replies("D30", "30.000001")
    finally:
        slack.api.missing = set()
    assert "Hadi al-Amiri" in answer["text"] and "Zorgon" not in answer["text"]
    assert has_feedback(answer) and not answer.get("streaming")
    [post] = [c for c in slack.api.calls_to("chat.postMessage") if c.params["channel"] == "D30"]
    assert post.params["thread_ts"] == "30.000001"


# -- the streaming step on its own, with a real WebClient ----------------------------------


def answer_with(text: str, quote: str) -> Answer:
    chunk = StoredChunk("c1", quote, "d", "/a.txt", "A <!here>", 1, 0, len(quote),
                        url="https://x.example/a|b", published="2019-05-27")  # fmt: skip
    passage = Passage(1, chunk, 0.9)
    return Answer("q", text, True, [Citation(1, quote, 0, len(quote), 0.9, passage)], [passage])


def test_streamed_text_cannot_ping_or_link() -> None:
    api = FakeSlackApi().start()
    try:
        client = WebClient(token="xoxb-test", base_url=api.url)
        text = "Ask <!channel> and @here [1]. See [the site](https://evil.example) now [1]."
        answer = answer_with(text, "Ask <!channel> and @here.")
        assert verified_pieces(answer) == [
            "Ask <!channel> and @here [1].",
            " See [the site](https://evil.example) now [1].",
        ]
        assert stream_answer(client, "D1", "1.0", answer, "a1")
        [message] = api.thread("D1", "1.0")
        assert "<!" not in message["text"] and "](" not in message["text"]
        assert "@\u200bhere" in message["text"] and not message["streaming"]
        sources = json.dumps(message["blocks"])
        assert "<https://x.example/a%7Cb|A &lt;!here&gt;>" in sources
    finally:
        api.stop()


def test_a_decline_is_not_streamed() -> None:
    declined = Answer("q", "The article does not say.", grounded=False)
    assert verified_pieces(declined) == []
    assert not stream_answer(object(), "D1", "1.0", declined, "a1")
