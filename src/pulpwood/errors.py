"""Exceptions shared by every layer. The API maps them to HTTP answers in one place."""

from __future__ import annotations


class PulpwoodError(Exception):
    """Base of every error we raise on purpose."""


class ConfigurationError(PulpwoodError):
    """Settings are missing, unknown or invalid."""


class ValidationError(PulpwoodError):
    """Bad input; `detail` is DRF-shaped: {field: [message, ...]} or a list of messages."""

    def __init__(self, detail: dict | list | str) -> None:
        if isinstance(detail, str):
            detail = {"non_field_errors": [detail]}
        self.detail = detail
        super().__init__(str(detail))


class NotFound(PulpwoodError):
    def __init__(self, detail: str = "Not found.") -> None:
        self.detail = detail
        super().__init__(detail)


class Conflict(PulpwoodError):
    def __init__(self, detail: object = None) -> None:
        self.detail = detail
        super().__init__(str(detail))


class TaskError(PulpwoodError):
    """A task failed for a reason the user can act on; the message is the task's description."""


class DigestMismatch(TaskError):
    """Downloaded or uploaded bytes do not match the digest or size they were promised."""
