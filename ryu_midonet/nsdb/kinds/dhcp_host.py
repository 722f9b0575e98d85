"""DHCP hosts: the address a DHCP subnet gives the VM with a MAC (one entry per MAC)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.kinds.dhcp_subnet import network
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    subnet = txn.get("dhcpSubnet", parent_id)
    if subnet is None:
        raise errors.NotFound("dhcpSubnet", parent_id)
    obj["subnetId"] = subnet["id"]
    obj["bridgeId"] = subnet["bridgeId"]
    _check(txn, subnet, obj)


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    _check(txn, txn.require("dhcpSubnet", obj["subnetId"]), obj)


def _check(txn: Txn, subnet: Obj, obj: Obj) -> None:
    net = network(subnet)
    if ipaddress.IPv4Address(obj["ipAddr"]) not in net:
        raise errors.InvalidInput("ipAddr", f"{obj['ipAddr']} is not in the subnet {net}")
    for other in txn.list_by("dhcpHost", "subnetId", subnet["id"]):
        if other["id"] != obj["id"] and other["macAddr"] == obj["macAddr"]:
            raise errors.InvalidInput("macAddr", f"the subnet {net} already has a host with "
                                      f"MAC {obj['macAddr']}")
    obj["extraDhcpOpts"] = check_extra_opts("extraDhcpOpts", obj.get("extraDhcpOpts"))


def check_extra_opts(name: str, value: Any) -> list[Obj]:
    """Extra DHCP options: a name (or option number) and a value, both strings."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise errors.InvalidInput(name, "must be a list of options")
    out = []
    for opt in value:
        if not isinstance(opt, dict) or not isinstance(opt.get("optName"), str) \
                or not opt["optName"] or not isinstance(opt.get("optValue"), str):
            raise errors.InvalidInput(name, "each option must be an object with optName and "
                                      "optValue (strings)")
        out.append({"optName": opt["optName"], "optValue": opt["optValue"]})
    return out


SPEC = KindSpec(
    "dhcpHost",
    {
        "bridgeId": Field("uuid", ref="bridge", index=True, create=False, update=False),
        "subnetId": Field("uuid", ref="dhcpSubnet", index=True, create=False, update=False,
                          on_delete=OnDelete.CASCADE),
        "macAddr": Field("mac", required=True, nullable=False),
        "ipAddr": Field("ipv4", required=True, nullable=False),
        "name": Field("str"),
        "extraDhcpOpts": Field("any", []),
    },
    parent_field="bridgeId",
    on_create=_create,
    on_update=_update,
)
