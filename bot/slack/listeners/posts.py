"""What mentions and DMs share: which posts to answer, once, in their thread."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack import format as fmt
from bot.slack.deps import SlackDeps
from bot.slack.incoming import question_text
from bot.slack.reply import Target

log = logging.getLogger(__name__)

USER_SUBTYPES = {None, "thread_broadcast", "file_share"}
HELP = (
    "Ask me a question about the articles, for example: "
    "_Who runs the Fatah Alliance?_ I answer with quotes from them, or say when they don't say."
)


def is_user_post(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """A person's new post: not a bot (ours or another), an edit, a deletion or a hidden event."""
    return (
        event.get("subtype") in USER_SUBTYPES
        and not event.get("bot_id")
        and not event.get("bot_profile")
        and bool(event.get("user"))
        and event.get("user") != bot_user_id
        and not event.get("hidden")
    )


def answer_post(deps: SlackDeps, event: dict[str, Any], assistant: bool = False) -> None:
    """Answer a post in its thread, exactly once whatever events deliver it."""
    channel, ts = event["channel"], event["ts"]
    if not deps.seen.first(("post", channel, ts)):
        log.info("already answering post %s in %s", ts, channel)
        return
    thread_ts = event.get("thread_ts") or ts
    target = Target(
        channel=channel,
        user=event.get("user"),
        thread_ts=thread_ts,
        ts=ts,
        assistant=assistant and bool(event.get("thread_ts")),
    )
    question = question_text(event.get("text", ""), deps.bot_user_id)
    if not question:
        help_message = fmt.notice(HELP)
        try:
            deps.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=help_message.text,
                blocks=help_message.blocks,
            )  # fmt: skip
        except SlackApiError as exc:
            log.warning("could not post help in %s: %s", channel, exc.response.get("error"))
        return
    deps.responder.ask(question, target)
