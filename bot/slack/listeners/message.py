"""Message events: every person's DM is answered; in channels only @mentions count."""

from __future__ import annotations

from typing import Any

from bot.slack.deps import SlackDeps
from bot.slack.listeners.posts import answer_post, is_user_post


def register(app: Any, deps: SlackDeps) -> None:
    @app.event("message")
    def on_message(event: dict[str, Any]) -> None:
        # Channel posts that mention the bot also arrive as `app_mention`, handled there.
        if event.get("channel_type") == "im" and is_user_post(event, deps.bot_user_id):
            answer_post(deps, event, assistant=True)
