"""Prompt templates kept as files beside this module, and a tiny loader."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


@cache
def load(name: str) -> str:
    """The text of prompts/<name>.md, without its trailing newline."""
    return (_HERE / f"{name}.md").read_text(encoding="utf-8").rstrip("\n")


def render(name: str, **values: str) -> str:
    """Fill a template's {placeholders}; other braces in values are left alone."""
    text = load(name)
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text
