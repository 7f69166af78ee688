"""The `qabot` command: ingest, ask, chat, doctor, server, slack, feedback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot import backends
from bot.cli.articles import articles
from bot.cli.base import Context, format_option, read_question, run_safely
from bot.cli.base import progress as _progress
from bot.cli.eval import eval_
from bot.cli.render import format_markdown
from bot.cli.search import search
from bot.cli.slack import feedback, slack
from bot.config import Settings, load_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--backend",
    type=click.Choice(backends.NAMES),
    help="; ".join(f"{b.name}: {b.help}" for b in backends.BACKENDS.values()),
)
@click.option(
    "--model", "local_model", help="Local GGUF: qwen2.5-coder-1.5b, smollm2-135m or a path."
)
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Where the index and models live."
)
@click.option(
    "--docs", type=click.Path(path_type=Path), help="Articles to index when the index is empty."
)
@click.option("--debug", is_flag=True, help="Log details (never secrets) and show tracebacks.")
@click.version_option(package_name="qabot")
@click.pass_context
def cli(
    ctx: click.Context,
    backend: str | None,
    local_model: str | None,
    data_dir: Path | None,
    docs: Path | None,
    debug: bool,
) -> None:
    """qabot answers questions about news articles, citing the passages it used."""
    from bot.cli.logs import configure

    configure(debug)
    try:
        settings = load_settings(
            backend=backend, local_model=local_model, data_dir=data_dir, docs=docs
        )
    except Exception as exc:  # pydantic ValidationError: show which variable is wrong
        raise click.UsageError(f"invalid configuration: {exc}") from None
    configure(debug, settings.log_format)
    ctx.obj = Context(settings, debug)


@cli.command()
@click.argument("question", nargs=-1)
@format_option
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_obj
def ask(obj: Context, question: tuple[str, ...], fmt: str, as_json: bool) -> None:
    """Answer one QUESTION (or the question on stdin) and exit."""
    text = read_question(question)

    def body() -> int:
        from bot.cli.repl import stream_answer

        engine = obj.engine()
        if as_json or fmt == "json":
            answer = engine.answer(text)
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        elif fmt == "markdown":
            click.echo(format_markdown(engine.answer(text)))
        else:
            stream_answer(engine, text, [])
        return 0

    run_safely(body, obj.debug)


@cli.command()
@click.pass_obj
def chat(obj: Context) -> None:
    """Chat about the articles: follow-ups, /sources, /reset, /quit."""

    def body() -> int:
        from bot.cli.repl import ReplSession

        ReplSession(obj.engine(), history_file=obj.settings.data_dir / "chat_history").run()
        return 0

    run_safely(body, obj.debug)


@cli.command()
@click.argument("sources", nargs=-1, metavar="[PATH|URL]...")
@click.option(
    "--feed", multiple=True, metavar="URL", help="An RSS or Atom feed: add its new items."
)
@click.option("--prune", is_flag=True, help="Also drop indexed articles whose files are gone.")
@click.option("--rebuild", is_flag=True, help="Empty the index first (after changing embeddings).")
@click.pass_obj
def ingest(
    obj: Context, sources: tuple[str, ...], feed: tuple[str, ...], prune: bool, rebuild: bool
) -> None:
    """Add or update articles: .txt, .md, .html files or folders, web pages (http/https URLs)
    and the new items of feeds (--feed)."""
    if not sources and not feed:
        raise click.UsageError("give a file, folder or URL to ingest, or --feed URL")

    def body() -> int:
        from bot.wiring import writing_index

        with writing_index(obj.settings):  # refused while a bot serves a local index
            return _ingest(obj.settings, sources, feed, prune, rebuild)

    run_safely(body, obj.debug)


def _ingest(
    settings: Settings, sources: tuple[str, ...], feed: tuple[str, ...], prune: bool, rebuild: bool
) -> int:
    from tqdm import tqdm

    from bot.wiring import build_store
    from retrieval.ingest import ingest as run_ingest
    from retrieval.web import is_url

    store = build_store(settings)
    if rebuild:
        store.drop()
    bar = tqdm(total=0, unit="doc", disable=None, file=sys.stderr, leave=False)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    urls = [s for s in sources if is_url(s)]
    paths = [Path(s) for s in sources if not is_url(s)]
    result = run_ingest(store, paths, prune=prune, progress=progress, urls=urls, feeds=list(feed))
    bar.close()
    failed = {s.path for s in result.skipped}
    for listed in (f for f in result.feeds if f.url not in failed):
        _progress(f"Feed {listed.url}: {len(listed.new)} new, {listed.known} already indexed.")
    r = result.report
    click.echo(
        f"{len(r.added)} added, {len(r.updated)} updated, {len(r.unchanged)} unchanged"
        f", {len(r.removed)} removed; {r.chunks_added} chunks added, "
        f"{r.chunks_removed} removed; {store.count()} chunks in the index."
    )
    for skipped in result.skipped:
        click.echo(click.style(f"Skipped {skipped.path}: {skipped.reason}", fg="yellow"), err=True)
    return 1 if result.skipped else 0


@cli.command()
@click.pass_obj
def setup(obj: Context) -> None:
    """Verify the model files and prepare the configured local model (run by the installer)."""

    def body() -> int:
        from bot.backends.local.model_files import minilm_files, resolve_gguf

        minilm_files()
        click.echo("Embedding model files verified (all-MiniLM-L6-v2).")
        if obj.settings.backend == "local":
            path = resolve_gguf(obj.settings.local_model, obj.settings.models_dir, _progress)
            click.echo(f"Local model ready: {path}")
        return 0

    run_safely(body, obj.debug)


@cli.command()
@click.pass_obj
def doctor(obj: Context) -> None:
    """Report what is configured and reachable (secrets hidden)."""
    from bot.cli.doctor import report

    run_safely(lambda: report(obj.settings, click.echo), obj.debug)


@cli.command()
@click.argument("action", type=click.Choice(["start", "stop", "status"]))
@click.pass_obj
def server(obj: Context, action: str) -> None:
    """Start, stop or inspect the local model server (one per model, shared machine-wide)."""

    def body() -> int:
        from bot.backends.local.chat import local_server

        srv = local_server(obj.settings, _progress)
        if action == "start":
            click.echo(f"Local model server running at {srv.ensure_running()}")
        elif action == "stop":
            click.echo("Stopped." if srv.stop() else "Not running.")
        else:
            from bot.backends.local.supervisor import running_servers

            status = {
                "this_model": srv.status(),
                "all_servers": running_servers(obj.settings.runtime_dir),
            }
            click.echo(json.dumps(status, indent=2, default=str))
        return 0

    run_safely(body, obj.debug)


for command in (articles, search, eval_, slack, feedback):
    cli.add_command(command)


def main() -> None:
    # Every option can also be set in the environment: QABOT_<COMMAND>_<OPTION>, e.g.
    # QABOT_INGEST_FEED; the group's options are the settings' QABOT_BACKEND and so on.
    cli(prog_name="qabot", auto_envvar_prefix="QABOT")
