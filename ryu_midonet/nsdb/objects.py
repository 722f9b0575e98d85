"""Creating, updating and deleting objects of any registered kind, atomically.

The kind's :class:`~ryu_midonet.nsdb.spec.KindSpec` supplies the checks and hooks; deletion
follows the specs' ownership and reference rules so nothing is left pointing at a deleted object.
"""

from __future__ import annotations

from typing import Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.access import Txn
from ryu_midonet.nsdb.fields import OnDelete
from ryu_midonet.nsdb.ids import client_id, new_id
from ryu_midonet.nsdb.ops import Ops
from ryu_midonet.nsdb.schema import referrers, spec, tenant_kinds
from ryu_midonet.types import Obj


class Objects(Ops):
    """Generic operations on objects of the registered kinds."""

    def tenants(self) -> list[str]:
        seen: dict[str, None] = {}
        for kind in tenant_kinds():
            for obj in self.store.list(kind):
                if obj.get("tenantId"):
                    seen.setdefault(obj["tenantId"], None)
        return list(seen)

    def create(self, kind: str, data: Any, parent_id: str | None = None) -> Obj:
        """Create an object from client data; ``parent_id`` names the owning device or chain."""
        s = spec(kind)
        values = s.clean(data, creating=True)
        obj_id = client_id(data.get("id") if isinstance(data, dict) else None)

        def work(txn: Txn) -> Obj:
            if obj_id and txn.get(kind, obj_id) is not None:
                raise errors.Conflict(f"{kind} {obj_id} already exists")
            obj = s.new()
            obj.update(values)
            obj["id"] = obj_id or new_id()
            if s.on_create is not None:
                s.on_create(txn, obj, parent_id, data)
            check_refs(txn, kind, obj)
            txn.put(kind, obj)
            return obj

        return self.store.transaction(work)

    def update(self, kind: str, obj_id: str, data: Any) -> Obj:
        s = spec(kind)
        values = s.clean(data, creating=False)

        def work(txn: Txn) -> Obj:
            obj = txn.require(kind, obj_id)
            old = dict(obj)
            obj.update(values)
            if s.on_update is not None:
                s.on_update(txn, old, obj)
            check_refs(txn, kind, obj)
            txn.put(kind, obj)
            return obj

        return self.store.transaction(work)

    def delete(self, kind: str, obj_id: str) -> None:
        def work(txn: Txn) -> None:
            obj = txn.require(kind, obj_id)
            s = spec(kind)
            if s.on_remove is not None:
                s.on_remove(txn, obj)
            delete_cascade(txn, kind, obj_id)

        self.store.transaction(work)


def check_refs(txn: Txn, kind: str, obj: Obj) -> None:
    """Every uuid field a client sets that names another object must name an existing one."""
    for name, f in spec(kind).fields.items():
        if f.ref is None or not (f.create or f.update) or f.kind not in ("uuid", "uuids"):
            continue
        value = obj.get(name)
        for ref_id in value if isinstance(value, list) else [value]:
            if ref_id and txn.get(f.ref, ref_id) is None:
                raise errors.InvalidInput(name, f"{f.ref} {ref_id} does not exist")


_ORDER = (OnDelete.CASCADE, OnDelete.CLEAR, OnDelete.REMOVE)


def delete_cascade(txn: Txn, kind: str, obj_id: str) -> None:
    """Delete an object and everything that cannot exist without it."""
    obj = txn.get(kind, obj_id)
    if obj is None:
        return
    rules = referrers(kind)
    _refuse_if_used(txn, kind, obj_id, [(k, f) for k, f, r in rules if r is OnDelete.REFUSE])
    s = spec(kind)
    if s.on_delete is not None:
        s.on_delete(txn, obj)
    for child_kind, field in s.owns:
        for child in txn.list_by(child_kind, field, obj_id):
            delete_cascade(txn, child_kind, child["id"])
    for rule in _ORDER:
        for ref_kind, field in [(k, f) for k, f, r in rules if r is rule]:
            for user in txn.list_by(ref_kind, field, obj_id):
                if rule is OnDelete.CASCADE:
                    delete_cascade(txn, ref_kind, user["id"])
                    continue
                if rule is OnDelete.CLEAR:
                    user[field] = None
                else:
                    user[field].remove(obj_id)
                txn.put(ref_kind, user)
    txn.delete(kind, obj_id)


def _refuse_if_used(txn: Txn, kind: str, obj_id: str, fields: list[tuple[str, str]]) -> None:
    users: dict[str, list[str]] = {}
    for ref_kind, field in fields:
        users.setdefault(ref_kind, []).extend(u["id"] for u in txn.list_by(ref_kind, field,
                                                                            obj_id))
    for ref_kind, ids in users.items():
        if ids:
            raise errors.Conflict(f"{kind} {obj_id} is used by {ref_kind}(s) {', '.join(ids)}; "
                                  f"delete those {ref_kind}s first")

