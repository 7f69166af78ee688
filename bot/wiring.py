"""The one place real clients are built: embeddings, Chroma, the LLM backend, the engine."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bot import backends
from bot.backends.openai import LLM_RETRIES
from bot.config import Settings
from bot.engine.llm import ChatFactory
from bot.engine.pipeline import Engine, EngineOptions
from bot.errors import ConfigError, StoreError
from retrieval.embeddings import MiniLMEmbeddings, openai_embeddings
from retrieval.ingest import ingest
from retrieval.search import HybridSearcher
from retrieval.store import ArticleStore, make_client

Progress = Callable[[str], None]


def minilm_embeddings() -> MiniLMEmbeddings:
    """The local MiniLM model, its files pinned by sha256 (loaded on first use)."""
    from bot.backends.local.model_files import minilm_files

    return MiniLMEmbeddings(minilm_files)


def build_embeddings(settings: Settings) -> tuple[Any, str]:
    if settings.embeddings == "openai":
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        if not key and not settings.openai_base_url:
            raise ConfigError("QABOT_EMBEDDINGS=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL).")
        model = settings.openai_embedding_model
        return openai_embeddings(
            model, key or "unused", settings.openai_base_url
        ), f"openai:{model}"
    emb = minilm_embeddings()
    return emb, emb.name


def build_store(settings: Settings) -> ArticleStore:
    embeddings, name = build_embeddings(settings)
    client = make_client(settings.chroma_dir, settings.chroma_host, settings.chroma_port)
    return ArticleStore(client, settings.collection, embeddings, name)


@contextlib.contextmanager
def writing_index(settings: Settings) -> Iterator[None]:
    """Write to the index: a local folder must not be in use by a serving bot (StoreError);
    a Chroma server takes writes while it serves."""
    if settings.chroma_host:
        yield
        return
    from retrieval.serving import exclusive

    with exclusive(settings.chroma_dir):
        yield


def serving_index(settings: Settings) -> Any:
    """Mark a local index as served by this process (until it ends); None for a server."""
    from retrieval.serving import hold_shared

    return None if settings.chroma_host else hold_shared(settings.chroma_dir)


def ensure_index(store: ArticleStore, settings: Settings, progress: Progress | None) -> None:
    """Fill an empty index from the configured articles folder, or say how to."""
    if store.count() > 0:
        return
    docs = Path(settings.docs)
    if not docs.exists():
        raise StoreError(
            f"The index is empty and the articles folder {docs} does not exist. "
            "Add articles with `qabot ingest PATH`."
        )
    if progress:
        progress(f"Indexing the articles in {docs} (first run)...")
    result = ingest(store, [docs])
    if store.count() == 0:
        raise StoreError(f"No readable articles in {docs}. Add some with `qabot ingest PATH`.")
    if progress and result.skipped:
        progress(f"Skipped {len(result.skipped)} unreadable file(s).")


def build_chat(settings: Settings, progress: Progress | None = None) -> ChatFactory | None:
    """A factory for the configured backend's chat model; None when it needs no LLM."""
    return backends.get(settings.backend).chat(settings, progress)


def build_searcher(settings: Settings, progress: Progress | None = None) -> HybridSearcher:
    """Hybrid search over the configured index (filled first if it is empty)."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    store = build_store(settings)
    ensure_index(store, settings, progress)
    return HybridSearcher(store, store.embeddings)


def build_engine(settings: Settings, progress: Progress | None = None) -> Engine:
    """Everything the front-ends need, built from settings. No network until first use."""
    return Engine(
        build_searcher(settings, progress),
        build_chat(settings, progress),
        engine_options(settings),
    )


def engine_options(settings: Settings) -> EngineOptions:
    """The engine's options from settings (the one place their defaults live)."""
    return EngineOptions(
        top_k=settings.top_k,
        min_relevance=settings.min_relevance,
        max_question_chars=settings.max_question_chars,
        evidence_sentences=settings.evidence_sentences,
        evidence_chars=settings.evidence_chars,
        # every request may take QABOT_TIMEOUT, and a failed one is retried once
        reply_deadline=settings.timeout * (LLM_RETRIES + 1),
    )


def build_slack_client(settings: Settings) -> Any:
    """The one Web API client: configured base URL; 429s retried after Retry-After, and a
    dropped connection once (slack_sdk's default, kept)."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
    )

    return WebClient(
        token=settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None,
        base_url=settings.slack_api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(),
            RateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


def build_redis(settings: Settings) -> Any | None:
    """The Redis client several workers share (QABOT_REDIS_URL), checked with a PING; None
    when unset (each process keeps its own state)."""
    if settings.redis_url is None:
        return None
    import redis

    url = settings.redis_url.get_secret_value()
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        where = url.rsplit("@", 1)[-1]  # never the password
        raise ConfigError(f"Cannot reach Redis at {where} ({type(exc).__name__}).") from None
    return client


def build_feedback_store(settings: Settings) -> Any:
    """The feedback store on QABOT_DATABASE_URL (SQLite in the data folder by default)."""
    from bot.slack.feedback import FeedbackStore

    try:
        return FeedbackStore(settings.feedback_url)
    except Exception as exc:  # sqlalchemy's errors may quote the URL: name the kind only
        raise ConfigError(f"Cannot open the feedback database ({type(exc).__name__}).") from None
