"""Errors raised by the topology store; the REST API maps each to an HTTP status."""

from __future__ import annotations

import redis


class NsdbError(Exception):
    """Base class of every topology-store error."""

    status = 500

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(NsdbError):
    """A value is malformed, out of range or inconsistent (HTTP 400)."""

    status = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field)


class NotFound(NsdbError):
    """The object does not exist (HTTP 404)."""

    status = 404

    def __init__(self, kind: str, obj_id: object) -> None:
        super().__init__(f"{kind} {obj_id} was not found")
        self.kind = kind
        self.obj_id = obj_id


class Conflict(NsdbError):
    """The request conflicts with the current state (HTTP 409)."""

    status = 409


class ReadOnly(NsdbError):
    """The system is in READONLY availability (HTTP 503)."""

    status = 503

    def __init__(self) -> None:
        super().__init__("the system is in READONLY mode; writes are refused")


class Busy(NsdbError):
    """A write waited too long for its turn among other writers (HTTP 503, try again)."""

    status = 503

    def __init__(self) -> None:
        super().__init__("the topology store is busy with other writers; try again shortly")


class StoreUnavailable(NsdbError):
    """Redis cannot be reached, is loading its data, or is a replica (HTTP 503)."""

    status = 503

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"the topology store is unavailable ({cause}); try again shortly")


# What redis-py raises while the store is down, restarting, loading or failing over.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, redis.ReadOnlyError,
)
# Replies of a master that may not take writes now (min-replicas-to-write, no quorum).
_REFUSING = ("NOREPLICAS", "MASTERDOWN")


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the store cannot serve now (rather than a defect)."""
    if isinstance(exc, UNAVAILABLE):
        return True
    return isinstance(exc, redis.ResponseError) and any(w in str(exc) for w in _REFUSING)
