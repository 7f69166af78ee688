"""`qabot slack`: check the Slack settings, build the client and app, serve Socket Mode or HTTP."""

from __future__ import annotations

import logging
import os
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
from bot.slack.dedupe import RedisSeenKeys, SeenKeys
from bot.slack.deps import SlackDeps
from bot.slack.history import ThreadHistory
from bot.slack.memory import RedisThreadMemory, ThreadMemory
from bot.slack.ratelimit import RedisUserRate, UserRate
from bot.slack.reply import Responder
from bot.slack.worker import AnswerPool
from bot.wiring import build_feedback_store, build_redis, build_slack_client, serving_index

log = logging.getLogger(__name__)
Say = Callable[[str], None]
# How often (seconds) a thread holding the GIL hands it over; Python's default, 5 ms, lets a
# few answering threads keep the thread that acks Slack waiting for tens of milliseconds.
SWITCH_INTERVAL = 0.001


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
    """Load the embedding model and start the chat model (the local model server) before the
    first question, so that the answering threads never race to start it and the first answer
    is not the slowest."""
    searcher = getattr(engine, "searcher", None)
    if searcher is not None:
        searcher.embeddings.embed_query("warm up")
    chat = getattr(engine, "chat", None)
    if chat is None:
        return
    try:
        chat()
    except Exception as exc:  # the bot still starts; answers apologise until the model is up
        say(f"The language model is not ready ({type(exc).__name__}); answers will apologise.")
        log.warning("chat model warm-up failed", exc_info=True)


def build_deps(
    settings: Settings, engine: AnswerEngine, client: Any, bot_user_id: str | None = None
) -> SlackDeps:
    """The listeners' dependencies; dedupe, thread memory and rate limits in Redis when
    QABOT_REDIS_URL is set (several workers), else in this process."""
    redis = build_redis(settings)
    rate = settings.user_questions_per_minute
    if redis is not None:
        seen: Any = RedisSeenKeys(redis)
        memory: Any = RedisThreadMemory(redis)
        limit: Any = RedisUserRate(redis, rate)
    else:
        seen, memory, limit = SeenKeys(), ThreadMemory(), UserRate(rate)
    feedback = build_feedback_store(settings)
    history = ThreadHistory(client, memory, bot_user_id)
    pool = AnswerPool(settings.answer_workers)
    pool.start()
    responder = Responder(engine, client, pool, history, feedback, rate=limit)
    return SlackDeps(
        client=client, responder=responder, feedback=feedback, seen=seen, bot_user_id=bot_user_id
    )


def serve(
    settings: Settings,
    build_engine: Callable[[], AnswerEngine],
    http: bool = False,
    host: str = "127.0.0.1",
    port: int = 3000,
    say: Say = print,
    worker: Callable[[], None] | None = None,
) -> None:
    """Check the tokens with Slack, build the engine, then serve until Ctrl-C or SIGTERM.
    `worker`: this is one of several processes sharing the port; called once it serves."""
    check_settings(settings, http)
    sys.setswitchinterval(SWITCH_INTERVAL)
    secrets = [_secret(settings.slack_bot_token), _secret(settings.slack_app_token)]
    redact.install([*secrets, _secret(settings.slack_signing_secret)])
    logging.getLogger("bot.slack").setLevel(min(logging.getLogger().level, logging.INFO))
    client = build_slack_client(settings)
    bot_user_id = connect(client)
    engine = build_engine()
    warm_up(engine, say)
    deps = build_deps(settings, engine, client, bot_user_id)
    in_use = serving_index(settings)  # `qabot ingest` into this local index is refused now
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if http:
            _serve_http(deps, settings, host, port, say, worker)
        else:
            _serve_socket_mode(deps, settings, say)
    finally:  # Ctrl-C or SIGTERM: no new deliveries reach us any more
        told = deps.responder.drain(settings.drain_seconds)
        if in_use is not None:
            in_use.close()
        log.info("stopped (%d unanswered question(s) told to ask again)", told)
        if told:  # answering threads may still wait on the model: do not wait for them
            logging.shutdown()
            os._exit(0)


def _health_server(settings: Settings, deps: SlackDeps, connected: Callable[[], bool]) -> Any:
    """/health and /metrics on QABOT_HEALTH_PORT (when set): not ok once shutting down."""
    from bot.slack.health import start_health_server

    if settings.health_port is None:
        return None
    pool, responder = deps.responder.pool, deps.responder

    def health() -> dict[str, Any]:
        ok = connected() and not responder.closing
        return {"ok": ok, "answering": pool.pending, "queued": pool.ahead()}

    return start_health_server(
        settings.health_host, settings.health_port, health, responder.metrics
    )


def _listening(server: Any) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


def _serve_http(
    deps: SlackDeps,
    settings: Settings,
    host: str,
    port: int,
    say: Say,
    worker: Callable[[], None] | None = None,
) -> None:
    from bot.slack.gate import EVENTS_PATH, Gate
    from bot.slack.http import Endpoint, make_server

    pool = deps.responder.pool

    def health() -> dict[str, Any]:
        return {"ok": True, "answering": pool.pending, "queued": pool.ahead()}

    gate = Gate(_secret(settings.slack_signing_secret))
    server = make_server(Endpoint(create_app(deps), gate, health), host, port, bool(worker))
    ops = _health_server(settings, deps, lambda: True)
    if worker:
        worker()
    else:
        say(f"qabot is serving Slack at {_listening(server)}{EVENTS_PATH} and /health")
    if ops:
        say(f"Health and metrics at {_listening(ops)}/health and /metrics")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if ops:
            ops.server_close()


def _serve_socket_mode(deps: SlackDeps, settings: Settings, say: Say) -> None:
    from bot.slack.socket_mode import SocketModeHandler

    app = create_app(deps)
    handler = SocketModeHandler(app, _secret(settings.slack_app_token), web_client=deps.client)
    handler.connect()
    ops = _health_server(settings, deps, handler.client.is_connected)
    say("qabot is connected to Slack (Socket Mode). Ctrl-C stops it.")
    if ops:
        say(f"Health and metrics at {_listening(ops)}/health and /metrics")
    try:
        threading.Event().wait()
    finally:
        handler.close()
        if ops:
            ops.server_close()
