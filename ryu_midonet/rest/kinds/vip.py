"""VIPs on the wire: ``/vips``, ``/pools/{id}/vips`` and ``/load_balancers/{id}/vips``.
``loadBalancerId`` is the pool's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.resource import LINK, Resource, RestKind
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Dtos


def _dto(dtos: Dtos, dto: Obj) -> None:
    dto["pool"] = dtos.uri("pools", dto["poolId"])
    dto["loadBalancer"] = dtos.uri("load_balancers", dto["loadBalancerId"])


REST = RestKind(Resource("vip", "vips", "VIP", 1), _dto, created_alone=True,
                dto_fields={"pool": LINK, "loadBalancer": LINK}, checked=("address",))
