"""@mentions in channels: answered in the thread (follow-ups there see the earlier turns)."""

from __future__ import annotations

from typing import Any

from bot.slack.deps import SlackDeps
from bot.slack.listeners.posts import answer_post, is_user_post


def register(app: Any, deps: SlackDeps) -> None:
    @app.event("app_mention")
    def on_mention(event: dict[str, Any]) -> None:
        if is_user_post(event, deps.bot_user_id):
            answer_post(deps, event)
