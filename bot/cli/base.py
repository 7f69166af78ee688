"""What every `qabot` subcommand shares: its context, the error-to-exit-code wrapper, the
question read from arguments or stdin, and the --format option."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

import click

from bot.config import Settings
from bot.engine.types import AnswerEngine
from bot.errors import QabotError

log = logging.getLogger("qabot")


FORMATS = ("text", "json", "markdown")


def read_question(words: tuple[str, ...]) -> str:
    """The question from the arguments or, when there are none, from standard input (so that
    `echo question | qabot ask` works). A terminal with no question is a usage error."""
    if words:
        return " ".join(words)
    if sys.stdin.isatty():
        raise click.UsageError("give a question, or pipe one in: echo QUESTION | qabot ask")
    return sys.stdin.read()


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    envvar="QABOT_FORMAT",
    show_default=True,
    help="Output format.",
)


def progress(message: str) -> None:
    click.echo(click.style(message, dim=True), err=True)


class Context:
    """What every subcommand gets: the settings (flags applied) and the --debug switch."""

    def __init__(self, settings: Settings, debug: bool) -> None:
        self.settings = settings
        self.debug = debug

    def engine(self) -> AnswerEngine:
        from bot.wiring import build_engine

        return build_engine(self.settings, progress=progress)

    def prepare_index(self) -> None:
        """Fill an empty index from the configured articles (what `engine()` does first)."""
        from bot.wiring import build_store, ensure_index

        ensure_index(build_store(self.settings), self.settings, progress)


def run_safely(fn: Callable[[], int | None], debug: bool) -> None:
    """Run a command body: project errors become one `Error:` line and an exit code."""
    try:
        code = fn() or 0
    except QabotError as exc:
        click.echo(click.style(f"Error: {exc}", fg="red"), err=True)
        code = exc.exit_code
    except KeyboardInterrupt:
        click.echo("\nInterrupted.", err=True)
        code = 130
    except Exception as exc:
        if debug:
            raise
        log.debug("unexpected failure", exc_info=True)
        click.echo(
            click.style(
                f"Error: unexpected failure ({type(exc).__name__}); run with --debug for details.",
                fg="red",
            ),
            err=True,
        )
        code = 1
    sys.exit(code)
