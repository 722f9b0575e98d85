"""BGP peers on the wire (reached through their router: ``/routers/{id}/bgp_peers``).

The MD5 password may be written (POST, PUT) but no reply ever carries it: a DTO has no
``password`` field, so a client that reads a peer and writes it back keeps the password, and
``"password": null`` (or ``""``) removes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.resource import LINK, Resource, RestKind
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Dtos


def _dto(dtos: Dtos, dto: Obj) -> None:
    dto.pop("password", None)
    dto["router"] = dtos.uri("routers", dto["routerId"])


REST = RestKind(Resource("bgpPeer", "bgp_peers", "BgpPeer", 1), _dto, listed=False,
                dto_fields={"router": LINK}, hidden=("password",),
                checked=("address", "asNumber", "holdTime", "keepAlive", "password"))
