"""The one place real clients are built: embeddings, Chroma, the LLM backend, the engine."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.answer import ChatFactory, Engine, EngineOptions
from bot.config import Settings
from bot.errors import ConfigError, StoreError
from retrieval.embeddings import MiniLMEmbeddings, openai_embeddings
from retrieval.ingest import ingest
from retrieval.search import HybridSearcher
from retrieval.store import ArticleStore, make_client

Progress = Callable[[str], None]
LLM_RETRIES = 1


def build_embeddings(settings: Settings) -> tuple[Any, str]:
    if settings.embeddings == "openai":
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        if not key and not settings.openai_base_url:
            raise ConfigError("QABOT_EMBEDDINGS=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL).")
        model = settings.openai_embedding_model
        return openai_embeddings(
            model, key or "unused", settings.openai_base_url
        ), f"openai:{model}"
    emb = MiniLMEmbeddings()
    return emb, emb.name


def build_store(settings: Settings) -> ArticleStore:
    embeddings, name = build_embeddings(settings)
    client = make_client(settings.chroma_dir, settings.chroma_host, settings.chroma_port)
    return ArticleStore(client, settings.collection, embeddings, name)


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


def llama_server(settings: Settings, model_path: Path, progress: Progress | None = None) -> Any:
    """The local model server for a GGUF file, configured from settings (not started)."""
    from bot.llama_server import LlamaServer

    return LlamaServer(
        model_path,
        host=settings.llama_host,
        port=settings.llama_port,
        n_threads=settings.llama_threads,
        n_ctx=settings.llama_ctx,
        idle_minutes=settings.llama_idle_minutes,
        state_dir=settings.data_dir,
        progress=progress,
    )


def local_server(settings: Settings, progress: Progress | None = None) -> Any:
    """The server for the configured local model, assembling its file if needed."""
    from bot.model_files import resolve_gguf

    model_path = resolve_gguf(settings.local_model, settings.models_dir, progress)
    return llama_server(settings, model_path, progress)


def build_chat(settings: Settings, progress: Progress | None = None) -> ChatFactory | None:
    """A factory for the configured chat model; None for the extractive backend."""
    if settings.backend == "extractive":
        return None
    from langchain_openai import ChatOpenAI

    common: dict[str, Any] = dict(
        temperature=settings.temperature,
        timeout=settings.timeout,
        max_retries=LLM_RETRIES,  # openai's client backs off exponentially, honours Retry-After
        extra_body={"max_tokens": settings.max_answer_tokens},
        streaming=True,
    )
    if settings.backend == "openai":
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        if not key and not settings.openai_base_url:
            raise ConfigError("QABOT_BACKEND=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL).")
        model = ChatOpenAI(
            model=settings.openai_model,
            api_key=key or "unused",
            base_url=settings.openai_base_url,
            **common,
        )
        return lambda: model

    state: dict[str, Any] = {}
    lock = threading.Lock()  # answering threads must not race to start the server

    def local() -> Any:
        with lock:
            return _local_model()

    def _local_model() -> Any:
        if "server" not in state:
            state["server"] = local_server(settings, progress)
        base_url = state["server"].ensure_running()
        if state.get("url") != base_url:
            state["url"] = base_url
            state["model"] = ChatOpenAI(model="local", api_key="local", base_url=base_url, **common)
        return state["model"]

    return local


def build_engine(settings: Settings, progress: Progress | None = None) -> Engine:
    """Everything the front-ends need, built from settings. No network until first use."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    store = build_store(settings)
    ensure_index(store, settings, progress)
    options = EngineOptions(
        top_k=settings.top_k,
        min_relevance=settings.min_relevance,
        max_question_chars=settings.max_question_chars,
        # every request may take QABOT_TIMEOUT, and a failed one is retried once
        reply_deadline=settings.timeout * (LLM_RETRIES + 1),
    )
    return Engine(
        HybridSearcher(store, store.embeddings),
        build_chat(settings, progress),
        options,
        backend=settings.backend,
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
