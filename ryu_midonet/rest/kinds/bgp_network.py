"""BGP networks on the wire (reached through their router: ``/routers/{id}/bgp_networks``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.resource import LINK, Resource, RestKind
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Dtos


def _dto(dtos: Dtos, dto: Obj) -> None:
    dto["router"] = dtos.uri("routers", dto["routerId"])


REST = RestKind(Resource("bgpNetwork", "bgp_networks", "BgpNetwork", 1), _dto, listed=False,
                dto_fields={"router": LINK}, checked=("subnetAddress",))
