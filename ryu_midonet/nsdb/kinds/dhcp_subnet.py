"""DHCP subnets of bridges: what the agent answers a VM's DHCP request with.

A subnet is named on the wire by its prefix and length (``10.0.0.0_24``), unique on its bridge;
subnets of one bridge never overlap. Without a server address the subnet's first address
answers (upstream MidoNet answers from 0.0.0.0, which a client cannot renew against).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete, check_value
from ryu_midonet.nsdb.spec import KindSpec, child_hooks
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

MTU_MIN, MTU_MAX = 68, 65535


def network(obj: Obj) -> ipaddress.IPv4Network:
    """The subnet of a stored dhcpSubnet."""
    return ipaddress.IPv4Network(f"{obj['subnetPrefix']}/{obj['subnetLength']}")


def first_address(net: ipaddress.IPv4Network) -> str:
    """The subnet's first usable address (the network address of a /31 or /32)."""
    return str(net.network_address + 1 if net.num_addresses > 2 else net.network_address)


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    if obj.get("serverAddr") == old["serverAddr"] == first_address(network(old)):
        obj["serverAddr"] = None  # the default follows a moved subnet
    _check(txn, obj)
    net = network(obj)
    if net == network(old):
        return
    for host in txn.list_by("dhcpHost", "subnetId", obj["id"]):
        if ipaddress.IPv4Address(host["ipAddr"]) not in net:
            raise errors.InvalidInput("subnetLength", f"host {host['macAddr']} "
                                      f"({host['ipAddr']}) would fall outside {net}")


def _check(txn: Txn, obj: Obj) -> None:
    net = ipaddress.IPv4Network(f"{obj['subnetPrefix']}/{obj['subnetLength']}", strict=False)
    obj["subnetPrefix"] = str(net.network_address)
    for other in txn.list_by("dhcpSubnet", "bridgeId", obj["bridgeId"]):
        if other["id"] != obj["id"] and network(other).overlaps(net):
            raise errors.InvalidInput("subnetPrefix", f"{net} overlaps DHCP subnet "
                                      f"{network(other)} of bridge {obj['bridgeId']}")
    if obj.get("serverAddr") is None:
        obj["serverAddr"] = first_address(net)
    obj["dnsServerAddrs"] = check_addresses("dnsServerAddrs", obj.get("dnsServerAddrs"))
    mtu = obj.get("interfaceMTU")
    if mtu == 0:  # as MidoNet clients send an unset MTU
        obj["interfaceMTU"] = None
    elif mtu is not None and not MTU_MIN <= mtu <= MTU_MAX:
        raise errors.InvalidInput("interfaceMTU", f"must be between {MTU_MIN} and {MTU_MAX}")
    obj["opt121Routes"] = check_opt121("opt121Routes", obj.get("opt121Routes"))


_IPV4 = Field("ipv4", required=True)
_LENGTH = Field("int", required=True, lo=0, hi=32)


def check_addresses(name: str, value: Any) -> list[str]:
    """A list of IPv4 addresses (null: none)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise errors.InvalidInput(name, "must be a list of IPv4 addresses")
    return [check_value(name, _IPV4, addr) for addr in value]


def check_opt121(name: str, value: Any) -> list[Obj]:
    """Classless static routes (DHCP option 121): destination prefix, length and gateway."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise errors.InvalidInput(name, "must be a list of routes")
    out = []
    for route in value:
        if not isinstance(route, dict):
            raise errors.InvalidInput(name, "each route must be an object with "
                                      "destinationPrefix, destinationLength and gatewayAddr")
        prefix = check_value(f"{name}.destinationPrefix", _IPV4, route.get("destinationPrefix"))
        length = check_value(f"{name}.destinationLength", _LENGTH,
                             route.get("destinationLength", 0))
        gateway = check_value(f"{name}.gatewayAddr", _IPV4, route.get("gatewayAddr"))
        dst = ipaddress.IPv4Network(f"{prefix}/{length}", strict=False)
        out.append({"destinationPrefix": str(dst.network_address),
                    "destinationLength": length, "gatewayAddr": gateway})
    return out


_create, _ = child_hooks("bridge", "bridgeId", _check)

SPEC = KindSpec(
    "dhcpSubnet",
    {
        "bridgeId": Field("uuid", ref="bridge", index=True, create=False, update=False,
                          on_delete=OnDelete.CASCADE),
        "subnetPrefix": Field("ipv4", required=True, nullable=False),
        "subnetLength": Field("int", required=True, lo=0, hi=32, nullable=False),
        "defaultGateway": Field("ipv4"),
        "serverAddr": Field("ipv4"),
        "dnsServerAddrs": Field("any", []),
        "interfaceMTU": Field("int", lo=0, hi=MTU_MAX),
        "opt121Routes": Field("any", []),
        "enabled": Field("bool", True, nullable=False),
    },
    parent_field="bridgeId",
    on_create=_create,
    on_update=_update,
)
