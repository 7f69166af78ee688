"""The project's error base and the retrieval layer's errors (the lowest layer defines them)."""


class QabotError(Exception):
    """Base class: the message is safe to show to a user (no secrets, no tracebacks)."""

    exit_code = 1


class StoreError(QabotError):
    """The index is missing, unreadable, or built with another embedding model."""
