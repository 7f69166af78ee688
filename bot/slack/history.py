"""A thread's earlier turns: from memory when this process has them, else read back from Slack
(conversations.replies), so follow-ups keep their context after a restart and on any worker."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.engine.types import Turn
from bot.slack import format as fmt
from bot.slack.incoming import question_text
from bot.slack.memory import ThreadKey, ThreadMemory

log = logging.getLogger(__name__)

ANSWER_EVENT = "qabot_answer"  # the metadata event type on every answer the bot posts
MAX_PAGES = 5  # of conversations.replies (200 messages each): long threads keep their tail
_CONTINUED = " (continued)"


def answer_metadata(question: str, answer: str) -> dict[str, Any]:
    """Slack message metadata for an answer: its question and text (escaped like everything
    the bot posts), read back by `ThreadHistory.read`."""
    payload = {"question": fmt.escape(question[:500]), "answer": fmt.escape(answer[:1000])}
    return {"event_type": ANSWER_EVENT, "event_payload": payload}


def _unescape(text: str) -> str:
    text = text.replace("\u200b", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class ThreadHistory:
    """Earlier turns of a Slack thread. Memory is a cache; Slack keeps the whole thread."""

    def __init__(self, client: Any, memory: ThreadMemory, bot_user_id: str | None = None):
        self.client, self.memory, self.bot_user_id = client, memory, bot_user_id

    def turns(self, key: ThreadKey, post_ts: str | None = None) -> list[Turn]:
        """The turns before the post `post_ts` in thread `key`. A post that starts its thread
        has none; a thread this process has not seen is read from Slack (and remembered)."""
        known = self.memory.get(key)
        if known is not None:
            return known
        if post_ts is not None and post_ts == key[1]:
            return []
        turns = self.read(key, post_ts)
        self.memory.put(key, turns)
        return self.memory.turns(key)

    def add(self, key: ThreadKey, turn: Turn) -> None:
        self.memory.add(key, turn)

    def read(self, key: ThreadKey, post_ts: str | None = None) -> list[Turn]:
        """The thread's question/answer turns as Slack has them: each answer the bot posted
        (its metadata, or its text after the question that preceded it). Empty when Slack
        cannot be read (the answer then goes without context, never fails)."""
        channel, thread_ts = key
        messages: list[dict[str, Any]] = []
        cursor = None
        try:
            for _ in range(MAX_PAGES):
                page = self.client.conversations_replies(
                    channel=channel, ts=thread_ts, limit=200, cursor=cursor,
                    include_all_metadata=True,
                )  # fmt: skip
                messages += page.get("messages") or []
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not page.get("has_more") or not cursor:
                    break
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response else type(exc).__name__
            log.warning("could not read thread %s in %s: %s", thread_ts, channel, error)
            return []
        return self._pair(m for m in messages if m.get("ts") != post_ts)

    def _is_ours(self, message: dict[str, Any]) -> bool:
        return bool(self.bot_user_id) and message.get("user") == self.bot_user_id

    def _pair(self, messages: Any) -> list[Turn]:
        turns: list[Turn] = []
        question = ""
        for message in messages:
            if not self._is_ours(message):
                if not message.get("bot_id") and message.get("user"):
                    question = question_text(message.get("text", ""), self.bot_user_id)
                continue
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == ANSWER_EVENT and payload.get("answer"):
                asked = _unescape(str(payload.get("question", ""))) or question
                turns.append(Turn(asked, _unescape(str(payload["answer"]))))
            elif question and _has_feedback(message):  # an answer posted without metadata
                text = _unescape(message.get("text", "")).removesuffix(_CONTINUED)
                turns.append(Turn(question, text))
            else:
                continue
            question = ""
        return turns


def _has_feedback(message: dict[str, Any]) -> bool:
    return any(b.get("block_id") == fmt.FEEDBACK_BLOCK for b in message.get("blocks") or [])
