"""Slack's assistant threads: a greeting and suggested questions when a thread starts."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack import format as fmt
from bot.slack.deps import SlackDeps

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
    @app.event("assistant_thread_started")
    def on_thread_started(event: dict[str, Any]) -> None:
        thread = event.get("assistant_thread") or {}
        channel, thread_ts = thread.get("channel_id"), thread.get("thread_ts")
        if not channel or not thread_ts:
            return
        try:
            deps.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=fmt.escape(GREETING)
            )
            deps.client.assistant_threads_setSuggestedPrompts(
                channel_id=channel,
                thread_ts=thread_ts,
                title="Try asking",
                prompts=[{"title": t, "message": m} for t, m in SUGGESTIONS],
            )
        except SlackApiError as exc:
            log.warning("could not greet in %s: %s", channel, exc.response.get("error"))

    @app.event("assistant_thread_context_changed")
    def on_context_changed() -> None:
        """Nothing to do: answers do not depend on the channel the user is viewing."""
