"""Prompt templates kept as files beside this module, and a tiny loader."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


@cache
def load(name: str) -> str:
    """The text of prompts/<name>.md, without its trailing newline."""
    return (_HERE / f"{name}.md").read_text(encoding="utf-8").rstrip("\n")


def render(name: str, **values: str) -> str:
    """Fill a template's {placeholders}; other braces in values are left alone."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), load(name))
