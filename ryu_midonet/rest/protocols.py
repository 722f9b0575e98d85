"""What kinds and features need of the API and of a request's DTO builder, as protocols.

:class:`ryu_midonet.rest.api.Api` and :class:`ryu_midonet.rest.dtos.Dtos` implement them; the
API imports every kind and feature, so they name it through these instead of importing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ryu_midonet.rest.wsgi import Handler, Request, WsgiApp
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.topology import Topology


class Dtos(Protocol):
    """Builds the DTOs of one request."""

    topo: Topology
    base: str

    def uri(self, *parts: object) -> str: ...

    def of(self, kind: str, obj: Obj) -> Obj: ...


class Api(Protocol):
    """The routing table under construction, and the store behind it."""

    topo: Topology
    app: WsgiApp

    def add(self, method: str, template: str, handler: Handler, media: str | None,
            summary: str, accepts: tuple[str, ...] = ()) -> None: ...

    def dtos(self, req: Request) -> Dtos: ...
