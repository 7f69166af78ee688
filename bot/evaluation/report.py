"""Evaluation reports: a markdown table with the systems side by side, JSON, a PNG chart."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.errors import QabotError
from bot.evaluation.baseline import DESCRIPTION
from bot.evaluation.metrics import STAGES

NO_MATPLOTLIB = "matplotlib is not installed (pip install 'qabot[eval]')"

ROWS = (  # metric key, label, kind ("pct" or "num")
    ("answer_accuracy", "answer accuracy (answerable)", "pct"),
    ("refusal_accuracy", "refusal accuracy (unanswerable)", "pct"),
    ("false_refusal_rate", "false refusals (answerable declined)", "pct"),
    ("recall_at_k", "retrieval recall@{k}", "pct"),
    ("mrr", "retrieval MRR", "num"),
    ("citation_precision", "citation precision", "pct"),
    ("verbatim_quotes", "verbatim quotes", "pct"),
    ("multiturn_accuracy", "multi-turn accuracy", "pct"),
    ("confidently_wrong", "confidently wrong (grounded but wrong)", "pct"),
)


def _cell(metric: dict[str, Any], kind: str) -> str:
    value, num, den = metric["value"], metric["num"], metric["den"]
    if value is None:
        return "—"
    if kind == "num":
        return f"{value:.3f}"
    return f"{100 * value:.1f}% ({num:g}/{den})"


def _seconds(latency: dict[str, Any], stage: str) -> str:
    got = latency.get(stage)
    return f"{got['p50']:.2f} / {got['p95']:.2f}" if got else "—"


def _table(report: dict[str, Any]) -> list[str]:
    systems = report["systems"]
    names = list(systems)
    lines = [
        "| metric | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]

    def row(label: str, cell: Any) -> None:
        cells = [cell(s) if s["applicable"] else "n/a" for s in systems.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("model", lambda s: s["model"])
    ks = {s["metrics"]["k"] for s in systems.values() if s["applicable"]}
    k = ks.pop() if len(ks) == 1 else "k"
    for key, label, kind in ROWS:
        row(label.format(k=k), lambda s, key=key, kind=kind: _cell(s["metrics"][key], kind))
    for stage in STAGES:
        row(f"{stage} p50 / p95 (s)", lambda s, st=stage: _seconds(s["metrics"]["latency"], st))
    row(
        "LLM tokens per question (estimate)",
        lambda s: (
            f"~{s['metrics']['tokens_estimated']['per_question']:.0f}"
            if s["metrics"]["tokens_estimated"]["total"]
            else "— (no LLM)"
        ),
    )
    return lines


def to_markdown(report: dict[str, Any], details: bool = False, chart: str | None = None) -> str:
    """The report as markdown: one column per system, then notes, thresholds and details."""
    r = report
    out = [
        "# qabot evaluation",
        "",
        f"{r['questions']} questions ({r['answerable']} answerable, "
        f"{r['questions'] - r['answerable']} unanswerable) and {r['conversations']} "
        f"conversation(s) ({r['turns']} turns), over the articles in `{r['docs']}`.",
        "",
        *_table(r),
        "",
        f"- **baseline**: {DESCRIPTION}.",
        "- Tokens are estimated: characters sent to and received from the model, divided by 4.",
        "- Latency p50 / p95 in seconds, over every question and turn asked.",
    ]
    for name, s in r["systems"].items():
        if not s["applicable"]:
            out.append(f"- **{name}**: {s['note']}.")
        elif s.get("p50_vs_baseline"):
            out.append(
                f"- **{name}**: answer p50 is {s['p50_vs_baseline']:.2f}x the baseline's "
                "in this run."
            )
    thresholds = r.get("thresholds")
    if thresholds:
        limits = ", ".join(f"{k} {v:g}" for k, v in thresholds["limits"].items())
        out += ["", "## Thresholds", "", f"Limits: {limits}.", ""]
        out += [f"- FAILED {f}" for f in thresholds["failures"]] or ["- all met"]
    if chart:
        out += ["", f"![latency and correctness per question]({chart})"]
    if details:
        out += ["", "## Per question", ""] + _details(r)
    return "\n".join(out) + "\n"


def _details(report: dict[str, Any]) -> list[str]:
    lines = [
        "| system | id | ok | support rank | cited (supported / verbatim) | total s | answer |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in report["systems"].items():
        for q in s.get("questions", []):
            answer = " ".join(q["answer"].split()).replace("|", "\\|")
            lines.append(
                f"| {name} | {q['id']} | {'yes' if q['correct'] else '**no**'} | "
                f"{q['support_rank'] or '—'} | {q['citations']} ({q['citations_supported']} / "
                f"{q['citations_verbatim']}) | {q['timings'].get('total', 0):.2f} | "
                f"{answer[:160]} |"
            )
    return lines


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_chart(report: dict[str, Any], path: Path) -> bool:
    """Per-question total latency by system, each bar coloured by correctness. False (and
    nothing written) when matplotlib is not installed: `pip install 'qabot[eval]'`."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import NullFormatter
    except ImportError:
        return False
    runs = [(n, s) for n, s in report["systems"].items() if s["applicable"]]
    if not runs:
        return False
    fig, axes = plt.subplots(
        len(runs), 1, figsize=(10, 2.2 * len(runs) + 0.8), sharex=True, sharey=True, squeeze=False
    )
    for ax, (name, s) in zip(axes[:, 0], runs):
        qs = s["questions"]
        seconds = [max(q["timings"].get("total", 0.0), 1e-3) for q in qs]
        colours = ["#2e7d32" if q["correct"] else "#c62828" for q in qs]
        ax.bar(range(len(qs)), seconds, color=colours)
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel("seconds")
        right = sum(q["correct"] for q in qs)
        ax.set_title(f"{name}: {right}/{len(qs)} correct (green), wrong in red", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    ids = [q["id"] for q in runs[0][1]["questions"]]
    axes[-1, 0].set_xticks(range(len(ids)), ids, rotation=90, fontsize=8)
    fig.suptitle("Latency per question (total) and correctness")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def write_reports(
    report: dict[str, Any], paths: list[Path], details: bool, say: Callable[[str], None]
) -> None:
    """Write each report by its suffix: .json, .png (the chart) or .md (with the chart in a
    .png beside it, when matplotlib is installed)."""
    for path in paths:
        try:
            if path.suffix.lower() == ".json":
                write_json(report, path)
            elif path.suffix.lower() == ".png":
                if not write_chart(report, path):
                    say(f"No chart written to {path}: {NO_MATPLOTLIB}")
            else:
                chart = path.with_suffix(".png")
                drawn = write_chart(report, chart)
                if not drawn:
                    say(f"No chart beside {path}: {NO_MATPLOTLIB}")
                path.parent.mkdir(parents=True, exist_ok=True)
                text = to_markdown(report, details, chart.name if drawn else None)
                path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise QabotError(f"Cannot write the report {path}: {exc.strerror or exc}") from exc
