"""How an object kind appears on the wire: its resource, DTO links and extra routes.

Each module of :mod:`ryu_midonet.rest.kinds` declares one :class:`RestKind`; the API registers
the generic routes of every kind from it and the kind's store spec (nesting, create, update).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ryu_midonet.rest.wsgi import media_type
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.topology import Topology
    from ryu_midonet.rest.protocols import Api, Dtos


@dataclass(frozen=True)
class Resource:
    """A resource's path and vendor media type."""

    kind: str
    path: str  # top-level collection segment, e.g. "bridges"
    name: str  # vendor media type name, e.g. "Bridge"
    version: int

    @property
    def media(self) -> str:
        return media_type(self.name, self.version)

    @property
    def collection_media(self) -> str:
        return media_type(self.name, self.version, collection=True)


@dataclass(frozen=True)
class RestKind:
    """The REST side of one stored kind."""

    resource: Resource
    dto: Callable[[Dtos, Obj], None] | None = None  # adds URIs and derived fields to a DTO
    listed: bool = True  # has a top-level listing (routes and rules are reached via a parent)
    list_in: Callable[[Topology, str], list[Obj]] | None = None  # children of a parent, ordered
    routes: Callable[[Api], None] | None = None  # routes beyond the generic ones

    @property
    def kind(self) -> str:
        return self.resource.kind
