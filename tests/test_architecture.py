"""The layers stay layers: retrieval imports nothing of bot, the engine and Slack nothing of
evaluation, and no module imports itself back through others (lazy imports count too)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules() -> dict[str, Path]:
    out = {}
    for package in ("bot", "retrieval", "prompts"):
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def _imports(path: Path, known: set[str]) -> set[str]:
    """Project modules a file imports anywhere, except under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found & known


MODULES = _modules()
GRAPH = {name: _imports(path, set(MODULES)) - {name} for name, path in MODULES.items()}


def test_retrieval_imports_nothing_from_bot() -> None:
    offenders = {
        m: d
        for m, d in GRAPH.items()
        if m.startswith("retrieval") and any(x.startswith("bot") for x in d)
    }
    assert offenders == {}


def test_engine_and_slack_do_not_import_evaluation() -> None:
    offenders = {
        m: sorted(x for x in d if x.startswith("bot.evaluation"))
        for m, d in GRAPH.items()
        if m.startswith(("bot.engine", "bot.slack"))
    }
    assert {m: d for m, d in offenders.items() if d} == {}


def test_only_config_errors_and_wiring_sit_at_the_top_of_bot() -> None:
    top = {p.stem for p in (ROOT / "bot").glob("*.py")}
    assert top == {"__init__", "config", "errors", "wiring"}


def test_no_import_cycle() -> None:
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(GRAPH[module]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []
