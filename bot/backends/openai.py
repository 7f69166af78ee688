"""The OpenAI backend: OpenAI or any OpenAI-compatible server, through langchain-openai."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.backends import ChatFactory
    from bot.config import Settings

LLM_RETRIES = 1  # openai's client backs off exponentially and honours Retry-After


def chat_model(settings: Settings, **kwargs: Any) -> Any:
    """A streaming ChatOpenAI with qabot's settings (temperature, timeout, answer length)."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        temperature=settings.temperature,
        timeout=settings.timeout,
        max_retries=LLM_RETRIES,
        # llama.cpp's server ignores max_completion_tokens, which langchain-openai sends
        extra_body={"max_tokens": settings.max_answer_tokens},
        streaming=True,
        **kwargs,
    )


def _key(settings: Settings) -> str | None:
    return settings.openai_api_key.get_secret_value() if settings.openai_api_key else None


def chat_factory(settings: Settings) -> ChatFactory:
    key = _key(settings)
    if not key and not settings.openai_base_url:
        raise ConfigError("QABOT_BACKEND=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL).")
    model = chat_model(
        settings,
        model=settings.openai_model,
        api_key=key or "unused",
        base_url=settings.openai_base_url,
    )
    return lambda: model


def probe(settings: Settings) -> str:
    url = settings.redacted()["openai_base_url"]  # credentials in the URL are masked
    return f"openai: model {settings.openai_model} at {url or 'https://api.openai.com/v1'}"
