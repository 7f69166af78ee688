"""Store faults (docs/reliability.md): a damaged or locked local index, a document replaced
while questions are answered, and a Chroma server that goes away and comes back."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import QABOT, engine_options, free_port

from bot.config import PROJECT_ROOT, load_settings
from bot.engine.pipeline import Engine
from bot.errors import StoreError
from bot.wiring import build_engine
from retrieval.chunking import chunk_text
from retrieval.ingest import ingest
from retrieval.search import HybridSearcher
from retrieval.store import LOCK_WAIT, ArticleStore

FATAH = "Who runs the Fatah Alliance?"


def qabot(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QABOT_DATA_DIR": str(data_dir), "QABOT_BACKEND": "extractive"}
    return subprocess.run([str(QABOT), *args], capture_output=True, text=True, env=env, timeout=120)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, output
    return errors[0]


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    """A data dir whose index holds the bundled article."""
    data = tmp_path / "data"
    assert qabot(data, "ask", FATAH).returncode == 0
    return data


def test_damaged_index_is_a_clear_error_every_time(indexed: Path) -> None:
    db = indexed / "chroma" / "chroma.sqlite3"
    db.write_bytes(b"this is not a database\x00" * 200)
    for _ in range(2):  # no crash loop, no half-repair: the same clear error each run
        assert "is damaged" in one_error_line(qabot(indexed, "ask", FATAH))
    assert "is damaged" in qabot(indexed, "doctor").stdout
    shutil.rmtree(indexed / "chroma")  # what the message advises
    assert qabot(indexed, "ask", FATAH).returncode == 0  # rebuilt from the docs folder


def test_locked_index_is_a_clear_error_then_works_once_released(indexed: Path) -> None:
    holder = sqlite3.connect(indexed / "chroma" / "chroma.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program is in the middle of writing
    try:
        t0 = time.monotonic()
        assert "locked by another program" in one_error_line(qabot(indexed, "ask", FATAH))
        assert time.monotonic() - t0 < LOCK_WAIT + 30  # waited, then gave up (no hang)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert qabot(indexed, "ask", FATAH).returncode == 0


# -- a document replaced while questions are answered ---------------------------------------
def version_text(marker: str) -> str:
    """Four paragraphs, every sentence naming the version, the same shape in both versions."""
    return "\n\n".join(
        f"The harbour council of Velmora is led by {marker} Okafor in paragraph {i}. "
        f"The council met {marker} delegates about the new harbour toll and the ferry fares. "
        f"Its members said the {marker} plan would be voted on before the winter storms."
        for i in range(4)
    )


def test_replacing_a_document_while_answering_never_shows_a_mix(
    make_store: Callable[..., ArticleStore], tmp_path: Path
) -> None:
    store = make_store()
    path = tmp_path / "velmora.txt"
    texts = {m: version_text(m) for m in ("Alpha", "Beta")}
    chunk_sets = {m: {c.text for c in chunk_text(t)} for m, t in texts.items()}
    path.write_text(texts["Alpha"], encoding="utf-8")
    ingest(store, [path])
    engine = Engine(HybridSearcher(store, store.embeddings), chat=None, options=engine_options())

    rounds, done, errors = 12, threading.Event(), []

    def writer() -> None:
        try:
            for i in range(rounds):
                path.write_text(texts["Beta" if i % 2 == 0 else "Alpha"], encoding="utf-8")
                assert ingest(store, [path]).report.updated == [str(path)]
        except Exception as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    answers = views = 0
    try:
        while not done.is_set() or not answers:
            # two reads: if a whole replacement falls between them, the view is empty (the
            # document seems absent for that moment); it is never a mix of versions
            visible = {c.text for c in store.current(store.all_chunks())}
            assert visible in [*chunk_sets.values(), set()], "a half-replaced document was visible"
            views += 1
            answer = engine.answer("Who leads the harbour council of Velmora?")
            markers = {m for m in texts for p in answer.passages if f"{m} " in p.text}
            assert len(markers) <= 1, [p.text for p in answer.passages]
            for c in answer.citations:  # quotes are verbatim in the version they came from
                assert all(c.quote in texts[m] for m in markers), c.quote
            answers += 1
    finally:
        thread.join(60)
    assert not errors, errors
    assert len(store.sources()) == 1  # one record, no duplicate document
    assert {c.text for c in store.all_chunks()} == chunk_sets["Alpha"]  # old chunks deleted
    assert answers >= 1 and views >= 1


# -- a Chroma server that goes away and comes back ------------------------------------------


@contextmanager
def chroma_run(path: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    exe = Path(sys.executable).with_name("chroma")
    exe = exe if exe.exists() else Path(shutil.which("chroma") or "chroma")
    with (path / "server.log").open("ab") as log:
        proc = subprocess.Popen(
            [
                str(exe),
                "run",
                "--path",
                str(path / "db"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                opener.open(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("chroma did not start: " + (path / "server.log").read_text())
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_chroma_server_going_away_and_coming_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(port))
    settings = load_settings(backend="extractive", data_dir=tmp_path, docs=PROJECT_ROOT / "data")
    with chroma_run(tmp_path, port):
        engine = build_engine(settings)
        assert engine.answer(FATAH).grounded
    # the server is gone: a clear StoreError, not a chromadb or httpx exception
    with pytest.raises(StoreError, match="cannot be read"):
        engine.answer(FATAH)
    with chroma_run(tmp_path, port):  # back, with the same data
        answer = engine.answer(FATAH)  # the same engine: no restart of qabot needed
        assert answer.grounded and "Amiri" in answer.text
