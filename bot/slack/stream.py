"""Streaming a verified answer into an assistant thread with Slack's chat streaming methods
(chat.startStream, appendStream, stopStream, through slack_sdk's `chat_stream`)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.engine.types import Answer
from bot.slack import format as fmt
from retrieval.text import sentences

log = logging.getLogger(__name__)


def verified_pieces(answer: Answer) -> list[str]:
    """The answer's text cut at its sentence ends; the pieces join back into the text. Only
    a verified answer is cut: each piece is a sentence that passed citation checking."""
    if not answer.grounded:
        return []
    text, pieces, start = answer.text, [], 0
    for span in sentences(answer.text):
        pieces.append(text[start : span.end])
        start = span.end
    if text[start:].strip():
        pieces.append(text[start:])
    return [p for p in pieces if p.strip()]


def stream_answer(
    client: Any, channel: str, thread_ts: str, answer: Answer, answer_id: str | None
) -> bool:
    """Stream a verified answer sentence by sentence, then its sources and feedback buttons.
    Returns False, having posted nothing, when there is nothing verified to stream or the
    workspace or client has no streaming methods: the caller then posts the answer as before."""
    pieces = verified_pieces(answer)
    blocks = fmt.stream_blocks(answer, answer_id)
    if not pieces or len(blocks) > fmt.MAX_BLOCKS or not hasattr(client, "chat_stream"):
        return False
    streamer = client.chat_stream(channel=channel, thread_ts=thread_ts, buffer_size=1)
    try:
        for piece in pieces:
            streamer.append(markdown_text=fmt.markdown(piece))
        streamer.stop(blocks=blocks)
        return True
    except SlackApiError as exc:
        if streamer.ts is None:
            log.info("no chat streaming in %s (%s); posting the answer", channel, _code(exc))
            return False
        log.warning("the stream in %s broke off (%s); posting the answer", channel, _code(exc))
    first, *rest = fmt.answer_messages(answer, answer_id)
    try:
        client.chat_update(channel=channel, ts=streamer.ts, text=first.text, blocks=first.blocks)
        for message in rest:
            client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=message.text, blocks=message.blocks
            )
    except SlackApiError as exc:
        log.error("could not replace the broken stream in %s: %s", channel, _code(exc))
    return True


def _code(exc: SlackApiError) -> str:
    """The Slack error code only (never the request, which may carry a token)."""
    response = exc.response
    return str(response.get("error") if response is not None else type(exc).__name__)
