"""Log output of every command: timestamped lines, or one JSON object a line
(QABOT_LOG_FORMAT=json) for a log collector. Secrets are masked by bot.slack.redact's filter,
which rewrites each record before any formatter sees it."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("httpx", "httpcore", "openai", "chromadb", "urllib3")


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message"} (+ "exception"), one object a line."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = record.exc_text
        return json.dumps(out, ensure_ascii=False)


def configure(debug: bool, log_format: str = "text") -> None:
    """Root logging to stderr: DEBUG with --debug, else WARNING; chatty libraries quieter."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(logging.INFO if debug else logging.WARNING)
