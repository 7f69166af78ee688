"""The project's own exceptions; library errors are translated into these at the boundary."""

from retrieval.errors import QabotError, StoreError

__all__ = [
    "ConfigError",
    "InputError",
    "LLMError",
    "ModelFileError",
    "QabotError",
    "StoreError",
]


class ConfigError(QabotError):
    """The configuration is invalid or incomplete."""

    exit_code = 2


class InputError(QabotError):
    """The user's input cannot be used (an empty question, say)."""

    exit_code = 2


class ModelFileError(QabotError):
    """A model file is missing or does not match its pinned sha256."""


class LLMError(QabotError):
    """The language model backend failed, timed out or is unreachable."""
