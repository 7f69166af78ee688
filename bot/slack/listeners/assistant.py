"""Slack's assistant threads through Bolt's `Assistant` middleware: a greeting and suggested
questions when a thread starts; the user's messages in it are answered as follow-ups."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack import format as fmt
from bot.slack.deps import SlackDeps
from bot.slack.listeners.posts import answer_post, is_user_post

log = logging.getLogger(__name__)

GREETING = (
    "Hi! Ask me about the articles. I answer with quotes from them, "
    "or tell you when they don't say."
)
SUGGESTIONS = [
    ("Main people", "Who are the main people in the article?"),
    ("What happened", "What happened, and where?"),
    ("What was proposed", "What did officials propose?"),
]


def register(app: Any, deps: SlackDeps) -> None:
    from slack_bolt import Assistant

    assistant = Assistant()

    @assistant.thread_started
    def on_thread_started(say: Any, set_suggested_prompts: Any, event: dict[str, Any]) -> None:
        channel = (event.get("assistant_thread") or {}).get("channel_id")
        try:
            say(text=fmt.escape(GREETING))
            set_suggested_prompts(
                title="Try asking", prompts=[{"title": t, "message": m} for t, m in SUGGESTIONS]
            )
        except SlackApiError as exc:
            log.warning("could not greet in %s: %s", channel, exc.response.get("error"))

    @assistant.user_message
    def on_user_message(event: dict[str, Any]) -> None:
        if is_user_post(event, deps.bot_user_id):
            answer_post(deps, event, assistant=True)

    @assistant.thread_context_changed
    def on_context_changed() -> None:
        """Nothing to keep: answers do not depend on the channel the user is viewing (Bolt's
        default would store it in the thread's first message)."""

    app.assistant(assistant)
