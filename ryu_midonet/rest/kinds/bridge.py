"""Bridges on the wire."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.kinds.device import DEVICE_LINKS, device_links, register_peer_ports
from ryu_midonet.rest.resource import LINK, MAYBE_UUID, UUIDS, Resource, RestKind
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos


def _dto(dtos: Dtos, dto: Obj) -> None:
    device_links(dtos, dto, "bridges")
    dto["dhcpSubnets"] = dtos.uri("bridges", dto["id"], "dhcp")
    dto["macTable"] = dtos.uri("bridges", dto["id"], "mac_table")
    dto["arpTable"] = dtos.uri("bridges", dto["id"], "arp_table")
    vxlan = [p["id"] for p in dtos.topo.list("port", "deviceId", dto["id"]) if p.get("vtepId")]
    dto["vxLanPortIds"] = vxlan
    dto["vxLanPortId"] = vxlan[0] if vxlan else None


def _routes(api: Api) -> None:
    register_peer_ports(api, "bridge", "bridges")


REST = RestKind(Resource("bridge", "bridges", "Bridge", 4), _dto, routes=_routes,
                dto_fields={**DEVICE_LINKS, "dhcpSubnets": LINK, "macTable": LINK,
                            "arpTable": LINK, "vxLanPortIds": UUIDS,
                            "vxLanPortId": MAYBE_UUID})
