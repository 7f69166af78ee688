"""`qabot slack`: check the Slack settings, build the client and app, serve Socket Mode or HTTP."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from bot.config import Settings
from bot.engine.types import AnswerEngine
from bot.errors import ConfigError
from bot.slack import redact
from bot.slack.app import create_app
from bot.slack.dedupe import SeenKeys
from bot.slack.deps import SlackDeps
from bot.slack.feedback import FeedbackStore
from bot.slack.memory import ThreadMemory
from bot.slack.reply import Responder
from bot.slack.worker import AnswerPool
from bot.wiring import build_slack_client

log = logging.getLogger(__name__)
Say = Callable[[str], None]


def _secret(value: Any) -> str:
    return value.get_secret_value() if value is not None else ""


def check_settings(settings: Settings, http: bool) -> None:
    """Fail early, naming the variable, when a token is missing or of the wrong kind."""
    bot = _secret(settings.slack_bot_token)
    if not bot.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must be set to the app's bot token (xoxb-...).")
    if http and not _secret(settings.slack_signing_secret):
        raise ConfigError(
            "HTTP mode needs SLACK_SIGNING_SECRET (the app's Basic Information page)."
        )
    if not http and not _secret(settings.slack_app_token).startswith("xapp-"):
        raise ConfigError(
            "Socket Mode needs SLACK_APP_TOKEN (an xapp-... app-level token with "
            "connections:write); or serve the Events API with `qabot slack --http`."
        )


def connect(client: Any) -> str:
    """auth.test: the bot's user id, or a clear error when Slack refuses the token."""
    from slack_sdk.errors import SlackApiError

    try:
        return str(client.auth_test()["user_id"])
    except SlackApiError as exc:
        error = exc.response.get("error", "error")
        raise ConfigError(f"Slack refused SLACK_BOT_TOKEN ({error}).") from None
    except OSError as exc:
        raise ConfigError(
            f"Cannot reach the Slack Web API at {client.base_url} ({type(exc).__name__})."
        ) from None


def warm_up(engine: AnswerEngine, say: Say) -> None:
    """Start the chat model (the local model server) before the first question, so that the
    answering threads never race to start it and the first answer is not the slowest."""
    chat = getattr(engine, "chat", None)
    if chat is None:
        return
    try:
        chat()
    except Exception as exc:  # the bot still starts; answers apologise until the model is up
        say(f"The language model is not ready ({type(exc).__name__}); answers will apologise.")
        log.warning("chat model warm-up failed", exc_info=True)


def build_deps(
    settings: Settings, engine: AnswerEngine, client: Any, workers: int = 2
) -> SlackDeps:
    feedback = FeedbackStore(settings.data_dir / "feedback.sqlite3")
    responder = Responder(engine, client, AnswerPool(workers), ThreadMemory(), feedback)
    return SlackDeps(client=client, responder=responder, feedback=feedback, seen=SeenKeys())


def serve(
    settings: Settings,
    build_engine: Callable[[], AnswerEngine],
    http: bool = False,
    host: str = "127.0.0.1",
    port: int = 3000,
    say: Say = print,
) -> None:
    """Check the tokens with Slack, build the engine, then serve until Ctrl-C or SIGTERM."""
    check_settings(settings, http)
    secrets = [_secret(settings.slack_bot_token), _secret(settings.slack_app_token)]
    redact.install([*secrets, _secret(settings.slack_signing_secret)])
    logging.getLogger("bot.slack").setLevel(min(logging.getLogger().level, logging.INFO))
    client = build_slack_client(settings)
    bot_user_id = connect(client)
    engine = build_engine()
    warm_up(engine, say)
    deps = build_deps(settings, engine, client)
    deps.bot_user_id = bot_user_id
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if http:
        _serve_http(deps, settings, host, port, say)
    else:
        _serve_socket_mode(deps, settings, say)


def _serve_http(deps: SlackDeps, settings: Settings, host: str, port: int, say: Say) -> None:
    from bot.slack.gate import EVENTS_PATH, Gate
    from bot.slack.http import Endpoint, make_server

    pool = deps.responder.pool

    def health() -> dict[str, Any]:
        return {"ok": True, "answering": pool.pending, "queued": pool.ahead()}

    gate = Gate(_secret(settings.slack_signing_secret))
    server = make_server(Endpoint(create_app(deps), gate, health), host, port)
    bound_host, bound_port = str(server.server_address[0]), server.server_address[1]
    say(f"qabot is serving Slack at http://{bound_host}:{bound_port}{EVENTS_PATH} and /health")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        deps.responder.pool.shutdown(wait=False)


def _serve_socket_mode(deps: SlackDeps, settings: Settings, say: Say) -> None:
    from bot.slack.socket_mode import SocketModeHandler

    app = create_app(deps)
    handler = SocketModeHandler(app, _secret(settings.slack_app_token), web_client=deps.client)
    handler.connect()
    say("qabot is connected to Slack (Socket Mode). Ctrl-C stops it.")
    try:
        threading.Event().wait()
    finally:
        handler.close()
        deps.responder.pool.shutdown(wait=False)
