"""Answer latency with the default local model: time to first token, total time and prompt
tokens per development question, for qabot, the LangChain tutorial baseline (same model, same
run, questions interleaved) and the extractive backend; then the cold start of `qabot ask`.

    .venv/bin/python bench/answers.py [--no-cold-start] [--profile]

Reuses a running local model server (`qabot server status`), as qabot does. --profile prints
a pyinstrument profile of one answer instead (`.venv/bin/pip install pyinstrument`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import common

from bot.backends.local.model_files import minilm_files
from bot.config import load_settings
from bot.evaluation.baseline import PROMPT, TOP_K, TutorialBaseline
from bot.wiring import build_chat, build_engine
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.ingest import load_documents

QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."


class Recorder:
    """A chat model seen through a recorder of the messages it is sent."""

    def __init__(self, model: Any, sent: list[Any]) -> None:
        self._model, self._sent = model, sent

    def bind(self, **kwargs: Any) -> Recorder:
        return Recorder(self._model.bind(**kwargs), self._sent)

    def stream(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        self._sent.append(messages)
        return self._model.stream(messages, *args, **kwargs)


def chatml(messages: list[tuple[str, str]]) -> str:
    """The prompt as Qwen2.5's chat template renders it (a default system turn if none)."""
    if messages[0][0] != "system":
        messages = [("system", QWEN_DEFAULT_SYSTEM), *messages]
    turns = "".join(f"<|im_start|>{role}\n{text}<|im_end|>\n" for role, text in messages)
    return turns + "<|im_start|>assistant\n"


def count_tokens(base_url: str, text: str) -> int:
    """Tokens by the served model's own tokenizer (llama-cpp-python's /extras endpoint)."""
    url = base_url.removesuffix("/v1") + "/extras/tokenize/count"
    body = json.dumps({"input": text}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["count"]


def first_token_clock() -> tuple[list[float], Any]:
    """A token callback that notes when the first token came."""
    stamps: list[float] = []

    def on_token(_: str) -> None:
        if not stamps:
            stamps.append(time.perf_counter())

    return stamps, on_token


def stats(values: list[float]) -> tuple[str, str]:
    if not values:
        return ("-", "-")
    return (f"{common.p50(values):.2f} s", f"{common.percentile(values, 0.95):.2f} s")


def compare(settings: Any, tmp: Path) -> None:
    sent: list[Any] = []
    engine = build_engine(settings)
    factory = engine.chat
    engine.chat = lambda: Recorder(factory(), sent)
    extractive = build_engine(settings.model_copy(update={"backend": "extractive"}))
    docs, _ = load_documents([settings.docs])
    baseline = TutorialBaseline(
        docs, MiniLMEmbeddings(minilm_files), build_chat(settings), tmp / "base"
    )
    engine.warm_up()
    extractive.warm_up()
    baseline.warm_up()
    base_url = factory().openai_api_base
    rows: dict[str, dict[str, list[float]]] = {
        k: {"ttft": [], "total": [], "tokens": []} for k in ("qabot", "baseline", "extractive")
    }
    for question in common.questions():
        sent.clear()
        first, on_token = first_token_clock()
        t0 = time.perf_counter()
        engine.answer(question, on_token=on_token)
        rows["qabot"]["total"].append(time.perf_counter() - t0)
        if first:
            rows["qabot"]["ttft"].append(first[0] - t0)
        for messages in sent:
            rows["qabot"]["tokens"].append(count_tokens(base_url, chatml(messages)))

        outcome = baseline.ask(question)
        rows["baseline"]["total"].append(outcome.timings["total"])
        chunks = baseline.store.similarity_search(question, k=TOP_K)
        context = "\n\n".join(f"[{i}] {c.page_content}" for i, c in enumerate(chunks, 1))
        prompt = PROMPT.format(context=context, question=question)
        rows["baseline"]["tokens"].append(count_tokens(base_url, chatml([("user", prompt)])))

        rows["extractive"]["total"].append(common.timed(lambda q=question: extractive.answer(q)))
        print(".", end="", flush=True)
    base_p50 = common.p50(rows["baseline"]["total"])
    print(f"\n{len(common.questions())} development questions, model {settings.local_model}\n")
    common.table(
        [
            (
                name,
                *stats(r["ttft"]),
                *stats(r["total"]),
                f"{common.p50(r['total']) / base_p50:.2f}x",
                f"{common.p50(r['tokens']):.0f}" if r["tokens"] else "0",
            )
            for name, r in rows.items()
        ],
        (
            "system",
            "first token p50",
            "p95",
            "total p50",
            "total p95",
            "total p50 / baseline",
            "prompt tokens p50",
        ),
    )
    print("\nqabot's first token: the unanswerable questions it declines make no LLM call.")


def cold_start(settings: Any) -> None:
    """`qabot ask` with no server running (own port and data folder), then again warm."""
    from bot.backends.local.model_files import resolve_gguf

    gguf = resolve_gguf(settings.local_model, settings.models_dir)
    qabot = str(common.ROOT / ".venv" / "bin" / "qabot")
    question = common.questions()[0]
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "QABOT_DATA_DIR": tmp,
            "QABOT_LLAMA_PORT": "8799",
            "QABOT_LOCAL_MODEL": str(gguf),
        }
        run = lambda *a: subprocess.run([qabot, *a], env=env, capture_output=True, check=True)  # noqa: E731
        run("ingest", str(settings.docs))  # the index is not part of the cold start
        try:
            cold = common.timed(lambda: run("ask", question))
            warm = common.timed(lambda: run("ask", question))
        finally:
            run("server", "stop")
    print("\nCold start of `qabot ask` (one question, index already built)\n")
    common.table(
        [("seconds", f"{cold:.1f}", f"{warm:.1f}", f"{cold / warm:.1f}x")],
        ("qabot ask", "cold (server starts)", "warm (server running)", "cold / warm"),
    )


def profile(settings: Any) -> None:
    from pyinstrument import Profiler

    engine = build_engine(settings)
    engine.warm_up()
    profiler = Profiler(interval=0.001)
    with profiler:
        engine.answer(common.questions()[0])
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cold-start", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    settings = load_settings(backend="local", collection="bench-answers", docs=common.ROOT / "data")
    if args.profile:
        profile(settings)
        return
    with tempfile.TemporaryDirectory() as tmp:
        compare(settings, Path(tmp))
    if not args.no_cold_start:
        cold_start(settings)


if __name__ == "__main__":
    main()
