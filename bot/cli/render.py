"""Terminal rendering of answers: the answer, then numbered sources with their quotes."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import click

from bot.engine.types import Answer, Citation


def _where(source: str) -> str:
    try:
        return os.path.relpath(source)
    except ValueError:
        return source


def short_source(source: str) -> str:
    return Path(source).name


def where_from(c: Citation) -> tuple[str, str]:
    """Two lines about a cited article: its title, site and date; then its link (or, for a
    file without one, the file and paragraph)."""
    about = " \u00b7 ".join(part for part in (c.title, c.site, c.published) if part)
    return about, c.url or f"{short_source(c.source)}, paragraph {c.paragraph}"


def format_answer(answer: Answer, color: bool = True, width: int | None = None) -> str:
    """The answer wrapped to the terminal, then its sources with quotes."""
    width = min(width or shutil.get_terminal_size((100, 24)).columns, 100)
    style = click.style if color else (lambda text, **_: text)
    lines: list[str] = []
    if answer.notice:
        lines.append(style(f"Note: {answer.notice}", fg="yellow"))
    body = textwrap.fill(answer.text, width=width) if answer.text else ""
    lines.append(body if answer.grounded else style(body, fg="yellow"))
    if answer.citations:
        lines.append("")
        lines.append(style("Sources", bold=True))
        for c in answer.citations:
            quote = textwrap.fill(
                f"\u201c{' '.join(c.quote.split())}\u201d",
                width=width,
                initial_indent=f"[{c.n}] ",
                subsequent_indent="    ",
            )
            about, link = where_from(c)
            lines.append(quote)
            lines.append(style(f"    {about}", fg="cyan"))
            lines.append(style(f"    {link}", fg="cyan", underline=bool(c.url)))
    return "\n".join(lines)


def format_markdown(answer: Answer) -> str:
    """The answer in Markdown: the text, then its sources as a numbered list of quotes with
    the article's title (a link when it has one) and date."""
    lines = [f"> **Note:** {answer.notice}", ""] if answer.notice else []
    lines.append(answer.text if answer.grounded else f"_{answer.text}_")
    if answer.citations:
        lines += ["", "**Sources**", ""]
        for c in answer.citations:
            title = (c.title or short_source(c.source)).replace("[", "\\[").replace("]", "\\]")
            where = f"[{title}]({c.url})" if c.url else f"{title} ({short_source(c.source)})"
            when = f", {c.published}" if c.published else ""
            quote = " ".join(c.quote.split())
            lines.append(f"{c.n}. \u201c{quote}\u201d \u2014 {where}{when}")
    return "\n".join(lines)


def format_sources(answer: Answer | None, color: bool = True) -> str:
    """The full cited passages of an answer (for /sources)."""
    if answer is None or not answer.citations:
        return "No sources: ask a question the articles answer first."
    style = click.style if color else (lambda text, **_: text)
    width = min(shutil.get_terminal_size((100, 24)).columns, 100)
    out: list[str] = []
    for c in answer.citations:
        p = c.passage
        where = c.url or _where(c.source)
        out.append(
            style(
                f"[{c.n}] {c.title} - {where}, paragraph {c.paragraph}, "
                f"characters {p.start}-{p.end}",
                fg="cyan",
            )
        )
        text = " ".join(p.text.split())
        out.append(
            textwrap.fill(text, width=width - 4, initial_indent="    ", subsequent_indent="    ")
        )
        out.append("")
    return "\n".join(out).rstrip()


def rows_used(text: str, width: int) -> int:
    """How many terminal rows the text occupies (to erase a streamed draft)."""
    return sum(max(1, -(-len(line) // max(width, 1))) for line in text.split("\n"))
