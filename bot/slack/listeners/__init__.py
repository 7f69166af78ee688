"""Listener registration: one small module per kind of request Slack sends."""

from __future__ import annotations

from typing import Any

from bot.slack.deps import SlackDeps
from bot.slack.listeners import ask, assistant, feedback, mention, message


def register_listeners(app: Any, deps: SlackDeps) -> None:
    for module in (mention, message, ask, feedback, assistant):
        module.register(app, deps)
