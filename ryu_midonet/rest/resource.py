"""How an object kind appears on the wire: its resource, DTO fields and links, extra routes.

Each module of :mod:`ryu_midonet.rest.kinds` declares one :class:`RestKind`; the API registers
the generic routes of every kind from it and the kind's store spec (nesting, create, update).
The fields a DTO carries beyond the stored ones are declared here too, as JSON schemas: the
OpenAPI document describes them and request bodies may carry them back (they are ignored).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ryu_midonet.rest.wsgi import media_type
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.topology import Topology
    from ryu_midonet.rest.protocols import Api, Dtos

Schema = dict[str, Any]
"""A JSON schema (OpenAPI 3.1 dialect)."""

LINK: Schema = {"type": "string", "format": "uri"}
MAYBE_LINK: Schema = {"type": ["string", "null"], "format": "uri"}
UUID: Schema = {"type": "string", "format": "uuid"}
MAYBE_UUID: Schema = {"type": ["string", "null"], "format": "uuid"}
UUIDS: Schema = {"type": "array", "items": UUID}
IGNORED: Schema = {"description": "carried by the DTO; ignored in a request"}


@dataclass(frozen=True)
class Shape:
    """The JSON fields of a DTO that is not a stored object, and of the body creating one."""

    fields: Mapping[str, Schema]  # every field of the DTO, always present
    inputs: Mapping[str, Schema] = field(default_factory=dict)  # what a POST sets
    required: tuple[str, ...] = ()  # inputs a POST must give
    checked: tuple[str, ...] = ()  # inputs also checked against the store or each other

    def accepted(self) -> frozenset[str]:
        """Names a request body may carry: the inputs and the DTO's own fields."""
        return frozenset(self.inputs) | frozenset(self.fields)


_SHAPED: list[Resource] = []


def shaped() -> tuple[Resource, ...]:
    """Every resource declared with a shape (member resources, links, features)."""
    return tuple(_SHAPED)


@dataclass(frozen=True)
class Resource:
    """A resource's path and vendor media type (and its shape, when not a stored kind)."""

    kind: str
    path: str  # top-level collection segment, e.g. "bridges"
    name: str  # vendor media type name, e.g. "Bridge"
    version: int
    shape: Shape | None = None

    def __post_init__(self) -> None:
        if self.shape is not None:
            _SHAPED.append(self)

    @property
    def media(self) -> str:
        return media_type(self.name, self.version)

    @property
    def collection_media(self) -> str:
        return media_type(self.name, self.version, collection=True)


@dataclass(frozen=True)
class Variant:
    """What a kind's create body looks like in one parent (a bridge port, a router port)."""

    required: tuple[str, ...] = ()  # must be given (and not null)
    absent: tuple[str, ...] = ()  # must be absent or null
    fields: Mapping[str, Schema] = field(default_factory=dict)  # DTO fields only this has


@dataclass(frozen=True)
class RestKind:
    """The REST side of one stored kind."""

    resource: Resource
    dto: Callable[[Dtos, Obj], None] | None = None  # adds URIs and derived fields to a DTO
    listed: bool = True  # has a top-level listing (routes and rules are reached via a parent)
    created_alone: bool = False  # a nested kind also created at the top, naming its parent
    list_in: Callable[[Topology, str], list[Obj]] | None = None  # children of a parent, ordered
    routes: Callable[[Api], None] | None = None  # routes beyond the generic ones
    # what ``dto`` adds or replaces: name -> JSON schema (``uri`` is always there)
    dto_fields: Mapping[str, Schema] = field(default_factory=dict)
    hidden: tuple[str, ...] = ()  # stored fields ``dto`` leaves out
    inputs: Mapping[str, Schema] = field(default_factory=dict)  # create inputs beyond fields
    checked: tuple[str, ...] = ()  # inputs also checked against each other or the store
    variants: Mapping[str, Variant] = field(default_factory=dict)  # by parent kind
    # rules across fields a create body must meet, as JSON schemas (if/then on its fields)
    create_rules: tuple[Schema, ...] = ()

    @property
    def kind(self) -> str:
        return self.resource.kind
