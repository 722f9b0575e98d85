"""Bridges on the wire."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.kinds.device import device_links, register_peer_ports
from ryu_midonet.rest.resource import Resource, RestKind
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos


def _dto(dtos: Dtos, dto: Obj) -> None:
    device_links(dtos, dto, "bridges")
    dto["dhcpSubnets"] = dtos.uri("bridges", dto["id"], "dhcp")
    dto["dhcpSubnetV6s"] = dtos.uri("bridges", dto["id"], "dhcpV6")
    dto["macTable"] = dtos.uri("bridges", dto["id"], "mac_table")
    dto["arpTable"] = dtos.uri("bridges", dto["id"], "arp_table")
    dto.setdefault("vxLanPortIds", [])
    dto["vxLanPortId"] = None
    dto["vxLanPorts"] = dtos.uri("bridges", dto["id"], "vxlan_ports")


def _routes(api: Api) -> None:
    register_peer_ports(api, "bridge", "bridges")


REST = RestKind(Resource("bridge", "bridges", "Bridge", 4), _dto, routes=_routes)
