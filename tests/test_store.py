"""The index: refuses another embedding model, and is filled (or explained) when empty."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ARTICLE

from bot.config import Settings
from bot.errors import StoreError
from bot.wiring import ensure_index
from retrieval.chunking import chunk_text
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.ingest import ingest
from retrieval.loader import read_document
from retrieval.store import ArticleStore, make_client


def test_index_built_with_other_embeddings_is_refused(
    tmp_path: Path, embeddings: MiniLMEmbeddings
) -> None:
    client = make_client(tmp_path / "chroma")
    built = ArticleStore(client, "articles", embeddings, "minilm:all-MiniLM-L6-v2")
    ingest(built, [ARTICLE])

    other = ArticleStore(client, "articles", embeddings, "openai:text-embedding-3-small")
    with pytest.raises(StoreError) as err:
        other.count()
    message = str(err.value)
    assert "minilm:all-MiniLM-L6-v2" in message and "openai:text-embedding-3-small" in message
    assert "--rebuild" in message
    with pytest.raises(StoreError):
        other.ingest([read_document(ARTICLE)])  # nor is it written to with other vectors
    assert built.count() == len(chunk_text(read_document(ARTICLE).text))


def test_rebuild_after_changing_embeddings(tmp_path: Path, embeddings: MiniLMEmbeddings) -> None:
    client = make_client(tmp_path / "chroma")
    ingest(ArticleStore(client, "articles", embeddings, "old-model"), [ARTICLE])
    new = ArticleStore(client, "articles", embeddings, "new-model")
    new.drop()
    ingest(new, [ARTICLE])
    assert new.count() == len(chunk_text(read_document(ARTICLE).text))
    with pytest.raises(StoreError):
        ArticleStore(client, "articles", embeddings, "old-model").count()


def test_empty_index_without_docs_folder_says_how_to_fill_it(
    store: ArticleStore, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(docs=tmp_path / "no-such-folder")
    with pytest.raises(StoreError) as err:
        ensure_index(store, settings, progress=None)
    message = str(err.value)
    assert "empty" in message and str(tmp_path / "no-such-folder") in message
    assert "qabot ingest" in message
    assert store.count() == 0


def test_empty_index_with_only_unreadable_articles_is_explained(
    store: ArticleStore, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01\x02")
    with pytest.raises(StoreError) as err:
        ensure_index(store, make_settings(docs=tmp_path), progress=None)
    assert "No readable articles" in str(err.value)


def test_empty_index_is_filled_from_the_docs_folder_on_first_use(
    store: ArticleStore, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(ARTICLE, docs / "article.txt")
    settings = make_settings(docs=docs)
    messages: list[str] = []

    ensure_index(store, settings, progress=messages.append)
    expected = len(chunk_text(read_document(ARTICLE).text))
    assert store.count() == expected
    assert [m["source"] for m in store.sources()] == [str((docs / "article.txt").resolve())]
    assert len(messages) == 1 and str(docs) in messages[0]

    ensure_index(store, settings, progress=messages.append)  # already filled: nothing to do
    assert store.count() == expected and len(messages) == 1


def test_all_chunks_reads_every_chunk_in_pages(article_store: ArticleStore) -> None:
    whole = article_store.all_chunks()
    assert len(whole) == article_store.count()
    paged = article_store.all_chunks(page=4)  # 21 chunks: 5 full pages and a short one
    assert [c.id for c in paged] == [c.id for c in whole]
