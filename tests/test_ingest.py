"""Ingesting: idempotent re-runs, edited files replace their chunks, prune, unreadable files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from conftest import ARTICLE

from retrieval.chunking import chunk_text
from retrieval.ingest import ingest
from retrieval.loader import Document, read_document
from retrieval.store import ArticleStore


def chunks_of(store: ArticleStore, source: Path) -> list:
    doc_id = Document(source=str(source), title="", text="").doc_id
    return [c for c in store.all_chunks() if c.doc_id == doc_id]


def assert_index_matches(store: ArticleStore, source: Path, text: str) -> None:
    """The stored chunks of a file are exactly the chunks of its current text."""
    stored = chunks_of(store, source)
    assert len({c.id for c in stored}) == len(stored)
    assert sorted((c.start, c.end) for c in stored) == [(c.start, c.end) for c in chunk_text(text)]
    for chunk in stored:
        assert chunk.text == text[chunk.start : chunk.end]


def test_ingesting_twice_changes_nothing(store: ArticleStore) -> None:
    first = ingest(store, [ARTICLE]).report
    count = store.count()
    expected = len(chunk_text(read_document(ARTICLE).text))
    assert first.added == [str(ARTICLE)] and first.chunks_added == count == expected

    second = ingest(store, [ARTICLE]).report
    assert second.unchanged == [str(ARTICLE)]
    assert second.added == second.updated == []
    assert second.chunks_added == second.chunks_removed == 0
    assert store.count() == count


def test_edited_file_replaces_its_chunks(store: ArticleStore, tmp_path: Path) -> None:
    path = tmp_path / "article.txt"
    shutil.copy(ARTICLE, path)
    old_text = read_document(path).text
    ingest(store, [path])
    paragraphs = re.split(r"\n\s*\n", old_text.strip())
    new_text = "\n\n".join(
        [paragraphs[0].replace("joint military exercises", "naval drills")]
        + paragraphs[2:]  # the second paragraph is deleted
        + ["A new closing paragraph was added. It says something else entirely."]
    )
    path.write_text(new_text, encoding="utf-8")

    report = ingest(store, [path]).report
    assert report.updated == [str(path)] and report.chunks_removed > 0
    assert store.count() == len(chunk_text(new_text))
    assert_index_matches(store, path, new_text)
    assert store.document_text(read_document(path).doc_id) == new_text
    assert not any("joint military exercises with Iraq" in c.text for c in store.all_chunks())


def test_prune_drops_documents_whose_files_are_gone(store: ArticleStore, tmp_path: Path) -> None:
    keep, gone = tmp_path / "keep.txt", tmp_path / "gone.txt"
    keep.write_text("Keep this article. It stays in the index.", encoding="utf-8")
    gone.write_text("Delete this article. Its file will be removed.", encoding="utf-8")
    ingest(store, [tmp_path])
    gone.unlink()

    without = ingest(store, [tmp_path]).report
    assert without.removed == [] and chunks_of(store, gone)  # only --prune removes

    pruned = ingest(store, [tmp_path], prune=True).report
    assert pruned.removed == [str(gone)] and pruned.chunks_removed == 1
    assert [m["source"] for m in store.sources()] == [str(keep)]
    assert chunks_of(store, gone) == [] and store.count() == len(chunks_of(store, keep)) == 1


def test_unreadable_inputs_are_skipped_with_a_reason(store: ArticleStore, tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("A readable article. It has two sentences.", "utf-8")
    (tmp_path / "latin1.txt").write_bytes("Caf\u00e9 au lait.".encode("latin-1"))
    (tmp_path / "binary.txt").write_bytes(b"PK\x03\x04\x00\x00\x01binary")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text(" \n\n\t\n", "utf-8")
    (tmp_path / "ignored.pdf").write_bytes(b"%PDF-1.4")  # not an article type: not even tried
    missing = tmp_path / "missing.txt"

    result = ingest(store, [tmp_path, missing])

    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert set(reasons) == {"latin1.txt", "binary.txt", "empty.txt", "blank.md", "missing.txt"}
    assert "UTF-8" in reasons["latin1.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "empty" in reasons["empty.txt"] and "empty" in reasons["blank.md"]
    assert "no such file" in reasons["missing.txt"]
    assert result.report.added == [str((tmp_path / "good.txt").resolve())]
    assert result.files == 6
    assert_index_matches(store, tmp_path / "good.txt", "A readable article. It has two sentences.")


HTML = """<!doctype html><html><head><title>Drills &amp; Ties</title>
<style>.lead { color: red }</style><script>var tracking = "do-not-index";</script></head>
<body><nav><script>alert("nope")</script><a href="/">Home</a> <a href="/w">World</a></nav>
<h1>Iran and Iraq</h1><p>Iran wants joint   exercises.
Iraq is <b>cautious</b>.</p><noscript>Enable JavaScript</noscript>
<p>Trade could reach $5 billion &mdash; officials said.</p>
<footer>Copyright 2019 The Ledger</footer></body></html>"""


def test_html_is_reduced_to_its_story(store: ArticleStore, tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")
    doc = read_document(path)
    assert doc.title == "Iran and Iraq"  # the headline
    assert doc.text == (
        "Iran wants joint exercises. Iraq is cautious.\n\n"
        "Trade could reach $5 billion \u2014 officials said."
    )
    ingest(store, [path])
    assert_index_matches(store, path, doc.text)
    assert all(c.title == "Iran and Iraq" for c in store.all_chunks())


def test_markdown_title_comes_from_the_first_heading(store: ArticleStore, tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("\n\n## Rockets near Balad\n\nSeveral rockets landed. Nobody was hurt.\n")
    assert read_document(path).title == "Rockets near Balad"
    ingest(store, [path])
    assert {c.title for c in store.all_chunks()} == {"Rockets near Balad"}
    untitled = tmp_path / "no-heading_here.md"
    untitled.write_text("Just one sentence of body text.\n")
    assert read_document(untitled).title == "no heading here"
