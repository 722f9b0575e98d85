"""What kinds, specs and operations need of the store, as protocols.

:class:`ryu_midonet.nsdb.store.Store` and its ``Txn`` implement them. The store reads the
registered kinds, and the kinds' hooks take a transaction; naming the store here keeps the two
from importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    import redis

T = TypeVar("T")


class Store(Protocol):
    """The topology store: transactions, plain reads and the raw Redis client for state keys."""

    redis: redis.Redis

    def key_obj(self, kind: str, obj_id: str) -> str: ...

    def key_state(self, name: str) -> str: ...

    def transaction(self, fn: Callable[[Txn], T], system: bool = False) -> T: ...

    def read(self, fn: Callable[[Txn], T]) -> T: ...

    def get(self, kind: str, obj_id: str) -> dict[str, Any] | None: ...

    def list(self, kind: str) -> list[dict[str, Any]]: ...


class Txn(Protocol):
    """One transaction: reads see its own earlier writes; writes land at commit."""

    store: Store
    pipe: redis.client.Pipeline

    def get(self, kind: str, obj_id: str | None) -> dict[str, Any] | None: ...

    def require(self, kind: str, obj_id: str | None) -> dict[str, Any]: ...

    def ids(self, kind: str) -> list[str]: ...

    def ids_by(self, kind: str, field: str, value: str | None) -> list[str]: ...

    def list(self, kind: str) -> list[dict[str, Any]]: ...

    def list_by(self, kind: str, field: str, value: str | None) -> list[dict[str, Any]]: ...

    def next_seq(self, name: str) -> int: ...

    def put(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]: ...

    def delete(self, kind: str, obj_id: str) -> None: ...

    def on_commit(self, fn: Callable[[redis.client.Pipeline], None]) -> None: ...
