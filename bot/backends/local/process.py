"""The process that serves one GGUF over llama_cpp.server's OpenAI API and stops when idle."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_COMPLETION_PATHS = ("/v1/chat/completions", "/v1/completions")


class ActivityMiddleware:
    """ASGI middleware: tracks requests in flight and the time the last one ended.

    It also maps OpenAI's newer `max_completion_tokens` (what langchain-openai sends) onto
    `max_tokens`, the only limit llama_cpp.server's request models read; without it the field
    is silently ignored and generation runs to the end of the context.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.in_flight = 0
        self.last_activity = time.monotonic()

    def idle_seconds(self) -> float:
        """Seconds since the last request ended; 0 while any request is in flight."""
        return 0.0 if self.in_flight else time.monotonic() - self.last_activity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.in_flight += 1
        try:
            if scope["method"] == "POST" and scope["path"] in _COMPLETION_PATHS:
                receive = await _with_max_tokens(scope, receive)
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.last_activity = time.monotonic()


async def _with_max_tokens(scope: Scope, receive: Receive) -> Receive:
    """Read the request body, copy max_completion_tokens into max_tokens, and replay it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return _replay([message], receive)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None  # let the app report the bad request
    if (
        isinstance(payload, dict)
        and payload.get("max_tokens") is None
        and isinstance(payload.get("max_completion_tokens"), int)
    ):
        payload["max_tokens"] = payload["max_completion_tokens"]
        body = json.dumps(payload).encode()
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        scope["headers"] = [*headers, (b"content-length", str(len(body)).encode())]
    return _replay([{"type": "http.request", "body": body, "more_body": False}], receive)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _isolated(settings_cls: type) -> type:
    """A subclass that reads only its arguments: llama_cpp's settings are pydantic
    BaseSettings and would otherwise take unrelated environment variables such as API_KEY,
    MODEL, SEED or N_BATCH as server options."""

    class Isolated(settings_cls):  # type: ignore[misc]
        @classmethod
        def settings_customise_sources(
            cls, settings_cls: type, init_settings: Any, **_: Any
        ) -> tuple[Any, ...]:
            return (init_settings,)

    return Isolated


def _watch_idle(activity: ActivityMiddleware, server: Any, idle_minutes: float) -> None:
    """Ask uvicorn to exit once `idle_minutes` have passed since the last request ended."""
    limit = idle_minutes * 60
    while True:
        time.sleep(min(5.0, max(limit / 10, 0.1)))
        if activity.idle_seconds() >= limit:
            print(f"idle for {idle_minutes:g} min; shutting down", file=sys.stderr, flush=True)
            server.should_exit = True
            return


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.backends.local.process", description=__doc__
    )
    parser.add_argument("--model", required=True, type=Path, help="path to a .gguf file")
    # no defaults here: the supervisor passes every value from the settings
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-threads", type=int, required=True)
    parser.add_argument("--n-ctx", type=int, required=True)
    parser.add_argument(
        "--idle-minutes", type=float, required=True, help="stop after this long without requests"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.pop("CONFIG_FILE", None)  # create_app would prefer that file to our settings

    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    model = _isolated(ModelSettings)(
        model=str(args.model),
        model_alias=args.model.stem,
        n_threads=args.n_threads,
        n_threads_batch=args.n_threads,
        n_ctx=args.n_ctx,
        logits_all=False,  # the server's default (True) allocates n_ctx x vocab floats
        # No LlamaRAMCache (cache=False): llama.cpp already reuses the KV prefix shared with
        # the previous request (the system prompt), and saving a state after every request
        # cost more than it saved for qabot's short prompts.
        verbose=False,
    )
    # interrupt_requests=True (the default) ends a stream early with [DONE] as soon as another
    # request waits for the model: concurrent Slack questions would get truncated answers.
    server_settings = _isolated(ServerSettings)(
        host=args.host, port=args.port, api_key=None, interrupt_requests=False
    )
    try:
        app = create_app(server_settings=server_settings, model_settings=[model])
    except (ValueError, OSError) as exc:  # llama_cpp raises ValueError for unloadable files
        print(f"error: cannot load the model: {exc}", file=sys.stderr)
        return 1
    activity = ActivityMiddleware(app)
    config = uvicorn.Config(
        activity, host=args.host, port=args.port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    if args.idle_minutes > 0:
        threading.Thread(
            target=_watch_idle, args=(activity, server, args.idle_minutes), daemon=True
        ).start()
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
