"""The base of the topology's operations: a store and the generic reads.

Kinds with operations of their own (linking ports, tunnel zone members, ...) provide them as
subclasses of :class:`Ops`, which :class:`ryu_midonet.nsdb.topology.Topology` combines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.nsdb import errors
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Store


class Ops:
    """Reads shared by every operation mixin."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, kind: str, obj_id: str) -> Obj:
        obj = self.store.get(kind, obj_id)
        if obj is None:
            raise errors.NotFound(kind, obj_id)
        return obj

    def list(self, kind: str, field: str | None = None, value: str | None = None) -> list[Obj]:
        if field is None:
            return self.store.list(kind)
        return self.store.read(lambda txn: txn.list_by(kind, field, value))
