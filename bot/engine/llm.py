"""Calling the chat model: streaming, a reply deadline, cut-off detection, and its errors
translated into the project's `LLMError`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from bot.errors import LLMError, QabotError

log = logging.getLogger(__name__)

ChatFactory = Callable[[], Any]  # returns a langchain-core chat model, ready to call
Messages = list[tuple[str, str]]
TIMEOUT_MESSAGE = "The language model did not answer in time. Try again, or raise QABOT_TIMEOUT."


def stream_reply(
    chat: ChatFactory,
    messages: Messages,
    *,
    on_token: Callable[[str], None] | None = None,
    max_tokens: int | None = None,
    deadline: float | None = None,
) -> str:
    """The model's whole reply to `messages`, streamed to `on_token` as it arrives.

    `deadline` (seconds) bounds the whole reply, so a server trickling tokens cannot hold a
    question for ever; a reply that ends without a finish reason was cut off. Every failure
    is an `LLMError` with a message fit for users."""
    try:
        model = chat()
        if max_tokens:
            model = model.bind(extra_body={"max_tokens": max_tokens})
        stop_at = time.monotonic() + deadline if deadline else None
        parts: list[str] = []
        finished = from_api = False
        for chunk in model.stream(messages):
            meta = getattr(chunk, "response_metadata", None) or {}
            from_api = from_api or "model_provider" in meta or "model_name" in meta
            finished = finished or bool(meta.get("finish_reason"))
            piece = chunk.content if isinstance(chunk.content, str) else ""
            if piece:
                parts.append(piece)
                if on_token:
                    on_token(piece)
            if stop_at and time.monotonic() > stop_at:
                raise LLMError(TIMEOUT_MESSAGE)
        if from_api and not finished:  # the connection ended before the reply did
            raise LLMError("The language model's reply was cut off. Try again.")
        return "".join(parts)
    except QabotError:
        raise
    except Exception as exc:  # openai/httpx errors: translate at the boundary
        # the traceback only with --debug: without it, the user sees one `Error:` line
        log.warning("LLM call failed: %s", type(exc).__name__)
        log.debug("LLM call failure details", exc_info=True)
        raise LLMError(llm_message(exc)) from exc


def _status(exc: BaseException | None) -> int | None:
    """The HTTP status of an API error, looked for along the exception's causes."""
    while exc is not None:
        status = getattr(exc, "status_code", None)
        if isinstance(status, int):
            return status
        exc = exc.__cause__ or exc.__context__
    return None


def llm_message(exc: Exception) -> str:
    """A one-line, secret-free explanation of a chat model failure."""
    name = type(exc).__name__
    if "Timeout" in name:
        return TIMEOUT_MESSAGE
    if "Connection" in name:
        return "The language model server cannot be reached; `qabot doctor` shows its state."
    if "Authentication" in name:
        return "The language model server refused the API key (check OPENAI_API_KEY)."
    if "RateLimit" in name:
        return "The language model server is rate-limiting requests; try again shortly."
    status = _status(exc)
    if status is not None and status >= 500:
        return f"The language model server failed (HTTP {status}). Try again shortly."
    if isinstance(exc, ValueError):  # e.g. a reply that is not JSON
        return "The language model server sent a reply qabot cannot read. Try again."
    return (
        f"The language model failed ({name}). Try again; `qabot doctor` shows the backend's state."
    )
