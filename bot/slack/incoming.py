"""Turning a Slack message's text into a plain question: mentions, links and entities decoded."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"<([^<>]*)>")
_SHARE = re.compile(r"^\s*(?:--share|\u2014share|-s|share:)(?:\s+|$)", re.IGNORECASE)


def _plain(inner: str, bot_user_id: str | None) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        if bot_user_id and target[1:] == bot_user_id:
            return " "
        return f"@{label or target[1:]}"
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        return label or f"@{name}"
    return label or target


def question_text(text: str, bot_user_id: str | None = None) -> str:
    """The question in a message: the bot's own mention removed, other mentions, channels and
    links shown as plain text (`@name`, `#name`, the link's label), `&amp; &lt; &gt;` decoded."""
    plain = _TOKEN.sub(lambda m: _plain(m.group(1), bot_user_id), text or "")
    plain = plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(plain.split())


def share_requested(text: str) -> tuple[str, bool]:
    """`/ask --share question` (or `-s`, `share:`): post the answer in the channel."""
    match = _SHARE.match(text or "")
    if not match:
        return text or "", False
    return text[match.end() :], True
