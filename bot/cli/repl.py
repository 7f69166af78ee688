"""The terminal chat: line editing and history, streamed drafts, follow-ups, slash commands."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import click

from bot.cli.render import format_answer, format_sources, rows_used
from bot.engine.types import Answer, AnswerEngine, Turn
from bot.errors import LLMError, QabotError

HELP = (
    "Ask a question about the articles. Follow-ups may refer to earlier answers.\n"
    "  /sources  the full passages cited by the last answer\n"
    "  /multi    several lines as one question (for pasting), ended by /end;\n"
    "            or end a line with \\ to go on on the next one\n"
    "  /reset    forget the conversation\n"
    "  /quit     leave (or Ctrl-D)"
)


def stream_answer(engine: AnswerEngine, question: str, history: list[Turn]) -> Answer:
    """Answer, showing the model's draft as it streams (on a terminal), then the verified
    answer with its sources in place of the draft."""
    tty = sys.stdout.isatty()
    draft: list[str] = []

    def on_token(piece: str) -> None:
        draft.append(piece)
        click.echo(click.style(piece, dim=True), nl=False)

    answer = engine.answer(question, history, on_token=on_token if tty else None)
    if tty and draft:
        rows = rows_used("".join(draft), shutil.get_terminal_size((100, 24)).columns)
        click.echo("\r" + (f"\x1b[{rows - 1}A" if rows > 1 else "") + "\x1b[J", nl=False)
    click.echo(format_answer(answer, color=tty))
    return answer


def _reader(history_file: Path) -> Callable[[str], str]:
    """prompt_toolkit's line editor on a terminal, plain input() otherwise."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory

        history_file.parent.mkdir(parents=True, exist_ok=True)
        session: PromptSession[str] = PromptSession(history=FileHistory(str(history_file)))
        return lambda prompt: session.prompt(prompt)
    return input


def read_lines(read: Callable[[str], str]) -> str:
    """One question: a line; a line ending in a backslash goes on on the next; `/multi` starts
    a block of lines (pasted text, say) that `/end` closes."""
    line = read("\n> ")
    if line.strip() == "/multi":
        block: list[str] = []
        while (more := read("... ")).strip() != "/end":
            block.append(more)
        return "\n".join(block)
    lines = [line]
    while lines[-1].rstrip().endswith("\\"):
        lines[-1] = lines[-1].rstrip()[:-1]
        lines.append(read("... "))
    return "\n".join(lines)


class ReplSession:
    """One conversation in the terminal (the read-eval-print loop of `qabot chat`)."""

    def __init__(self, engine: AnswerEngine, history_file: Path, max_turns: int = 6) -> None:
        self.engine = engine
        self.history_file = history_file
        self.max_turns = max_turns
        self.turns: list[Turn] = []
        self.last: Answer | None = None

    def run(self) -> None:
        read = _reader(self.history_file)
        self.engine.warm_up()
        click.echo(
            click.style("qabot", bold=True) + " - ask about the articles; /help for "
            "commands, Ctrl-D to leave."
        )
        while True:
            try:
                line = read_lines(read).strip()
            except EOFError:
                click.echo()
                return
            except KeyboardInterrupt:
                continue
            if not line:
                continue
            if line.startswith("/"):
                if not self.command(line):
                    return
                continue
            self.ask(line)

    def command(self, line: str) -> bool:
        """Handle a slash command; False means leave."""
        name = line.split()[0].lower()
        if name in ("/quit", "/exit", "/q"):
            return False
        if name == "/reset":
            self.turns, self.last = [], None
            click.echo("Conversation forgotten.")
        elif name == "/sources":
            click.echo(format_sources(self.last, color=sys.stdout.isatty()))
        elif name == "/help":
            click.echo(HELP)
        else:
            click.echo(f"Unknown command {name}. " + HELP)
        return True

    def ask(self, question: str) -> None:
        try:
            answer = stream_answer(self.engine, question, self.turns)
        except LLMError as exc:
            click.echo(click.style(f"\nSorry: {exc}", fg="red"))
            return
        except QabotError as exc:
            click.echo(click.style(f"Error: {exc}", fg="red"))
            return
        except KeyboardInterrupt:
            click.echo(click.style("\n(cancelled)", fg="yellow"))
            return
        self.last = answer
        turn = Turn(answer.standalone_question or question, answer.text, answer.doc_ids)
        self.turns = [*self.turns, turn]
        self.turns = self.turns[-self.max_turns :]
