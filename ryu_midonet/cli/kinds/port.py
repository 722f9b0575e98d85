"""Ports: bridge and router ports, one collection of both at the root."""

from __future__ import annotations

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.attrs import Dto
from ryu_midonet.cli.kinds.common import ID, INFILTER, OUTFILTER, STATE
from ryu_midonet.cli.objtype import CliKind, Collection, ObjType

BRIDGE_PORT = ObjType("port", "port", "port", (
    ID,
    a.Ref("device", "deviceId", writable=False, ref="bridge"),
    STATE, INFILTER, OUTFILTER,
    a.Int("vlan", "vlanId", lo=1, hi=4094),
    a.Peer("peer", "peerId", ref="port", clearable=True),
    a.Ref("vtep", "vtepId", writable=False, ref="vtep"),
    a.Int("vni", "vni", writable=False),
))

ROUTER_PORT = ObjType("port", "port", "port", (
    ID,
    a.Ref("device", "deviceId", writable=False, ref="router"),
    STATE, INFILTER, OUTFILTER,
    a.Mac("mac", "portMac"),
    a.PortAddresses("addresses"),
    a.Peer("peer", "peerId", ref="port", clearable=True),
    a.Ip("address", "portAddress", show=False, version=4),
    a.PortNet("net", show=False),
), required=("addresses|address",))


def port_item(parent: Dto | None, port: Dto) -> str:
    """A port's path, whichever device it is listed under."""
    return f"ports/{port['id']}"


def port_type(dto: Dto) -> ObjType:
    return BRIDGE_PORT if dto.get("type") in ("Bridge", "Vxlan") else ROUTER_PORT


# Ports are named through their device (bridge0:port1), not by a root alias.
CLI = CliKind(Collection(
    "port", (BRIDGE_PORT, ROUTER_PORT), lambda _: "ports", port_item,
    by_id=lambda i: f"ports/{i}", pick=port_type, full_alias=True), by_kind=False)
