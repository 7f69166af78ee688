"""`qabot articles`: what is indexed (title, source, date, chunks), and removing one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from bot.cli.base import Context, format_option, run_safely
from bot.errors import InputError


def article_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per article, newest first (undated ones last), by title within a date."""
    records = sorted(records, key=lambda r: str(r.get("title", "")))
    records.sort(key=lambda r: str(r.get("published") or ""), reverse=True)
    return [
        {
            "id": r["id"],
            "title": r.get("title", ""),
            "source": r.get("source", ""),
            "url": r.get("url") or None,
            "published": r.get("published") or None,
            "site": r.get("site") or None,
            "author": r.get("author") or None,
            "chunks": int(r.get("chunks", 0)),
        }
        for r in records
    ]


def render_articles(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    if fmt == "markdown":
        lines = ["| id | title | date | chunks | source |", "|---|---|---|---|---|"]
        for r in rows:
            title = r["title"].replace("|", "\\|")
            source = r["url"] or r["source"]
            lines.append(
                f"| `{r['id'][:8]}` | {title} | {r['published'] or ''} | {r['chunks']} | {source} |"
            )
        return "\n".join(lines)
    if not rows:
        return "No articles indexed. Add some with `qabot ingest PATH|URL`."
    out = []
    for r in rows:
        date = r["published"] or "-" * 10
        out.append(f"{r['id'][:8]}  {date}  {r['chunks']:>4} chunks  {r['title']}")
        out.append(f"{'':34}{r['source']}")
    out.append(f"{len(rows)} article(s).")
    return "\n".join(out)


def find_article(records: list[dict[str, Any]], target: str) -> dict[str, Any]:
    """The one article that `target` names: its id (or the first 4+ characters of it), its
    source (a path or the URL it was ingested from) or its link. InputError otherwise."""
    from retrieval.web import is_url, normalize

    wanted = {target, normalize(target) if is_url(target) else str(Path(target).resolve())}
    exact = [r for r in records if {r["id"], r.get("source"), r.get("url")} & wanted]
    if not exact and len(target) >= 4:
        exact = [r for r in records if r["id"].startswith(target.lower())]
    if len(exact) == 1:
        return exact[0]
    if not exact:
        raise InputError(f"No indexed article is {target!r}; `qabot articles` lists them.")
    raise InputError(f"{target!r} names {len(exact)} articles; give more of the id.")


@click.group(invoke_without_command=True)
@format_option
@click.pass_context
def articles(ctx: click.Context, fmt: str) -> None:
    """List the indexed articles (id, date, chunks, title, source); see `articles remove`."""
    if ctx.invoked_subcommand:
        return
    obj: Context = ctx.obj

    def body() -> int:
        from bot.wiring import build_store

        click.echo(render_articles(article_rows(build_store(obj.settings).sources()), fmt))
        return 0

    run_safely(body, obj.debug)


@articles.command("remove")
@click.argument("target", metavar="ID|URL|PATH")
@click.pass_obj
def articles_remove(obj: Context, target: str) -> None:
    """Remove one article from the index, named by its id, URL or file path."""

    def body() -> int:
        from bot.wiring import build_store

        store = build_store(obj.settings)
        record = find_article(store.sources(), target)
        chunks = store.remove_ids([record["id"]])
        click.echo(f"Removed {record['title']!r} ({record['source']}; {chunks} chunks).")
        return 0

    run_safely(body, obj.debug)
