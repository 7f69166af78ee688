"""Slack rendering: escaping that can never ping anyone, and Block Kit messages within limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from bot.engine.types import Answer, Citation

SECTION_LIMIT = 3000  # characters of text in one section block
MAX_BLOCKS = 50  # blocks in one message
QUOTE_LIMIT = 500  # a source quote is shortened past this (the answer keeps the full quote)
FALLBACK_LIMIT = 300  # the notification text
DRAFT_LIMIT = 2900
FEEDBACK_BLOCK = "feedback"
FEEDBACK = "feedback"  # the action of the feedback buttons element: value "up:ID" or "down:ID"
UP, DOWN = "feedback_up", "feedback_down"  # the buttons of answers posted by earlier versions
LOADING_MESSAGES = [  # the assistant status rotates through these while an answer is made
    "Searching the articles\u2026",
    "Reading the best passages\u2026",
    "Writing an answer\u2026",
    "Checking every sentence against its quote\u2026",
]

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_ZWSP = "\u200b"
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~-._"  # what may stay as it is in a link (not < > | or spaces)


@dataclass(frozen=True)
class Message:
    """One Slack message: `text` is the notification fallback, `blocks` what is shown."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


def escape(text: str) -> str:
    """Make any text safe to post: `& < >` are escaped, so `<!channel>`, `<!here>`, `<@U..>`,
    `<!subteam^..>` and `<https://x|y>` stay literal text, and a bare `@channel`, `@here` or
    `@everyone` gets a zero-width space so no client can turn it into a broadcast."""
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: "@" + _ZWSP + m.group(1), out)


def split_escaped(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split escaped text into pieces of at most `limit` characters, at a line break or a
    space where possible and never inside an `&amp;`-style entity."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut < limit // 2:
            cut = limit
            amp = rest.rfind("&", max(0, cut - 6), cut)
            if amp > 0 and ";" not in rest[amp:cut]:
                cut = amp
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack must not auto-link names or parse mentions in our text
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(t) for t in texts]}


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "\u2026"


def _fallback(text: str) -> str:
    return escape(_shorten(text, FALLBACK_LIMIT))


def link(url: str, label: str) -> str:
    """`<url|label>` for an http(s) URL, made safe: characters that could end the link or
    start markup in it are percent-encoded, the label escaped; any other URL gives the label
    alone (no `javascript:`, `mailto:` or Slack-internal links)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return escape(label)
    safe = quote(url, safe=_URL_SAFE).replace("&", "&amp;")
    label = escape(label).replace("|", "\u2223")  # a | would end the label in some clients
    return f"<{safe}|{label}>"


def source_block(c: Citation) -> dict[str, Any]:
    """One compact source: the quote, then the article's title (a link when it has one), its
    date, and for a file without a link the paragraph and file name."""
    title = _shorten(c.title, 200)
    if c.url:
        where = link(c.url, title) + (f", {escape(c.published)}" if c.published else "")
    else:
        where = f"{escape(title)}, paragraph {c.paragraph} ({escape(Path(c.source).name)})"
        where += f", {escape(c.published)}" if c.published else ""
    quote_text = escape(_shorten(c.quote, QUOTE_LIMIT))
    return context(f"*[{c.n}]* \u201c{quote_text}\u201d \u2014 {where}")


def feedback_block(answer_id: str) -> dict[str, Any]:
    """Slack's own 👍/👎 element (feedback_buttons in a context_actions block)."""

    def button(vote: str, text: str, label: str) -> dict[str, Any]:
        return {
            "text": {"type": "plain_text", "text": text},
            "accessibility_label": label,
            "value": f"{vote}:{answer_id}",
        }

    return {
        "type": "context_actions",
        "block_id": FEEDBACK_BLOCK,
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": FEEDBACK,
                "positive_button": button("up", "Good answer", "Mark this answer as helpful"),
                "negative_button": button("down", "Bad answer", "Mark this answer as wrong"),
            }
        ],
    }


def parse_feedback(action: dict[str, Any]) -> tuple[str, str] | None:
    """(vote, answer id) of a click on the feedback buttons (or on an older message's
    buttons); None for anything else."""
    action_id, value = action.get("action_id"), str(action.get("value") or "")
    if action_id == FEEDBACK:
        vote, _, answer_id = value.partition(":")
        return (vote, answer_id) if vote in ("up", "down") and answer_id else None
    if action_id in (UP, DOWN):
        return ("up" if action_id == UP else "down"), value
    return None


def answer_blocks(answer: Answer, question: str | None = None) -> list[dict[str, Any]]:
    """The answer (escaped, split into sections), then its sources, or a clear decline."""
    blocks: list[dict[str, Any]] = []
    if question:
        blocks.append(context(f"*Question:* {escape(_shorten(question, QUOTE_LIMIT))}"))
    if answer.notice:
        blocks.append(context(f":information_source: {escape(answer.notice)}"))
    if not answer.grounded:
        blocks.append(section(f":grey_question: *{escape(answer.text)}*"))
        blocks.append(context("None of the indexed articles answers this: no sources."))
        return blocks
    blocks.extend(section(piece) for piece in split_escaped(escape(answer.text)))
    for c in answer.citations:
        blocks.append(source_block(c))
    return blocks


def markdown(text: str) -> str:
    """Text for Slack's markdown (the streaming methods): escaped as for mrkdwn, and no
    `[label](url)` link can be formed from an article's or the model's text."""
    return escape(text).replace("](", "]" + _ZWSP + "(")


def stream_blocks(answer: Answer, answer_id: str | None) -> list[dict[str, Any]]:
    """What ends a streamed answer: its sources, then the feedback buttons."""
    blocks = [source_block(c) for c in answer.citations]
    return blocks + ([feedback_block(answer_id)] if answer_id else [])


def answer_messages(
    answer: Answer, answer_id: str | None = None, question: str | None = None
) -> list[Message]:
    """The answer as one or more messages of at most 50 blocks; 👍/👎 on the last one."""
    blocks = answer_blocks(answer, question)
    tail = [feedback_block(answer_id)] if answer_id else []
    return pack(blocks, tail, _fallback(answer.text))


def pack(
    blocks: list[dict[str, Any]], tail: list[dict[str, Any]], text: str, limit: int = MAX_BLOCKS
) -> list[Message]:
    """Spread blocks over messages of at most `limit` blocks, `tail` ending the last one."""
    groups = [blocks[i : i + limit] for i in range(0, len(blocks), limit)] or [[]]
    if len(groups[-1]) + len(tail) > limit:
        groups.append([])
    groups[-1] = groups[-1] + tail
    return [Message(text if i == 0 else f"{text} (continued)", g) for i, g in enumerate(groups)]


def placeholder(ahead: int = 0) -> Message:
    """What is shown at once, before the answer is ready."""
    if ahead > 0:
        note = f":hourglass_flowing_sand: _Busy: {ahead} question(s) ahead of yours; answer soon._"
    else:
        note = ":hourglass_flowing_sand: _Looking that up in the articles\u2026_"
    return Message("Looking that up\u2026", [context(note)])


def draft(text: str) -> Message:
    """The model's unverified draft while it streams (its sources are checked after)."""
    body = escape(" ".join(text.split()))
    if len(body) > DRAFT_LIMIT:
        body = "\u2026" + body[-DRAFT_LIMIT:].split(" ", 1)[-1]
    return Message(
        "Writing the answer\u2026",
        [section(body or "\u2026"), context(":pencil2: _Drafting; checking sources next\u2026_")],
    )


def notice(text: str) -> Message:
    """A short plain message from the bot (apologies, help); `text` is escaped here."""
    return Message(escape(text), [section(escape(text))])
