"""Articles added while answering: a generation stamp makes every searcher rebuild its lexical
index after any change (a same-size edit too), and a local index served by a bot refuses
`qabot ingest` with a clear message instead of risking it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from conftest import ARTICLE, QABOT
from fakes.bot_process import bot_env

from retrieval.embeddings import MiniLMEmbeddings
from retrieval.ingest import ingest
from retrieval.search import HybridSearcher
from retrieval.serving import hold_shared
from retrieval.store import ArticleStore


def test_a_same_size_edit_refreshes_the_lexical_index(
    make_store: Callable[..., ArticleStore], embeddings: MiniLMEmbeddings, tmp_path: Path
) -> None:
    store = make_store()
    doc = tmp_path / "festival.txt"
    doc.write_text("The Festival\n\nThe harbour festival had lanterns on the water.\n")
    ingest(store, [doc])
    searcher = HybridSearcher(store, embeddings)
    assert searcher.search("lanterns harbour")
    before, count = store.generation(), store.count()
    doc.write_text("The Festival\n\nThe harbour festival had fireworks on the water.\n")
    ingest(store, [doc])
    assert store.count() == count and store.generation() != before  # same size, new stamp
    _, chunks, _ = searcher._lexical_index()
    assert any("fireworks" in c.text for c in chunks)
    unchanged = store.generation()
    ingest(store, [doc])  # nothing changed: no new generation, no rebuild
    assert store.generation() == unchanged


def test_ingest_beside_a_serving_bot_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = bot_env(QABOT_DATA_DIR=str(data))
    held = hold_shared(data / "chroma")  # what `qabot slack` holds while it serves
    try:
        out = subprocess.run(
            [str(QABOT), "ingest", str(ARTICLE)], env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert out.returncode == 1
        assert "A running qabot is serving the index" in out.stderr and "CHROMA_HOST" in out.stderr
        assert "Traceback" not in out.stderr
    finally:
        held.close()
    out = subprocess.run(
        [str(QABOT), "ingest", str(ARTICLE)], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "1 added" in out.stdout
