"""Shared fixtures: a scrubbed environment, the real MiniLM model, real Chroma stores in tmp dirs,
settings for the extractive backend, and a chat model fake that behaves."""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk

from bot import wiring
from bot.backends.local.model_files import minilm_files
from bot.config import PROJECT_ROOT, Settings, load_settings
from bot.engine.pipeline import EngineOptions
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.ingest import ingest
from retrieval.store import ArticleStore, make_client

ARTICLE = PROJECT_ROOT / "data" / "article.txt"
QABOT = Path(sys.executable).parent / "qabot"  # the installed command, beside this Python


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def engine_options(**overrides: Any) -> EngineOptions:
    """The engine options that the default settings give (overrides applied)."""
    return wiring.engine_options(Settings(_env_file=None, **overrides))  # type: ignore[call-arg]


_SECRET_PREFIXES = ("QABOT_", "SLACK_", "OPENAI_", "CHROMA_")
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def _scrub(mp: pytest.MonkeyPatch) -> None:
    """Remove credentials, service addresses and proxies, so nothing reaches a real service."""
    proxies = {p.lower() for p in _PROXIES}
    for name in list(os.environ):
        if name.upper().startswith(_SECRET_PREFIXES) or name.lower() in proxies:
            mp.delenv(name, raising=False)


@pytest.fixture(scope="session", autouse=True)
def _session_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The same scrub for session-scoped fixtures, which run before per-test ones."""
    with pytest.MonkeyPatch.context() as mp:
        _scrub(mp)
        mp.chdir(tmp_path_factory.mktemp("session-cwd"))
        yield


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No credentials, service variables or proxies; cwd is an empty dir (no stray `.env`)."""
    _scrub(monkeypatch)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture(scope="session")
def embeddings() -> MiniLMEmbeddings:
    """The real local MiniLM model, loaded once for the whole run."""
    emb = MiniLMEmbeddings(minilm_files)
    emb.embed_query("warm up")
    return emb


@pytest.fixture
def make_store(
    tmp_path_factory: pytest.TempPathFactory, embeddings: MiniLMEmbeddings
) -> Callable[..., ArticleStore]:
    """Build an ArticleStore on a fresh PersistentClient in a tmp dir."""

    def make(collection: str = "articles", embedding_name: str | None = None) -> ArticleStore:
        client = make_client(tmp_path_factory.mktemp("chroma"))
        return ArticleStore(client, collection, embeddings, embedding_name or embeddings.name)

    return make


@pytest.fixture
def store(make_store: Callable[..., ArticleStore]) -> ArticleStore:
    return make_store()


@pytest.fixture(scope="session")
def article_store(
    tmp_path_factory: pytest.TempPathFactory, embeddings: MiniLMEmbeddings
) -> ArticleStore:
    """The bundled article, ingested once. Read-only: tests that write build their own."""
    client = make_client(tmp_path_factory.mktemp("article-chroma"))
    store = ArticleStore(client, "articles", embeddings, embeddings.name)
    result = ingest(store, [ARTICLE])
    assert result.report.added and not result.skipped
    return store


@pytest.fixture
def make_settings(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Settings]:
    """Settings for the extractive backend with a tmp data dir."""

    def make(docs: Path | None = None, **overrides: Any) -> Settings:
        overrides.setdefault("data_dir", tmp_path_factory.mktemp("data"))
        overrides.setdefault("backend", "extractive")
        return load_settings(docs=docs, **overrides)

    return make


class FakeChatModel:
    """A chat model that replays queued outputs (an Exception is raised instead) and records
    every message list it was sent, streaming each reply word by word like the real one."""

    def __init__(self, *outputs: str | Exception) -> None:
        self.outputs = list(outputs)
        self.received: list[list[tuple[str, str]]] = []
        self.bound: list[dict[str, Any]] = []

    def bind(self, **kwargs: Any) -> FakeChatModel:
        self.bound.append(kwargs)
        return self

    def stream(self, messages: list[tuple[str, str]]) -> Iterator[AIMessageChunk]:
        self.received.append(list(messages))
        if not self.outputs:
            raise AssertionError("the fake chat model was called more often than expected")
        out = self.outputs.pop(0)
        if isinstance(out, Exception):
            raise out
        for piece in re.findall(r"\s*\S+", out):
            yield AIMessageChunk(content=piece)


@pytest.fixture
def fake_chat() -> type[FakeChatModel]:
    return FakeChatModel
