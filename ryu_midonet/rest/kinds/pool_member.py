"""Pool members on the wire: ``/pool_members`` and ``/pools/{id}/pool_members``.
``status`` (ACTIVE/INACTIVE) is shown but written only by health monitoring."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.resource import LINK, Resource, RestKind
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Dtos


def _dto(dtos: Dtos, dto: Obj) -> None:
    dto["pool"] = dtos.uri("pools", dto["poolId"])


REST = RestKind(Resource("poolMember", "pool_members", "PoolMember", 1), _dto,
                created_alone=True, dto_fields={"pool": LINK}, checked=("address",))
