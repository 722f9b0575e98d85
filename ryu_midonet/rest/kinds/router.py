"""Routers on the wire."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.kinds.device import DEVICE_LINKS, device_links, register_peer_ports
from ryu_midonet.rest.resource import LINK, MAYBE_LINK, Resource, RestKind
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos


def _dto(dtos: Dtos, dto: Obj) -> None:
    device_links(dtos, dto, "routers")
    dto["routes"] = dtos.uri("routers", dto["id"], "routes")
    dto["bgpPeers"] = dtos.uri("routers", dto["id"], "bgp_peers")
    dto["bgpNetworks"] = dtos.uri("routers", dto["id"], "bgp_networks")
    lb = dto.get("loadBalancerId")
    dto["loadBalancer"] = dtos.uri("load_balancers", lb) if lb else None


def _routes(api: Api) -> None:
    register_peer_ports(api, "router", "routers")


REST = RestKind(Resource("router", "routers", "Router", 3), _dto, routes=_routes,
                dto_fields={**DEVICE_LINKS, "routes": LINK, "bgpPeers": LINK,
                            "bgpNetworks": LINK, "loadBalancer": MAYBE_LINK},
                checked=("loadBalancerId",))
