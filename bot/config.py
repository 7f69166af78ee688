"""Settings: one object read from the environment and `.env` at start-up; CLI flags override."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DOCS = PROJECT_ROOT / "data"


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "qabot"


def _default_runtime_dir() -> Path:
    """Machine-wide, per user: where local model servers are registered for every qabot."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    return Path(base) / "qabot" if base else Path(tempfile.gettempdir()) / f"qabot-{os.getuid()}"


class Settings(BaseSettings):
    """Every setting qabot reads. `.env.example` documents each one."""

    model_config = SettingsConfigDict(
        env_prefix="QABOT_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    docs: Path = BUNDLED_DOCS
    collection: str = "articles"

    backend: str = "local"  # a name in bot.backends.BACKENDS
    local_model: str = "qwen2.5-coder-1.5b"
    llama_host: str = "127.0.0.1"
    llama_port: int = 8765
    llama_threads: int = 2
    llama_ctx: int = 4096
    llama_idle_minutes: float = 30.0
    runtime_dir: Path = Field(default_factory=_default_runtime_dir)

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "QABOT_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "QABOT_OPENAI_BASE_URL")
    )
    openai_model: str = "gpt-4o-mini"

    embeddings: Literal["minilm", "openai"] = "minilm"
    openai_embedding_model: str = "text-embedding-3-small"

    chroma_host: str | None = Field(
        default=None, validation_alias=AliasChoices("CHROMA_HOST", "QABOT_CHROMA_HOST")
    )
    chroma_port: int = Field(
        default=8000, validation_alias=AliasChoices("CHROMA_PORT", "QABOT_CHROMA_PORT")
    )

    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "QABOT_SLACK_BOT_TOKEN")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "QABOT_SLACK_APP_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "QABOT_SLACK_SIGNING_SECRET"),
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        validation_alias=AliasChoices("SLACK_API_URL", "QABOT_SLACK_API_URL"),
    )

    answer_workers: int = Field(default=2, ge=1)  # answers written at once (per process)
    drain_seconds: float = 20.0  # on SIGTERM, time given to answers being written
    health_host: str = "127.0.0.1"
    health_port: int | None = None  # /health and /metrics of `qabot slack` (either mode)
    log_format: Literal["text", "json"] = "text"
    user_questions_per_minute: int = Field(default=0, ge=0)  # per person; 0 = no limit
    # Several workers share dedupe, thread memory and rate limits through Redis, and feedback
    # through a database (default: feedback.sqlite3 in the data folder).
    redis_url: SecretStr | None = None
    database_url: SecretStr | None = None

    top_k: int = 6  # chunks retrieved; the evidence sentences are chosen from them
    evidence_sentences: int = 4  # sentences shown to the model at the most
    evidence_chars: int = 600  # ... within this many characters (the prompt's size)
    min_relevance: float = 0.25
    max_answer_tokens: int = 200
    temperature: float = 0.0
    timeout: float = 60.0
    max_question_chars: int = 2000

    @field_validator("backend", mode="after")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        from bot.backends import NAMES

        if value not in NAMES:
            raise ValueError(f"QABOT_BACKEND must be one of {', '.join(NAMES)}")
        return value

    @field_validator("slack_api_url", mode="after")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("SLACK_API_URL must be an http(s) URL, e.g. https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator(
        "slack_bot_token", "slack_app_token", "slack_signing_secret", "redis_url", "database_url",
        mode="after",
    )  # fmt: skip
    @classmethod
    def _blank_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("data_dir", "docs", "runtime_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def feedback_url(self) -> str:
        """The feedback database: QABOT_DATABASE_URL, else SQLite in the data folder."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'feedback.sqlite3'}"

    def redacted(self) -> dict[str, object]:
        """Settings as a dict fit for display: secrets shown only as set / not set."""
        out: dict[str, object] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "set (hidden)" if value.get_secret_value() else "not set"
            elif value is None and name == "openai_api_key":
                value = "not set"
            elif isinstance(value, str) and "://" in value and "@" in value.split("/")[2]:
                scheme, rest = value.split("://", 1)
                value = f"{scheme}://***@{rest.split('@', 1)[1]}"  # credentials in a URL
            out[name] = str(value) if isinstance(value, Path) else value
        return out


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment and `.env`, then apply non-None overrides."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)
