"""The Bolt app: built around an already-configured client, with every listener registered."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from bot.slack.dedupe import dedupe_middleware
from bot.slack.deps import SlackDeps
from bot.slack.listeners import register_listeners

if TYPE_CHECKING:
    from slack_bolt import App


def create_app(deps: SlackDeps, signing_secret: str | None = None) -> App:
    """A Bolt app that acks first (the answering runs in the responder's pool). Requests are
    verified when a signing secret is given (HTTP mode); Socket Mode needs none."""
    from slack_bolt import App

    logging.getLogger("slack_bolt.App").addFilter(_quiet_token_warning)
    app = App(
        client=deps.client,
        signing_secret=signing_secret or "",
        request_verification_enabled=bool(signing_secret),
        token_verification_enabled=False,  # the caller already ran auth.test
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(16, thread_name_prefix="slack-listener"),
    )
    app.use(dedupe_middleware(deps.seen))
    register_listeners(app, deps)
    return app


def _quiet_token_warning(record: logging.LogRecord) -> bool:
    """Bolt reads SLACK_BOT_TOKEN itself and warns that our client's token wins: it is the
    same token, so the warning is noise."""
    return "`token` will be unused" not in record.getMessage()
