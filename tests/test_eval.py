"""`qabot eval`: the grading rule, the metrics, the tutorial baseline and the real command."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import QABOT, engine_options
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from bot.engine.pipeline import Engine
from bot.evaluation.baseline import TutorialBaseline
from bot.evaluation.dataset import EvalDataError, Item, load_conversations, load_questions
from bot.evaluation.grading import Excerpt, Graded, Outcome, grade, holds_support, meets_expect
from bot.evaluation.metrics import check_thresholds, metrics, percentile
from bot.evaluation.runner import EngineSystem
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.ingest import load_documents
from retrieval.search import HybridSearcher
from retrieval.store import ArticleStore
from retrieval.text import fold

ROOT = Path(__file__).resolve().parent.parent
QA = ROOT / "eval" / "article_qa.jsonl"
CONVERSATIONS = ROOT / "eval" / "article_conversations.jsonl"
DOC = "Iran’s land forces commander Koumars Heydari suggested joint exercises. Then more."


def no_docs(doc_id: str) -> str | None:
    return None


# -- the grading rule -----------------------------------------------------------------------
def test_fold_straightens_curly_quotes_and_lowers_case() -> None:
    assert fold("Iran’s “Watch” ‘list’") == "iran's \"watch\" 'list'"


@pytest.mark.parametrize(
    ("answer", "expect", "ok"),
    [
        ("It was HEYDARI. [1]", [["Heydari"]], True),
        ("Iran’s army", [["Iran's army"]], True),  # curly apostrophe in the answer
        ('Trump said "watch"', [["“watch”"]], True),  # curly quotes in the alternative
        ("twenty-two agreements", [["22", "twenty-two"]], True),  # any alternative
        ("medical knowledge", [["medical"], ["sniper"]], False),  # every group
        ("medical help and snipers", [["medical"], ["sniper"]], True),
        ("The article does not say.", [["Heydari"]], False),
        ("anything", [], True),
    ],
)
def test_answer_meets_expect_groups(answer: str, expect: list[list[str]], ok: bool) -> None:
    assert meets_expect(answer, expect) is ok


def test_support_is_held_by_containing_or_overlapping_spans() -> None:
    support = ["Koumars Heydari suggested joint exercises"]
    start = DOC.index("Koumars")
    assert holds_support(Excerpt("KOUMARS HEYDARI SUGGESTED JOINT EXERCISES today"), support, None)
    sentence = DOC[: DOC.index(".") + 1]
    assert holds_support(Excerpt(sentence, "d", 0, len(sentence)), support, DOC)
    head = Excerpt(DOC[: start + 20], "d", 0, start + 20)  # shares 20 characters with it
    assert holds_support(head, support, DOC)
    tail_start = DOC.index("Then")
    assert not holds_support(Excerpt("Then more.", "d", tail_start, len(DOC)), support, DOC)
    assert not holds_support(Excerpt(DOC[:start], "d", 0, start), support, DOC)


def _item(answerable: bool = True, **kw: Any) -> Item:
    kw.setdefault("expect", (("Heydari",),) if answerable else ())
    kw.setdefault("support", ("Koumars Heydari suggested",) if answerable else ())
    return Item(id="x", question="Who?", answerable=answerable, **kw)


def test_grade_answerable_needs_grounding_and_expect_and_ranks_support() -> None:
    passages = [Excerpt("Then more."), Excerpt("Koumars Heydari suggested joint exercises.")]
    good = Outcome("Heydari did. [1]", True, [passages[1]], passages, [True])
    graded = grade(_item(), good, no_docs)
    assert graded.correct and graded.rank == 2 and graded.cited_ok == 1
    assert not grade(_item(), Outcome("Heydari did.", False), no_docs).correct
    assert not grade(_item(), Outcome("Someone did. [1]", True), no_docs).correct


def test_grade_unanswerable_needs_a_decline_without_citations() -> None:
    assert grade(_item(False), Outcome("The article does not say.", False), no_docs).correct
    cited = Outcome("I don't know [1]", False, [Excerpt("a passage")])
    assert not grade(_item(False), cited, no_docs).correct
    assert not grade(_item(False), Outcome("About 1.5 million.", True), no_docs).correct


def test_metrics_count_each_figure_over_its_own_questions() -> None:
    passage = Excerpt("Koumars Heydari suggested joint exercises.")
    single = [
        grade(_item(), Outcome("Heydari [1]", True, [passage], [passage], [True]), no_docs),
        grade(_item(), Outcome("not said", False, [], [Excerpt("x"), passage]), no_docs),
        grade(_item(False), Outcome("not said", False), no_docs),
    ]
    turns: list[Graded] = [grade(_item(), Outcome("Heydari [1]", True, [Excerpt("x")]), no_docs)]
    m = metrics(single, turns, k=4)
    assert m["answer_accuracy"] == {"value": 0.5, "num": 1, "den": 2}
    assert m["refusal_accuracy"]["value"] == 1.0
    assert m["false_refusal_rate"]["value"] == 0.5
    assert m["recall_at_k"]["value"] == 1.0 and m["mrr"]["value"] == pytest.approx(0.75)
    assert m["citation_precision"]["value"] == 1.0  # over answerable questions only
    assert m["verbatim_quotes"] == {"value": 1.0, "num": 1, "den": 1}
    assert m["multiturn_accuracy"]["value"] == 1.0
    assert m["confidently_wrong"] == {"value": 0.0, "num": 0, "den": 4}


def test_confidently_wrong_counts_grounded_wrong_answers_and_answered_unanswerables() -> None:
    cited = Excerpt("Turkey's defence minister, Kemal Arslan, said so.")
    single = [
        grade(_item(), Outcome("Kemal Arslan [1]", True, [cited]), no_docs),  # wrong, cited
        grade(_item(), Outcome("not said", False), no_docs),  # a false refusal, not wrong
        grade(_item(False), Outcome("Kemal Arslan [1]", True, [cited]), no_docs),  # invented
        grade(_item(False), Outcome("not said", False), no_docs),
    ]
    m = metrics(single, [], k=4)
    assert m["confidently_wrong"] == {"value": 0.5, "num": 2, "den": 4}
    systems = {"x": {"kind": "qabot", "metrics": m}}
    assert check_thresholds(systems, {"max_wrong": 0.0}) == [
        "x: confidently_wrong 0.500 > max_wrong 0"
    ]


def test_percentile_interpolates() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0], 95) == pytest.approx(1.95)


def test_thresholds_gate_qabot_rows_only() -> None:
    def system(kind: str, accuracy: float, false_refusals: float | None) -> dict[str, Any]:
        return {
            "kind": kind,
            "metrics": {
                "answer_accuracy": {"value": accuracy},
                "false_refusal_rate": {"value": false_refusals},
            },
        }

    systems = {"local": system("qabot", 0.9, 0.1), "baseline (local)": system("baseline", 0, 1)}
    limits = {"min_accuracy": 0.95, "max_false_refusal": 0.05}
    assert check_thresholds(systems, limits) == [
        "local: answer_accuracy 0.900 < min_accuracy 0.95",
        "local: false_refusal_rate 0.100 > max_false_refusal 0.05",
    ]
    assert check_thresholds(systems, {"min_accuracy": 0.9, "max_false_refusal": None}) == []


# -- loading --------------------------------------------------------------------------------
def test_the_development_set_loads() -> None:
    items = load_questions(QA)
    rows = [json.loads(line) for line in QA.read_text("utf-8").splitlines() if line.strip()]
    assert len(items) == len(rows) and [i.id for i in items] == [r["id"] for r in rows]
    assert [i.answerable for i in items] == [r["answerable"] for r in rows]
    assert all(i.expect and i.support for i in items if i.answerable)
    threads = load_conversations(CONVERSATIONS)
    assert [t.id for t in threads[0]] == ["c01.1", "c01.2"]
    assert threads[0][1].conversation == "c01"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"question": "Who?", "answerable": true, "expect": []}', "needs 'expect'"),
        ('{"question": "Who?", "expect": "Heydari"}', "'expect' must be"),
        ('{"question": ""}', "'question' must be"),
    ],
)
def test_malformed_lines_are_named(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "Fine?", "answerable": false}\n' + line + "\n", "utf-8")
    with pytest.raises(EvalDataError, match=f"qa.jsonl:2: .*{message}"):
        load_questions(path)


# -- the systems ----------------------------------------------------------------------------
def test_baseline_cites_whole_chunks_and_declines_by_saying_so(
    tmp_path: Path, embeddings: MiniLMEmbeddings
) -> None:
    docs, _ = load_documents([ROOT / "data"])
    model = FakeListChatModel(
        responses=["Hadi al-Amiri runs it [1], see also [9].", "I don't know."]
    )
    baseline = TutorialBaseline(docs, embeddings, lambda: model, tmp_path)
    answer = baseline.ask("Who runs the Fatah Alliance?")
    assert answer.grounded and len(answer.passages) == 4
    assert answer.citations == [answer.passages[0]] and answer.verbatim == [True]
    text = docs[0].text
    assert all(p.text == text[p.start : p.end] and len(p.text) <= 600 for p in answer.passages)
    assert answer.llm_chars > len("Use the following context") + len(answer.text)
    declined = baseline.ask("What is the population of Mosul?")
    assert not declined.grounded and declined.citations == []


def test_engine_system_counts_llm_characters_and_checks_quotes(
    article_store: ArticleStore, embeddings: MiniLMEmbeddings, fake_chat: Any
) -> None:
    model = fake_chat("The Fatah Alliance is run by Hadi al-Amiri. [1]")
    engine = Engine(HybridSearcher(article_store, embeddings), lambda: model, engine_options())
    system = EngineSystem(engine, article_store.document_text)
    outcome = system.ask("Who runs the Fatah Alliance?", [])
    assert outcome.grounded and outcome.verbatim == [True]
    sent = sum(len(text) for text in dict(model.received[0]).values())
    assert outcome.llm_chars == sent + len("The Fatah Alliance is run by Hadi al-Amiri. [1]")


# -- the command ----------------------------------------------------------------------------
def qabot_eval(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QABOT_DATA_DIR": str(data_dir), "NO_COLOR": "1"}
    return subprocess.run(
        [str(QABOT), "--backend", "extractive", "eval", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("eval-out")
    result = qabot_eval(
        out / "data",
        str(QA),
        "--conversations",
        str(CONVERSATIONS),
        "--report",
        str(out / "eval.md"),
        "--report",
        str(out / "eval.json"),
        "--min-verbatim",
        "1.0",
    )
    return out, result


def test_eval_writes_markdown_json_and_chart(reported: tuple[Path, Any]) -> None:
    out, result = reported
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads((out / "eval.json").read_text("utf-8"))
    assert list(report["systems"]) == ["extractive", "baseline (extractive)"]
    assert report["systems"]["baseline (extractive)"]["applicable"] is False
    m = report["systems"]["extractive"]["metrics"]
    items = load_questions(QA)
    answerable = sum(i.answerable for i in items)
    assert m["answer_accuracy"]["den"] == answerable
    assert m["refusal_accuracy"]["den"] == len(items) - answerable
    assert m["verbatim_quotes"]["value"] == 1.0 and m["multiturn_accuracy"]["den"] == 2
    assert m["recall_at_k"]["value"] >= 0.9 and {"retrieve", "total"} <= set(m["latency"])
    turns = sum(len(t) for t in load_conversations(CONVERSATIONS))
    assert len(report["systems"]["extractive"]["questions"]) == len(items) + turns
    assert report["thresholds"] == {"limits": {"min_verbatim": 1.0}, "failures": []}
    markdown = (out / "eval.md").read_text("utf-8")
    for label in ("answer accuracy", "refusal accuracy", "false refusals", "recall@6", "MRR"):
        assert label in markdown
    for label in ("citation precision", "verbatim quotes", "multi-turn", "total p50 / p95"):
        assert label in markdown
    assert "| extractive | baseline (extractive) |" in markdown and "n/a" in markdown
    assert "![" in markdown and (out / "eval.png").read_bytes()[:4] == b"\x89PNG"
    assert "answer accuracy" in result.stdout  # the table is printed too


def test_a_threshold_above_the_result_exits_1(tmp_path: Path) -> None:
    # one answerable question whose expected string no answer can hold: accuracy is 0
    qa = tmp_path / "qa.jsonl"
    row = {"id": "x1", "question": "Who runs the Fatah Alliance?", "answerable": True}
    qa.write_text(json.dumps({**row, "expect": [["no answer holds this"]]}) + "\n", "utf-8")
    result = qabot_eval(tmp_path / "data", str(qa), "--no-baseline", "--min-accuracy", "0.5")
    assert result.returncode == 1
    assert "FAILED extractive: answer_accuracy 0.000 < min_accuracy 0.5" in result.stderr
    passed = qabot_eval(tmp_path / "data", str(qa), "--no-baseline", "--min-accuracy", "0.0")
    assert passed.returncode == 0, passed.stderr
    assert "Traceback" not in result.stderr


def test_bad_input_is_a_clean_usage_error(tmp_path: Path) -> None:
    result = qabot_eval(tmp_path, str(QA), "--backend", "gpt9")
    assert result.returncode == 2 and "gpt9" in result.stderr
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{oops\n", "utf-8")
    result = qabot_eval(tmp_path, str(broken))
    assert result.returncode == 2 and "broken.jsonl:1: not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr
