"""Keeping secrets out of logs: a filter that masks Slack tokens and given secret values."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_TOKENS = re.compile(r"\b(xox[abposr]|xapp)-[A-Za-z0-9-]+")


class RedactSecrets(logging.Filter):
    """Rewrites every record's message with tokens and the given secrets masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return _TOKENS.sub(lambda m: f"{m.group(1)}-[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def install(secrets: Iterable[str]) -> RedactSecrets:
    """Attach the filter to every handler of the root logger (where all records end up)."""
    flt = RedactSecrets(secrets)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for handler in root.handlers:
        handler.addFilter(flt)
    return flt
