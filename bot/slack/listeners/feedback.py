"""👍/👎 clicks on Slack's feedback buttons: stored with the answer they rate; a user's latest
click counts."""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.slack import format as fmt
from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)


def register(app: Any, deps: SlackDeps) -> None:
    @app.action(re.compile(f"^({fmt.FEEDBACK}|{fmt.UP}|{fmt.DOWN})$"))
    def on_feedback(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        ack()
        click = fmt.parse_feedback(action)
        user = (body.get("user") or {}).get("id", "")
        stored = False
        if click:
            try:
                stored = deps.feedback.vote(click[1], user, click[0])
            except Exception:
                log.exception("could not store feedback")
        if stored:
            text = "Thanks! Noted :+1:" if click and click[0] == "up" else "Thanks, noted :-1:"
        else:
            text = "Sorry, that feedback could not be recorded."
        respond(text=text, response_type="ephemeral", replace_original=False)
