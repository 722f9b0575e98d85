"""Pools on the wire: ``/pools`` and ``/load_balancers/{id}/pools``, with their members and
VIPs as links. ``status`` is shown but not written by clients."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.resource import LINK, MAYBE_LINK, Resource, RestKind
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Dtos

RESOURCE = Resource("pool", "pools", "Pool", 1)


def _dto(dtos: Dtos, dto: Obj) -> None:
    dto["loadBalancer"] = dtos.uri("load_balancers", dto["loadBalancerId"])
    hm = dto.get("healthMonitorId")
    dto["healthMonitor"] = dtos.uri("health_monitors", hm) if hm else None
    dto["poolMembers"] = dtos.uri(RESOURCE.path, dto["id"], "pool_members")
    dto["vips"] = dtos.uri(RESOURCE.path, dto["id"], "vips")


REST = RestKind(RESOURCE, _dto, created_alone=True,
                dto_fields={"loadBalancer": LINK, "healthMonitor": MAYBE_LINK,
                            "poolMembers": LINK, "vips": LINK},
                checked=("healthMonitorId",))
