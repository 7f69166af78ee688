"""👍/👎 clicks: stored with the answer they rate; a user's latest click counts."""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.slack import format as fmt
from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)


def register(app: Any, deps: SlackDeps) -> None:
    @app.action(re.compile(f"^({fmt.UP}|{fmt.DOWN})$"))
    def on_feedback(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        ack()
        vote = "up" if action.get("action_id") == fmt.UP else "down"
        user = (body.get("user") or {}).get("id", "")
        try:
            stored = deps.feedback.vote(str(action.get("value", "")), user, vote)
        except Exception:
            log.exception("could not store feedback")
            stored = False
        if stored:
            text = "Thanks! Noted :+1:" if vote == "up" else "Thanks, noted :-1:"
        else:
            text = "Sorry, that feedback could not be recorded."
        respond(text=text, response_type="ephemeral", replace_original=False)
