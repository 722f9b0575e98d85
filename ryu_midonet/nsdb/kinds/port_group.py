"""Port groups: named sets of ports that rules match on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.ids import client_id
from ryu_midonet.nsdb.ops import Ops
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

SPEC = KindSpec(
    "portGroup",
    {
        "tenantId": Field("str", index=True),
        "name": Field("str"),
        "stateful": Field("bool", False, nullable=False),
        "portIds": Field("uuids", [], ref="port", index=True, create=False, update=False,
                         on_delete=OnDelete.REMOVE),
    },
)


class PortGroupMembers(Ops):
    """Adding ports to port groups and removing them."""

    def add_port_group_member(self, pg_id: str, port_id: Any) -> Obj:
        if not isinstance(port_id, str):
            raise errors.InvalidInput("portId", "must be a port UUID")
        port_id = client_id(port_id, "portId")

        def work(txn: Txn) -> Obj:
            pg = txn.require("portGroup", pg_id)
            if txn.get("port", port_id) is None:
                raise errors.InvalidInput("portId", f"port {port_id} does not exist")
            if port_id in pg["portIds"]:
                raise errors.Conflict(f"port {port_id} is already in port group {pg_id}")
            pg["portIds"].append(port_id)
            txn.put("portGroup", pg)
            return {"portGroupId": pg_id, "portId": port_id}

        return self.store.transaction(work)

    def remove_port_group_member(self, pg_id: str, port_id: str) -> None:
        def work(txn: Txn) -> None:
            pg = txn.require("portGroup", pg_id)
            if port_id not in pg["portIds"]:
                raise errors.NotFound("port group member", f"{pg_id}/{port_id}")
            pg["portIds"].remove(port_id)
            txn.put("portGroup", pg)

        self.store.transaction(work)
