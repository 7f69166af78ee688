"""What the listeners are handed: one explicit object, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.slack.dedupe import RedisSeenKeys, SeenKeys
from bot.slack.feedback import FeedbackStore
from bot.slack.reply import Responder


@dataclass
class SlackDeps:
    """The Web API client, the responder (engine + pool + thread memory), dedupe and feedback."""

    client: Any  # slack_sdk.WebClient
    responder: Responder
    feedback: FeedbackStore
    seen: SeenKeys | RedisSeenKeys
    bot_user_id: str | None = None
