"""Stored objects -> MidoNet v5 DTOs: the same camelCase fields plus URIs and derived values."""

from __future__ import annotations

from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.rest.kinds import BY_KIND
from ryu_midonet.types import Obj


class Dtos:
    """Builds DTOs for one request (``base`` is the absolute URI of /midonet-api)."""

    def __init__(self, topo: Topology, base: str) -> None:
        self.topo = topo
        self.base = base

    def uri(self, *parts: object) -> str:
        return "/".join([self.base, *(str(p) for p in parts)])

    def of(self, kind: str, obj: Obj) -> Obj:
        rk = BY_KIND[kind]
        dto = dict(obj)
        dto["uri"] = self.uri(rk.resource.path, obj["id"])
        if rk.dto is not None:
            rk.dto(self, dto)
        return dto
