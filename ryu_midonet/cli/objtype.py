"""What the CLI's object kinds are made of: object types, collections and registrations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.attrs import Dto


@dataclass
class ObjType:
    """One kind of object as the CLI shows it."""

    kind: str  # what references name: router, bridge, port, chain, host, ...
    label: str  # the first word of its lines: router, tzone, port, ...
    prefix: str | None  # alias prefix; None for objects without aliases (members, bindings)
    attrs: tuple[a.Attr, ...]
    required: tuple[str, ...] = ()  # attributes a create must give
    tenant: bool = False  # created in the session's tenant
    key: str = "id"  # the field that identifies an object within its collection
    children: dict[str, Collection] = field(default_factory=dict)
    # words that step to the object a field names (a pool's ``health-monitor``): word ->
    # (kind of that object, field)
    follows: dict[str, tuple[str, str]] = field(default_factory=dict)

    def attr(self, name: str) -> a.Attr | None:
        for attr in self.attrs:
            if attr.name == name:
                return attr
        return None

    def names(self) -> list[str]:
        return [attr.name for attr in self.attrs]


Path = Callable[[Dto | None], str]


@dataclass
class Collection:
    """A collection of one parent (or of the root): how to list, create and reach members."""

    name: str  # the CLI word: router, port, member, ...
    types: tuple[ObjType, ...]  # element types; several when ``pick`` chooses by DTO
    list_path: Path  # parent DTO -> path of the listing
    item_path: Callable[[Dto | None, Dto], str]  # (parent, element) -> path for GET/PUT/DELETE
    create_path: Path | None = None
    by_id: Callable[[str], str] | None = None  # path of an element by its id
    pick: Callable[[Dto], ObjType] | None = None
    tenant_filter: bool = False  # listings honour the session tenant
    sort_key: str | None = None
    updatable: bool = True
    deletable: bool = True
    full_alias: bool = False  # a listing prints whole alias paths (router0:port1)

    @property
    def otype(self) -> ObjType:
        return self.types[0]

    def type_of(self, dto: Dto) -> ObjType:
        return self.pick(dto) if self.pick else self.types[0]


@dataclass(frozen=True)
class Singleton:
    """An object with no collection, shown and set by its word (``system-state``)."""

    word: str
    otype: ObjType
    path: str  # its API path, for GET and PUT


@dataclass(frozen=True)
class CliKind:
    """Where one kind hangs in the CLI's tree; kinds reached only through a parent (routes,
    rules) register an empty one."""

    top: Collection | None = None  # its collection at the root
    by_kind: bool = True  # references and aliases of its kind resolve through ``top``
    device: str | None = None  # the port ``type`` naming it as a port's device (Bridge, ...)
    singleton: Singleton | None = None


def parent_id(dto: Dto | None) -> str:
    """The id of a collection's parent, in the paths it builds."""
    return dto["id"] if dto else ""


def same(*words: str) -> tuple[tuple[str, str], ...]:
    """Enum choices whose CLI word is the API's value."""
    return tuple((w, w) for w in words)


def top(name: str, otype: ObjType, path: str, creatable: bool = True,
        tenant_filter: bool = False) -> Collection:
    """A collection at the root, served at ``path``."""
    return Collection(
        name, (otype,), lambda _: path, lambda _, x: f"{path}/{x['id']}",
        create_path=(lambda _: path) if creatable else None, by_id=lambda i: f"{path}/{i}",
        tenant_filter=tenant_filter)
