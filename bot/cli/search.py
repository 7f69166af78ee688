"""`qabot search`: the passages retrieval finds for a query, with their scores and why, without
asking the model."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from typing import Any

import click

from bot.cli.base import Context, format_option, progress, read_question, run_safely
from retrieval.search import Hit
from retrieval.text import tokenize


def hit_rows(query: str, hits: list[Hit], floor: float) -> list[dict[str, Any]]:
    """One row per hit: its scores (fused; cosine similarity of the vectors; the share of the
    query's words it contains, and which), where it is from and its text."""
    terms = list(dict.fromkeys(tokenize(query)))
    rows = []
    for rank, h in enumerate(hits, start=1):
        c = h.chunk
        have = set(tokenize(c.text))
        rows.append(
            {
                "rank": rank,
                "score": round(h.score, 4),
                "relevance": round(h.relevance, 4),
                "vector": round(h.similarity, 4),
                "keyword": round(h.coverage, 4),
                "matched_terms": [t for t in terms if t in have],
                "below_floor": h.relevance < floor,
                "title": c.title,
                "url": c.url or None,
                "published": c.published or None,
                "source": c.source,
                "paragraph": c.paragraph,
                "start": c.start,
                "end": c.end,
                "text": c.text,
            }
        )
    return rows


def _why(row: dict[str, Any]) -> str:
    words = ", ".join(row["matched_terms"]) or "none of its words"
    return f"vector {row['vector']:.2f} (meaning) \u00b7 keyword {row['keyword']:.2f} ({words})"


def render_hits(rows: list[dict[str, Any]], fmt: str, floor: float, color: bool) -> str:
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    if not rows:
        return "Nothing found: the index is empty."
    style = click.style if color else (lambda text, **_: text)
    width = min(shutil.get_terminal_size((100, 24)).columns, 100)
    out: list[str] = []
    for r in rows:
        where = " \u00b7 ".join(p for p in (r["title"], r["published"]) if p)
        link = r["url"] or f"{r['source']}, paragraph {r['paragraph']}"
        flag = f" (below the relevance floor {floor:g})" if r["below_floor"] else ""
        if fmt == "markdown":
            out.append(f"{r['rank']}. **{r['score']:.3f}** {where}{flag}  ")
            out.append(f"   {_why(r)}  ")
            out.append(f"   <{link}>" if r["url"] else f"   {link}")
            out.append("")
            out.append(textwrap.indent(" ".join(r["text"].split()), "   > "))
        else:
            out.append(style(f"{r['rank']}. {r['score']:.3f}  {where}{flag}", bold=True))
            out.append(style(f"   {_why(r)}", fg="cyan"))
            out.append(style(f"   {link}", fg="cyan"))
            text = " ".join(r["text"].split())
            out.append(textwrap.fill(text, width, initial_indent="   ", subsequent_indent="   "))
        out.append("")
    return "\n".join(out).rstrip()


@click.command()
@click.argument("query", nargs=-1)
@click.option("-k", "--top", type=click.IntRange(1, 100), help="How many passages (QABOT_TOP_K).")
@format_option
@click.pass_obj
def search(obj: Context, query: tuple[str, ...], top: int | None, fmt: str) -> None:
    """Show the passages retrieval finds for QUERY (or stdin), with their scores and why:
    vector similarity (meaning) and keyword coverage (the query's words they contain).
    The model is not called."""
    text = read_question(query)

    def body() -> int:
        from bot.wiring import build_searcher

        searcher = build_searcher(obj.settings, progress=progress)
        hits = searcher.search(text, top or obj.settings.top_k)
        floor = obj.settings.min_relevance
        rows = hit_rows(text, hits, floor)
        click.echo(render_hits(rows, fmt, floor, color=sys.stdout.isatty()))
        return 0

    run_safely(body, obj.debug)
