"""The errors the CLI reports to its user, one line each."""

from __future__ import annotations


class CliError(Exception):
    """A user-facing failure: bad syntax, unknown alias, refused request, ..."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ApiError(CliError):
    """The API answered with an error status; ``message`` carries its explanation."""

    def __init__(self, status: int, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {reason}: {message}" if message else f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.detail = message
        self.field = field


class ConnectionFailed(CliError):
    """The API could not be reached at all."""
