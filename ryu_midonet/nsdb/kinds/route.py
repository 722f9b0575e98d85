"""Routes of routers."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.spec import KindSpec, child_hooks
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn


def _check(txn: Txn, obj: Obj) -> None:
    for prefix in ("src", "dst"):
        addr, length = obj[f"{prefix}NetworkAddr"], obj[f"{prefix}NetworkLength"]
        net = ipaddress.IPv4Network(f"{addr}/{length}", strict=False)
        obj[f"{prefix}NetworkAddr"] = str(net.network_address)
    port_id = obj.get("nextHopPort")
    if obj["type"] == "Normal" and not port_id:
        raise errors.InvalidInput("nextHopPort", "a normal route needs a next-hop port")
    if port_id:
        port = txn.get("port", port_id)
        if port is None:
            raise errors.InvalidInput("nextHopPort", f"port {port_id} does not exist")
        if port["deviceId"] != obj["routerId"]:
            raise errors.InvalidInput("nextHopPort",
                                      f"port {port_id} is not a port of router {obj['routerId']}")


_create, _update = child_hooks("router", "routerId", _check)

SPEC = KindSpec(
    "route",
    {
        "routerId": Field("uuid", index=True, create=False, update=False),
        "type": Field("enum", "Normal", choices=("Normal", "BlackHole", "Reject"),
                      nullable=False),
        "srcNetworkAddr": Field("ipv4", "0.0.0.0", nullable=False),
        "srcNetworkLength": Field("int", 0, lo=0, hi=32, nullable=False),
        "dstNetworkAddr": Field("ipv4", required=True, nullable=False),
        "dstNetworkLength": Field("int", required=True, lo=0, hi=32, nullable=False),
        "nextHopPort": Field("uuid", ref="port", index=True, on_delete=OnDelete.CASCADE),
        "nextHopGateway": Field("ipv4"),
        "weight": Field("int", 100, lo=0, hi=2147483647, nullable=False),
        "learned": Field("bool", False, nullable=False),
        "attributes": Field("str"),
    },
    parents=("router",),
    parent_field="routerId",
    on_create=_create,
    on_update=_update,
)
