"""Chains on the wire."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.resource import LINK, Resource, RestKind
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Dtos


def _dto(dtos: Dtos, dto: Obj) -> None:
    dto["rules"] = dtos.uri("chains", dto["id"], "rules")


REST = RestKind(Resource("chain", "chains", "Chain", 1), _dto, dto_fields={"rules": LINK})
