"""Routes on the wire (reached through their router)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.resource import LINK, Resource, RestKind, Schema
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Dtos


def _dto(dtos: Dtos, dto: Obj) -> None:
    dto["router"] = dtos.uri("routers", dto["routerId"])


_NEEDS_NEXT_HOP: Schema = {  # a normal route (the default type) leaves through a port
    "if": {"required": ["type"], "properties": {"type": {"enum": ["BlackHole", "Reject"]}}},
    "else": {"required": ["nextHopPort"], "properties": {"nextHopPort": {"type": "string"}}}}

REST = RestKind(Resource("route", "routes", "Route", 1), _dto, listed=False,
                dto_fields={"router": LINK}, create_rules=(_NEEDS_NEXT_HOP,))
