"""The /ask slash command: ack at once, answer through response_url (ephemeral unless shared)."""

from __future__ import annotations

from typing import Any

from bot.slack import format as fmt
from bot.slack.deps import SlackDeps
from bot.slack.incoming import question_text, share_requested
from bot.slack.reply import Target

USAGE = "Usage: `/ask your question` (add `--share` first to post the answer for the channel)."


def register(app: Any, deps: SlackDeps) -> None:
    @app.command("/ask")
    def on_ask(ack: Any, command: dict[str, Any], respond: Any) -> None:
        text, share = share_requested(command.get("text", ""))
        question = question_text(text, deps.bot_user_id)
        if not question:
            ack(response_type="ephemeral", text=USAGE)
            return
        ack(
            response_type="ephemeral",
            text=f":hourglass_flowing_sand: Looking up: {fmt.escape(question[:200])}",
        )
        target = Target(
            channel=command.get("channel_id", ""),
            user=command.get("user_id"),
            respond=respond,
            share=share,
        )
        deps.responder.ask(question, target)
