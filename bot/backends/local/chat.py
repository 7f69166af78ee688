"""The local backend's chat model: a GGUF file served by llama.cpp's server, which qabot
starts on first use and shares between its processes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.backends.local.model_files import describe_models, resolve_gguf
from bot.backends.local.supervisor import LlamaServer

if TYPE_CHECKING:
    from bot.backends import ChatFactory, Progress
    from bot.config import Settings


def llama_server(settings: Settings, model_path: Path, progress: Progress | None = None) -> Any:
    """The local model server for a GGUF file, configured from settings (not started)."""
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
    model_path = resolve_gguf(settings.local_model, settings.models_dir, progress)
    return llama_server(settings, model_path, progress)


def chat_factory(settings: Settings, progress: Progress | None = None) -> ChatFactory:
    """A factory that starts (or reuses) the server and returns a chat model talking to it;
    a server that died is started again on the next call."""
    from bot.backends.openai import chat_model

    state: dict[str, Any] = {}
    lock = threading.Lock()  # answering threads must not race to start the server

    def local() -> Any:
        with lock:
            if "server" not in state:
                state["server"] = local_server(settings, progress)
            base_url = state["server"].ensure_running()
            if state.get("url") != base_url:
                state["url"] = base_url
                state["model"] = chat_model(
                    settings, model="local", api_key="local", base_url=base_url
                )
            return state["model"]

    return local


def probe(settings: Settings) -> str:
    """The server's state, without assembling the model or starting anything."""
    row = next(
        (r for r in describe_models(settings.models_dir) if r["name"] == settings.local_model), None
    )
    path = row.get("path") if row else Path(settings.local_model)
    if not path or not Path(str(path)).exists():
        return f"local: model {settings.local_model} not ready (run `qabot setup`)"
    status = llama_server(settings, Path(str(path))).status()
    return "local: " + ", ".join(f"{k}={v}" for k, v in status.items())
