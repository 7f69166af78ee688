"""The project's own exceptions; library errors are translated into these at the boundary."""


class QabotError(Exception):
    """Base class: the message is safe to show to a user (no secrets, no tracebacks)."""

    exit_code = 1


class ConfigError(QabotError):
    """The configuration is invalid or incomplete."""

    exit_code = 2


class InputError(QabotError):
    """The user's input cannot be used (an empty question, say)."""

    exit_code = 2


class ModelFileError(QabotError):
    """A model file is missing or does not match its pinned sha256."""


class StoreError(QabotError):
    """The index is missing, unreadable, or built with another embedding model."""


class LLMError(QabotError):
    """The language model backend failed, timed out or is unreachable."""


class IngestError(QabotError):
    """A file could not be ingested."""
