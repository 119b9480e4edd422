"""Engine errors. The web layer maps them to HTTP statuses, the CLI to a one-line reason and exit 1."""
from __future__ import annotations


class EngineError(Exception):
    """Base: `message` is a Chinese sentence fit to show a user."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(EngineError):
    """Bad input; `field_errors` maps a field (or row/column) to its message."""

    status = 400

    def __init__(self, message: str, field_errors: dict[str, str] | None = None):
        super().__init__(message)
        self.field_errors = field_errors or {}

    def __str__(self) -> str:
        if not self.field_errors:
            return self.message
        details = "；".join(f"{k}: {v}" if k else v for k, v in self.field_errors.items())
        return f"{self.message}（{details}）"


class Forbidden(EngineError):
    status = 403


class NotFound(EngineError):
    status = 404


class Conflict(EngineError):
    """Someone else changed the same thing first; nothing of this action was written."""

    status = 409


class StoreUnavailable(EngineError):
    """The file store cannot be used as configured (a missing bucket, refused credentials, no connection):
    nothing of the action was written, and the message names the setting to check."""

    status = 503
