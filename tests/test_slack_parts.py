"""The Slack front-end's parts on their own: parsing, dedupe, memory, feedback, redaction."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from bot.engine.types import Answer, Citation, Passage, Turn
from bot.slack.dedupe import SeenKeys
from bot.slack.export import thumbs_down
from bot.slack.feedback import FeedbackStore
from bot.slack.incoming import question_text, share_requested
from bot.slack.memory import ThreadMemory
from bot.slack.redact import RedactSecrets
from bot.slack.reply import Drafts
from bot.slack.worker import AnswerPool
from retrieval.store import StoredChunk


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_question_text_decodes_slack_markup() -> None:
    text = (
        "<@UBOT> who met <@U2|sam> in <#C1|general>? see <https://x.example|this> &amp; &lt;b&gt;"
    )
    assert question_text(text, "UBOT") == "who met @sam in #general? see this & <b>"
    assert question_text("<!here> <!subteam^S1|@ops> <https://y.example>", "UBOT") == (
        "@here @ops https://y.example"
    )
    assert question_text("<@UBOT>", "UBOT") == ""


def test_share_flag() -> None:
    assert share_requested("--share Who?") == ("Who?", True)
    assert share_requested("\u2014share Who?") == ("Who?", True)
    assert share_requested("Shareholders?") == ("Shareholders?", False)


def test_seen_keys_repeat_until_they_expire() -> None:
    clock = Clock()
    seen = SeenKeys(ttl=60, clock=clock)
    assert seen.first("a") and not seen.first("a")
    clock.now += 61
    assert seen.first("a")
    small = SeenKeys(max_keys=2, clock=clock)
    assert all(small.first(k) for k in "xyz") and len(small) <= 2


def test_seen_keys_are_claimed_once_across_threads() -> None:
    seen, wins = SeenKeys(), []
    threads = [threading.Thread(target=lambda: wins.append(seen.first("k"))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


def test_thread_memory_is_bounded_and_per_thread() -> None:
    memory = ThreadMemory(max_threads=2, max_turns=2)
    for n in range(3):
        memory.add(("C", "1"), Turn(f"q{n}", f"a{n}"))
    assert [t.question for t in memory.turns(("C", "1"))] == ["q1", "q2"]
    memory.add(("C", "2"), Turn("x", "y"))
    memory.add(("C", "3"), Turn("x", "y"))
    assert ("C", "1") not in memory and memory.turns(("C", "9")) == []


def _answer(question: str = "Who runs it?") -> Answer:
    p = Passage(1, StoredChunk("p", "Hadi.", "d", "/a.txt", "A", 1, 0, 5), 0.9)
    c = Citation(1, "Hadi.", 0, 5, 0.9, p)
    return Answer(question, "Hadi [1].", True, [c], [p], standalone_question=question)


def test_latest_click_per_user_counts_and_exports_as_eval_lines(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite3")
    single = store.record_answer(_answer(), "C1", "1.0", "U1")
    follow = store.record_answer(_answer("And he?"), "C1", "1.0", "U1", [Turn("Who?", "Hadi.")])
    assert store.vote(single, "U2", "down") and store.vote(single, "U2", "up")
    assert store.vote(single, "U3", "down") and store.vote(follow, "U2", "down")
    assert not store.vote("unknown", "U2", "down")
    with pytest.raises(ValueError):
        store.vote(single, "U2", "meh")
    assert {(v.user_id, v.vote) for v in store.votes() if v.answer_id == single} == {
        ("U2", "up"), ("U3", "down")
    }  # fmt: skip
    lines = list(thumbs_down(store))
    assert [line.get("question") for line in lines] == ["Who runs it?", None]
    assert lines[0]["feedback"]["bot_citations"] == [{"n": 1, "quote": "Hadi."}]
    assert {"answerable", "expect", "support"} <= set(lines[0])
    assert [t["question"] for t in lines[1]["turns"]] == ["Who?", "And he?"]
    store.close()
    assert len(FeedbackStore(tmp_path / "f.sqlite3").votes("down")) == 2  # persisted


def test_redaction_masks_tokens_and_secrets(caplog: pytest.LogCaptureFixture) -> None:
    flt = RedactSecrets(["my-signing-secret"])
    logger = logging.getLogger("test.redact")
    logger.addFilter(flt)
    with caplog.at_level(logging.INFO, "test.redact"):
        logger.info(
            "token %s and %s, secret %s", "xoxb-1-2-abc", "xapp-1-A-xyz", "my-signing-secret"
        )
    logger.removeFilter(flt)
    assert "abc" not in caplog.text and "xyz" not in caplog.text
    assert "my-signing-secret" not in caplog.text and "xoxb-[redacted]" in caplog.text


def test_drafts_are_published_at_most_once_per_interval() -> None:
    clock, published = Clock(), []
    drafts = Drafts(published.append, 1.0, clock)
    for _ in range(30):
        drafts.add("w ")
        clock.now += 0.1
    assert len(published) == 2 and published[-1].startswith("w w")


def test_pool_counts_what_waits() -> None:
    pool, gate = AnswerPool(workers=1), threading.Event()
    futures = [pool.submit(gate.wait) for _ in range(3)]
    assert pool.ahead() == 2
    gate.set()
    for f in futures:
        f.result(5)
    assert pool.ahead() == 0 and pool.pending == 0
    pool.shutdown()
