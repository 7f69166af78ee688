"""`qabot slack` in Socket Mode, as a separate process, against a fake Web API and socket."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import slack_requests as sr
from fakes.bot_process import QABOT, bot_env
from fakes.stack import (
    APP_TOKEN,
    BOT_TOKEN,
    SlackStack,
    answer_id,
    blocks_text,
    has_feedback,
    is_final,
    running_bot,
)

from bot.config import PROJECT_ROOT

FATAH = "Who runs the Fatah Alliance?"
LANTERN = (
    "The Harbour Lantern Festival\n\n"
    "The Harbour Lantern Festival was organised by <!channel> volunteers, <@U0EVIL> and "
    "<!subteam^S0EVIL|@ops>, with tickets sold at <https://evil.example/x|the official site>.\n\n"
    "At the Harbour Lantern Festival, @here and @everyone cheered the floating lanterns.\n"
)
PINGS = ("<!channel", "<!here", "<!everyone", "<@U", "<!subteam", "<https://", "<#C")


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackStack]:
    tmp = tmp_path_factory.mktemp("slack-socket")
    docs = tmp / "docs"
    docs.mkdir()
    shutil.copy(PROJECT_ROOT / "data" / "article.txt", docs / "article.txt")
    (docs / "lantern.txt").write_text(LANTERN, encoding="utf-8")
    with running_bot(tmp, QABOT_DOCS=str(docs)) as stack:
        yield stack


def test_mention_gets_one_reply_in_the_thread_with_sources(slack: SlackStack) -> None:
    eid = slack.sock.event(sr.event_callback(sr.mention("C100", "100.000001", FATAH)))
    assert slack.sock.wait_ack(eid) == {"envelope_id": eid}
    [reply] = slack.replies("C100", "100.000001")
    assert "Hadi al-Amiri" in reply["text"] and has_feedback(reply)
    assert slack.sock.ack_counts[eid] == 1  # acked on arrival, not again once Bolt ran
    sources = [b for b in reply["blocks"] if b["type"] == "context"]
    assert sources and "article.txt" in sources[0]["elements"][0]["text"]
    assert "\u201c" in sources[0]["elements"][0]["text"]  # the quote
    assert all(
        c.params.get("thread_ts") == "100.000001"
        for c in slack.api.calls_to("chat.postMessage")
        if c.params["channel"] == "C100"
    )


def test_dm_is_answered(slack: SlackStack) -> None:
    slack.sock.event(sr.event_callback(sr.message("D200", "200.000001", FATAH)))
    [reply] = slack.replies("D200", "200.000001")
    assert "Hadi al-Amiri" in reply["text"] and has_feedback(reply)


def test_thread_follow_up_uses_the_earlier_turn(slack: SlackStack) -> None:
    first = "Who is Iran's land forces commander mentioned in the article?"
    slack.sock.event(sr.event_callback(sr.mention("C300", "300.000001", first)))
    slack.replies("C300", "300.000001")
    follow_up = sr.mention(
        "C300", "300.000002", "Which Iraqi officer did he meet?", thread_ts="300.000001"
    )
    slack.sock.event(sr.event_callback(follow_up))
    replies = slack.replies("C300", "300.000001", count=2)
    assert len(replies) == 2
    # Alone, the follow-up finds the wrong meeting (Sabahifar's); with the first turn, Heydari's.
    assert "Heydari" in replies[1]["text"] and "Tariq" in replies[1]["text"]
    [(standalone, history)] = slack.db(
        "SELECT standalone_question, history FROM answers WHERE channel = ? AND history != '[]'",
        "C300",
    )
    assert first in standalone and json.loads(history)[0]["question"] == first


def test_a_dm_thread_reply_is_a_follow_up_without_a_mention(slack: SlackStack) -> None:
    slack.sock.event(
        sr.event_callback(
            sr.message(
                "D310",
                "310.000001",
                "Who is Iran's land forces commander mentioned in the article?",
            )
        )
    )
    slack.replies("D310", "310.000001")
    slack.sock.event(
        sr.event_callback(
            sr.message(
                "D310", "310.000002", "Which Iraqi officer did he meet?", thread_ts="310.000001"
            )
        )
    )
    replies = slack.replies("D310", "310.000001", count=2)
    assert "Heydari" in replies[1]["text"]


def test_retried_and_duplicated_deliveries_give_exactly_one_answer(slack: SlackStack) -> None:
    body = sr.event_callback(sr.message("D400", "400.000001", f"<@UBOT> {FATAH}"))
    as_mention = sr.event_callback({**sr.mention("D400", "400.000001", FATAH)})
    envelopes = [
        slack.sock.event(body),
        slack.sock.event(body, retry_attempt=1),  # Slack's retry: same event_id
        slack.sock.event(body, retry_attempt=2),
        slack.sock.event(as_mention),  # the same post as another event
    ]
    for eid in envelopes:
        slack.sock.wait_ack(eid)
    [reply] = slack.replies("D400", "400.000001")
    assert has_feedback(reply)
    slack.stays(lambda: len(slack.api.thread("D400", "400.000001")) == 1)
    assert all(slack.sock.ack_counts[eid] == 1 for eid in envelopes)
    posts = [c for c in slack.api.calls_to("chat.postMessage") if c.params["channel"] == "D400"]
    assert len(posts) == 1


def test_own_and_other_bots_messages_edits_and_deletions_are_ignored(slack: SlackStack) -> None:
    ignored = [
        sr.message("D500", "500.000001", FATAH, user="UBOT", bot_id="BBOT"),
        sr.message("D500", "500.000002", FATAH, user="U0OTHERBOT", bot_id="B0OTHER"),
        {**sr.message("D500", "500.000003", FATAH, bot_id="B0OTHER"), "subtype": "bot_message"},
        {**sr.message("D500", "500.000004", FATAH), "subtype": "message_changed",
         "message": {"text": FATAH, "ts": "500.000001", "user": "U1"}},
        {**sr.message("D500", "500.000005", ""), "subtype": "message_deleted"},
        sr.message("C500", "500.000006", FATAH),  # a channel post without a mention
    ]  # fmt: skip
    acks = [slack.sock.event(sr.event_callback(e)) for e in ignored]
    for eid in acks:
        slack.sock.wait_ack(eid)
    slack.sock.event(sr.event_callback(sr.message("D501", "501.000001", FATAH)))
    slack.replies("D501", "501.000001")
    slack.stays(lambda: not [k for k in slack.api.messages if k[0] in ("D500", "C500")])


def test_a_429_is_retried_after_retry_after(slack: SlackStack) -> None:
    slack.api.fail_next("chat.postMessage", 429, retry_after=1)
    slack.sock.event(sr.event_callback(sr.mention("C600", "600.000001", FATAH)))
    [reply] = slack.replies("C600", "600.000001")
    assert has_feedback(reply)
    calls = [
        c
        for c in slack.api.calls
        if c.method == "chat.postMessage" and c.params.get("channel") == "C600"
    ]
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 0.95


def test_slash_command_is_answered_through_response_url(slack: SlackStack) -> None:
    url = slack.api.response_url("ask-1")
    eid = slack.sock.command(sr.slash(FATAH, url))
    ack = slack.sock.wait_ack(eid)
    assert "Looking up" in ack["payload"]["text"]
    [answer] = slack.api.wait_for(lambda: slack.api.responses("ask-1"))
    assert answer["response_type"] == "ephemeral"
    assert "Hadi al-Amiri" in answer["text"] and "article.txt" in blocks_text([answer])

    slack.sock.command(sr.slash(f"--share {FATAH}", slack.api.response_url("ask-2")))
    [shared] = slack.api.wait_for(lambda: slack.api.responses("ask-2"))
    assert shared["response_type"] == "in_channel" and "Hadi al-Amiri" in shared["text"]


def test_feedback_click_is_stored_and_the_latest_click_counts(
    slack: SlackStack, tmp_path: Path
) -> None:
    slack.sock.event(sr.event_callback(sr.mention("C700", "700.000001", FATAH)))
    [reply] = slack.replies("C700", "700.000001")
    aid = answer_id(reply)
    clicks = [("up", "U7"), ("down", "U7"), ("up", "U8")]
    for n, (vote, user) in enumerate(clicks):
        url = slack.api.response_url(f"click-{n}")
        slack.sock.interactive(sr.feedback(vote, aid, user, url, channel="C700"))
        [thanks] = slack.api.wait_for(lambda url=url: slack.api.responses(url.rsplit("/", 1)[1]))
        assert thanks["response_type"] == "ephemeral" and "Thanks" in thanks["text"]
    # a click on the buttons of an answer posted before the feedback element still counts
    slack.sock.interactive(sr.click("feedback_up", aid, "U9", slack.api.response_url("old")))
    slack.api.wait_for(lambda: slack.api.responses("old"))
    rows = slack.db("SELECT user_id, vote FROM votes WHERE answer_id = ? ORDER BY user_id", aid)
    assert rows == [("U7", "down"), ("U8", "up"), ("U9", "up")]

    out = tmp_path / "down.jsonl"
    env = bot_env(QABOT_DATA_DIR=str(slack.data_dir))
    result = subprocess.run(
        [str(QABOT), "feedback", "export", "-o", str(out)], env=env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    mine = [line for line in lines if line["feedback"]["answer_id"] == aid]
    assert len(mine) == 1 and mine[0]["question"] == FATAH and mine[0]["feedback"]["user"] == "U7"
    assert {"id", "question", "answerable", "expect", "support"} <= set(mine[0])


def test_assistant_thread_gets_a_greeting_prompts_and_a_status(slack: SlackStack) -> None:
    started = {
        "type": "assistant_thread_started",
        "assistant_thread": {"user_id": "U1", "channel_id": "D800", "thread_ts": "800.000001"},
        "event_ts": "800.000002",
    }  # fmt: skip
    body = sr.event_callback(started)
    first, retry = slack.sock.event(body), slack.sock.event(body, retry_attempt=1)
    slack.sock.wait_ack(first), slack.sock.wait_ack(retry)
    [greeting] = slack.replies("D800", "800.000001")
    assert "Ask me" in greeting["text"]
    prompts = slack.api.wait_for(
        lambda: slack.api.calls_to("assistant.threads.setSuggestedPrompts")
    )
    assert prompts[0].params["thread_ts"] == "800.000001" and prompts[0].params["prompts"]
    slack.stays(lambda: len(slack.api.thread("D800", "800.000001")) == 1)  # the retry: no repeat

    slack.sock.event(
        sr.event_callback(sr.message("D800", "800.000003", FATAH, thread_ts="800.000001"))
    )
    replies = slack.replies("D800", "800.000001", count=2)
    assert "Hadi al-Amiri" in replies[1]["text"]
    statuses = slack.api.calls_to("assistant.threads.setStatus")
    assert [s.params["thread_ts"] for s in statuses if s.params["channel_id"] == "D800"] == [
        "800.000001"
    ]


def test_article_or_question_with_channel_never_pings(slack: SlackStack) -> None:
    question = (
        "<!channel> <@U0X> Who organised the Harbour Lantern Festival? <https://evil.example|x>"
    )
    slack.sock.event(sr.event_callback(sr.message("D900", "900.000001", question)))
    [reply] = slack.replies("D900", "900.000001")
    assert "&lt;!channel&gt;" in reply["text"]  # the article's text is there, escaped
    slack.sock.event(
        sr.event_callback(
            sr.message(
                "D901",
                "901.000001",
                "What did @here and @everyone cheer at the Harbour Lantern Festival?",
            )
        )
    )
    [reply2] = slack.replies("D901", "901.000001")
    assert "lanterns" in reply2["text"]
    slack.sock.command(sr.slash(f"--share <!here> {question}", slack.api.response_url("evil")))
    [shared] = slack.api.wait_for(lambda: slack.api.responses("evil"))
    assert "Harbour Lantern" in json.dumps(shared)
    everything = json.dumps([c.params for c in slack.api.calls], ensure_ascii=False)
    for ping in PINGS:
        assert ping not in everything
    for word in ("@channel", "@here", "@everyone"):
        assert word not in everything.replace("\\u200b", "\u200b")


def test_tokens_never_appear_in_the_logs(slack: SlackStack) -> None:
    log = slack.bot.log()
    assert "DEBUG" in log and "answered in" in log  # the debug log was written
    for secret in (BOT_TOKEN, APP_TOKEN, BOT_TOKEN.split("-", 1)[1]):
        assert secret not in log
    assert all(c.token == BOT_TOKEN for c in slack.api.calls if c.method.startswith("chat."))


def test_final_messages_are_marked_final(slack: SlackStack) -> None:
    finals = [m for m in slack.api.messages.values() if is_final(m)]
    assert finals and not [m for m in finals if m["text"].startswith("Looking that up")]


def test_a_bare_mention_gets_help(slack: SlackStack) -> None:
    slack.sock.event(sr.event_callback(sr.mention("C950", "950.000001", "")))
    [reply] = slack.replies("C950", "950.000001")
    assert "Ask me a question" in reply["text"] and not has_feedback(reply)
