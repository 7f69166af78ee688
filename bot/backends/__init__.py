"""One registry of answering backends: name -> chat factory, health probe, model name.

Config validates `QABOT_BACKEND` against it, the CLI offers its names, wiring builds the chat
model through it, doctor probes it and evaluation labels its reports with it. Adding a backend
is one entry here and one module beside this file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Settings

Progress = Callable[[str], None]
ChatFactory = Callable[[], Any]  # returns a langchain-core chat model, ready to call


@dataclass(frozen=True)
class Backend:
    name: str
    help: str
    # a factory for the chat model, or None for a backend that answers without an LLM
    chat: Callable[[Settings, Progress | None], ChatFactory | None]
    probe: Callable[[Settings], str]  # one line for `qabot doctor`; never starts anything
    model_name: Callable[[Settings], str]


def _none(settings: Settings, progress: Progress | None = None) -> None:
    return None


def _openai_chat(settings: Settings, progress: Progress | None = None) -> ChatFactory:
    from bot.backends.openai import chat_factory

    return chat_factory(settings)


def _openai_probe(settings: Settings) -> str:
    from bot.backends.openai import probe

    return probe(settings)


def _local_chat(settings: Settings, progress: Progress | None = None) -> ChatFactory:
    from bot.backends.local.chat import chat_factory

    return chat_factory(settings, progress)


def _local_probe(settings: Settings) -> str:
    from bot.backends.local.chat import probe

    return probe(settings)


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend(
            "local",
            "a local GGUF model on llama.cpp's server, started by qabot",
            _local_chat,
            _local_probe,
            lambda s: s.local_model,
        ),
        Backend(
            "openai",
            "OpenAI or any OpenAI-compatible server",
            _openai_chat,
            _openai_probe,
            lambda s: s.openai_model,
        ),
        Backend(
            "extractive",
            "no LLM: quotes the passage sentence that best answers",
            _none,
            lambda s: "extractive: no LLM needed",
            lambda s: "none",
        ),
    )
}
NAMES = tuple(BACKENDS)


def get(name: str) -> Backend:
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; use one of {', '.join(NAMES)}") from None
