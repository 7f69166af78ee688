"""`qabot eval`: grade a question set on one or more backends beside the tutorial baseline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bot.backends import NAMES as BACKEND_NAMES
from bot.cli.base import Context, run_safely
from bot.cli.base import progress as _progress


def _backend_list(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str]:
    names = list(dict.fromkeys(n.strip() for n in (value or "").split(",") if n.strip()))
    unknown = [n for n in names if n not in BACKEND_NAMES]
    if unknown:
        raise click.BadParameter(f"unknown backend {unknown[0]!r}; use {', '.join(BACKEND_NAMES)}")
    return names


def _limit_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--min-accuracy, --max-false-refusal, ...: one option per threshold."""
    from bot.evaluation.metrics import THRESHOLDS

    for option, (metric, sense) in reversed(THRESHOLDS.items()):
        side = "below" if sense == "min" else "above"
        fn = click.option(
            "--" + option.replace("_", "-"),
            type=click.FloatRange(0.0, 1.0),
            help=f"Exit 1 if a qabot backend's {metric.replace('_', ' ')} is {side} this.",
        )(fn)
    return fn


@click.command("eval")
@click.argument("questions", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--conversations",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Multi-turn threads (JSONL) to grade as well.",
)
@click.option(
    "--backend",
    "backends",
    callback=_backend_list,
    help="Backends to compare side by side, e.g. local,extractive (default: the configured one).",
)
@click.option(
    "--report",
    "reports",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a report: .md (with a .png chart beside it), .json or .png. Repeatable.",
)
@click.option("--details", is_flag=True, help="Add a row per question to the markdown.")
@click.option("--no-baseline", is_flag=True, help="Skip the LangChain tutorial baseline.")
@_limit_options
@click.pass_obj
def eval_(
    obj: Context,
    /,
    questions: Path,
    conversations: Path | None,
    backends: list[str],
    reports: tuple[Path, ...],
    details: bool,
    no_baseline: bool,
    **limits: float | None,
) -> None:
    """Grade answers to a question set (eval/README.md), beside the tutorial baseline."""

    def body() -> int:
        from bot.evaluation.dataset import load_conversations, load_questions
        from bot.evaluation.metrics import check_thresholds
        from bot.evaluation.report import to_markdown, write_reports
        from bot.evaluation.runner import run_eval

        items = load_questions(questions)
        threads = load_conversations(conversations) if conversations else []
        names = backends or [obj.settings.backend]
        report = run_eval(obj.settings, items, threads, names, not no_baseline, _progress)
        wanted: dict[str, float | None] = {k: v for k, v in limits.items() if v is not None}
        failures = check_thresholds(report["systems"], wanted)
        if wanted:
            report["thresholds"] = {"limits": wanted, "failures": failures}
        write_reports(report, list(reports), details, _progress)
        click.echo(to_markdown(report, details), nl=False)
        for failure in failures:
            click.echo(click.style(f"FAILED {failure}", fg="red"), err=True)
        return 1 if failures else 0

    run_safely(body, obj.debug)
