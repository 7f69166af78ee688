"""`qabot slack` and `qabot feedback`: the Slack front-end and its feedback export."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.cli.base import Context, run_safely
from bot.cli.base import progress as _progress


@click.command()
@click.option("--http", "use_http", is_flag=True, help="Serve the Events API over HTTP.")
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP mode: address.")
@click.option("--port", default=3000, show_default=True, type=int, help="HTTP mode: port.")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64),
    help="HTTP mode: worker processes sharing the port (N > 1 needs QABOT_REDIS_URL).",
)  # fmt: skip
@click.pass_obj
def slack(obj: Context, use_http: bool, host: str, port: int, workers: int) -> None:
    """Answer in Slack: Socket Mode (SLACK_APP_TOKEN), or the Events API with --http."""

    def body() -> int:
        from bot.errors import ConfigError
        from bot.slack.server import check_settings, serve
        from bot.slack.workers import serve_workers, tell_ready

        check_settings(obj.settings, use_http)
        if workers > 1:
            if not use_http:
                raise ConfigError("--workers needs --http (Socket Mode: run one bot per host).")
            args = (["--debug"] if obj.debug else []) + ["slack", "--http", "--host", host]
            serve_workers(obj.settings, workers, host, port, _progress, args, obj.prepare_index)
            return 0
        serve(obj.settings, obj.engine, use_http, host, port, say=_progress, worker=tell_ready())
        return 0

    run_safely(body, obj.debug)


@click.group()
def feedback() -> None:
    """The 👍/👎 feedback given in Slack."""


@feedback.command("export")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file."
)
@click.pass_obj
def feedback_export(obj: Context, output: Path | None) -> None:
    """Write the 👎 answers as evaluation lines (eval/README.md), one JSON object a line."""

    def body() -> int:
        from bot.slack.export import thumbs_down
        from bot.wiring import build_feedback_store

        settings = obj.settings
        local = settings.database_url is None
        if local and not (settings.data_dir / "feedback.sqlite3").exists():
            lines = []
        else:
            lines = list(thumbs_down(build_feedback_store(settings)))
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
        _progress(f"{len(lines)} answer(s) marked 👎 exported.")
        return 0

    run_safely(body, obj.debug)
