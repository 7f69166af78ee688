"""`qabot doctor`: what is configured and reachable, with secrets redacted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.config import Settings
from bot.errors import QabotError


def report(settings: Settings, echo: Callable[[str], None]) -> int:
    """Print a readable report; returns 1 if something needed is broken."""
    problems = 0
    echo("Configuration")
    for key, value in settings.redacted().items():
        echo(f"  {key}: {value}")

    echo("Model files")
    from bot.model_files import describe_models

    rows = describe_models(settings.models_dir)
    for row in rows:
        state = (
            "verified" if row.get("verified") else ("present" if row.get("present") else "missing")
        )
        echo(f"  {row['name']}: {state}  {row.get('path') or ''}".rstrip())
        if row.get("detail") not in (None, "", "ok"):
            echo(f"    {row['detail']}")
        if row["name"] == "minilm" and not row.get("verified") and settings.embeddings == "minilm":
            problems += 1
    echo("Index")
    try:
        from bot.wiring import build_store

        store = build_store(settings)
        where = (
            f"Chroma server {settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else str(settings.chroma_dir)
        )
        echo(
            f"  {where}: {store.count()} chunks from {len(store.sources())} article(s), "
            f"embeddings {store.embedding_name}"
        )
    except QabotError as exc:
        problems += 1
        echo(f"  problem: {exc}")

    echo("LLM backend")
    if settings.backend == "extractive":
        echo("  extractive: no LLM needed")
    elif settings.backend == "openai":
        url = settings.redacted()["openai_base_url"]  # credentials in the URL are masked
        echo(f"  openai: model {settings.openai_model} at {url or 'https://api.openai.com/v1'}")
    else:
        from bot.wiring import llama_server

        row = next((r for r in rows if r["name"] == settings.local_model), None)
        path = row.get("path") if row else Path(settings.local_model)
        if not path or not Path(str(path)).exists():
            echo(f"  local: model {settings.local_model} not ready (run `qabot setup`)")
        else:
            status = llama_server(settings, Path(str(path))).status()
            echo("  local: " + ", ".join(f"{k}={v}" for k, v in status.items()))
    echo("All good." if not problems else f"{problems} problem(s) found.")
    return 1 if problems else 0
