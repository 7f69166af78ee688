"""The Bolt app: built around an already-configured client, with every listener registered."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from bot.slack.dedupe import dedupe_middleware
from bot.slack.deps import SlackDeps
from bot.slack.gate import request_kind
from bot.slack.listeners import register_listeners

if TYPE_CHECKING:
    from slack_bolt import App, BoltResponse

log = logging.getLogger(__name__)


def create_app(deps: SlackDeps) -> App:
    """A Bolt app that acks first (the answering runs in the responder's pool). Requests reach
    it already checked: in HTTP mode the gate verified the signature on the raw bytes
    (bot/slack/gate.py); Socket Mode needs none."""
    from slack_bolt import App

    logging.getLogger("slack_bolt.App").addFilter(_quiet_token_warning)
    app = App(
        client=deps.client,
        signing_secret="",
        request_verification_enabled=False,
        # auth.test now, once: Bolt would otherwise call it on the first request (from every
        # request of a first burst at once), with that request's ack waiting for it
        token_verification_enabled=True,
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(16, thread_name_prefix="slack-listener"),
    )
    app.use(dedupe_middleware(deps.seen))
    register_listeners(app, deps)
    app.error(_request_failed)
    return app


def _request_failed(error: Exception, body: dict[str, Any], response: BoltResponse | None) -> Any:
    """What a middleware or listener raised on a request the gate let through: one warning line
    (the traceback only with --debug) instead of Bolt's traceback, and a 400 if not yet acked."""
    from slack_bolt import BoltResponse

    kind = request_kind(body) or "request"
    log.warning(
        "could not handle a %s request (%s: %s)", kind, type(error).__name__, error,
        exc_info=log.isEnabledFor(logging.DEBUG),
    )  # fmt: skip
    return BoltResponse(status=400, body="bad request") if response is not None else None


def _quiet_token_warning(record: logging.LogRecord) -> bool:
    """Bolt reads SLACK_BOT_TOKEN itself and warns that our client's token wins: it is the
    same token, so the warning is noise."""
    return "`token` will be unused" not in record.getMessage()
