"""The system state: one object whose availability can freeze every operator write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb.fields import Field
from ryu_midonet.nsdb.ops import Ops
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

SYSTEM_ID = "system"

SPEC = KindSpec(
    "systemState",
    {
        "state": Field("enum", "ACTIVE", choices=("ACTIVE", "UPGRADE"), nullable=False),
        "availability": Field("enum", "READWRITE", choices=("READWRITE", "READONLY"),
                              nullable=False),
        "writeVersion": Field("str", "5.0", create=False, update=False),
    },
    creatable=False,
)


class SystemState(Ops):
    """Reading and setting the system state."""

    def system_state(self) -> Obj:
        return self.store.get("systemState", SYSTEM_ID) or {**SPEC.new(), "id": SYSTEM_ID}

    def set_system_state(self, data: Any) -> Obj:
        values = SPEC.clean(data, creating=False)

        def work(txn: Txn) -> Obj:
            state = txn.get("systemState", SYSTEM_ID) or {**SPEC.new(), "id": SYSTEM_ID}
            state.update(values)
            txn.put("systemState", state)
            return state

        return self.store.transaction(work)
