"""What the store knows about one object kind: its fields, hooks and integrity rules.

Each module of :mod:`ryu_midonet.nsdb.kinds` declares one :class:`KindSpec`; the store, the
REST API and the agents iterate over the registered specs (see :mod:`ryu_midonet.nsdb.schema`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb.errors import InvalidInput, NotFound
from ryu_midonet.nsdb.fields import Field, check_value
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

CreateHook = Callable[["Txn", Obj, "str | None", Any], None]
"""(txn, new object, parent id, client data): completes and checks a new object."""
UpdateHook = Callable[["Txn", Obj, Obj], None]
"""(txn, old object, changed object): checks an update and applies its consequences."""
DeleteHook = Callable[["Txn", Obj], None]
"""(txn, object): refuses a delete or cleans up what reference rules cannot express."""


Check = Callable[["Txn", Obj], None]
"""(txn, new or changed object): refuses what is invalid, normalises the rest."""


def child_hooks(parent_kind: str, parent_field: str, check: Check) -> tuple[CreateHook,
                                                                            UpdateHook]:
    """Hooks of a kind created inside one ``parent_kind`` object: creating names that parent
    in ``parent_field`` (404 when it does not exist), then ``check``s; updating ``check``s."""

    def create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
        parent = txn.get(parent_kind, parent_id)
        if parent is None:
            raise NotFound(parent_kind, parent_id)
        obj[parent_field] = parent["id"]
        check(txn, obj)

    def update(txn: Txn, old: Obj, obj: Obj) -> None:
        check(txn, obj)

    return create, update


@dataclass(frozen=True)
class KindSpec:
    """One object kind of the topology."""

    kind: str
    fields: dict[str, Field]
    parents: tuple[str, ...] = ()  # kinds a nested object is created in (a port: bridge, router)
    parent_field: str | None = None  # names the parent, whose flows change with this object
    creatable: bool = True  # clients create it (hosts register themselves)
    updatable: bool = True
    owns: tuple[tuple[str, str], ...] = ()  # (kind, field naming us): deleted with us
    on_create: CreateHook | None = None
    on_update: UpdateHook | None = None
    on_delete: DeleteHook | None = None  # runs before owned and referring objects go
    on_remove: DeleteHook | None = None  # a client deletes this very object (no cascade)

    @property
    def tenant(self) -> bool:
        """Whether objects of this kind belong to a tenant."""
        return "tenantId" in self.fields

    def new(self) -> Obj:
        """A new object with every field at its default."""
        return {name: list(f.default) if isinstance(f.default, list) else f.default
                for name, f in self.fields.items()}

    def clean(self, data: Any, *, creating: bool) -> Obj:
        """Check client-supplied fields; unknown and read-only fields are ignored.

        Returns only the fields the client may set in this operation.
        """
        if not isinstance(data, dict):
            raise InvalidInput(self.kind, "the request body must be a JSON object")
        out: Obj = {}
        for name, f in self.fields.items():
            allowed = f.create if creating else f.update
            if not allowed or name not in data:
                if creating and allowed and f.required:
                    raise InvalidInput(name, "is required")
                continue
            out[name] = check_value(name, f, data[name])
        return out
