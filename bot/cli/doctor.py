"""`qabot doctor`: what is configured and reachable, with secrets redacted.

`probe` gathers the facts (never starting or assembling anything); `report` prints them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot import backends
from bot.config import Settings
from bot.errors import QabotError


@dataclass
class Findings:
    settings: dict[str, object]
    models: list[dict[str, object]]
    index: str
    backend: str
    problems: list[str] = field(default_factory=list)


def probe(settings: Settings) -> Findings:
    """What is configured and reachable, and what is broken."""
    from bot.backends.local.model_files import describe_models

    problems: list[str] = []
    models = describe_models(settings.models_dir)
    minilm = next((r for r in models if r["name"] == "minilm"), None)
    if settings.embeddings == "minilm" and not (minilm and minilm.get("verified")):
        problems.append("the embedding model files are not verified")
    try:
        from bot.wiring import build_store

        store = build_store(settings)
        where = (
            f"Chroma server {settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else str(settings.chroma_dir)
        )
        index = (
            f"{where}: {store.count()} chunks from {len(store.sources())} article(s), "
            f"embeddings {store.embedding_name}"
        )
    except QabotError as exc:
        problems.append("the index")
        index = f"problem: {exc}"
    backend = backends.get(settings.backend).probe(settings)
    return Findings(settings.redacted(), models, index, backend, problems)


def report(settings: Settings, echo: Callable[[str], None]) -> int:
    """Print a readable report; returns 1 if something needed is broken."""
    found = probe(settings)
    echo("Configuration")
    for key, value in found.settings.items():
        echo(f"  {key}: {value}")
    echo("Model files")
    for row in found.models:
        state = (
            "verified" if row.get("verified") else ("present" if row.get("present") else "missing")
        )
        echo(f"  {row['name']}: {state}  {row.get('path') or ''}".rstrip())
        if row.get("detail") not in (None, "", "ok"):
            echo(f"    {row['detail']}")
    echo("Index")
    echo(f"  {found.index}")
    echo("LLM backend")
    echo(f"  {found.backend}")
    n = len(found.problems)
    echo("All good." if not n else f"{n} problem(s) found.")
    return 1 if n else 0
