"""A CLI session: listing collections, handing out aliases, resolving the names users type.

Aliases are numbered per collection in listing order (creation order; rules in position
order), so two processes that list the same unchanged data agree on them. Within one session
an object keeps its alias once it has one, and new objects get the next number.
"""

from __future__ import annotations

from dataclasses import dataclass

from ryu_midonet.cli import model as m
from ryu_midonet.cli.aliases import AliasTable, split_alias
from ryu_midonet.cli.attrs import Dto
from ryu_midonet.cli.errors import ApiError, CliError
from ryu_midonet.cli.http import ApiClient
from ryu_midonet.cli.values import is_uuid


@dataclass
class Node:
    """One object as the CLI sees it: its type, its DTO, its parent and its alias."""

    otype: m.ObjType
    dto: Dto
    parent: Node | None
    alias: str | None
    collection: m.Collection

    @property
    def id(self) -> str:
        return str(self.dto.get(self.otype.key, ""))

    def path(self) -> str:
        """The alias path that names it from the root, e.g. ``router0:port1``."""
        if self.alias is None:
            return self.id
        if self.parent is not None and self.parent.alias is not None:
            return f"{self.parent.path()}:{self.alias}"
        return self.alias


class Session:
    """Holds the API client, the tenant and the alias table of one CLI run."""

    def __init__(self, api: ApiClient, tenant: str | None = None) -> None:
        self.api = api
        self.tenant = tenant or None
        self.aliases = AliasTable()
        self.context: list[Node] = []  # the objects named so far in the current command
        self._listings: dict[tuple[str, str], list[Node]] = {}
        self._ports: dict[str, Node] = {}

    def begin_command(self) -> None:
        """Forget cached listings: every command sees the API's current state."""
        self._listings.clear()
        self._ports.clear()
        self.context = []

    # -- listings --------------------------------------------------------------------------
    def children(self, parent: Node | None, coll: m.Collection) -> list[Node]:
        """The members of ``coll`` under ``parent`` (``None``: the root), with aliases."""
        key = (parent.id if parent else "", coll.name)
        cached = self._listings.get(key)
        if cached is not None:
            return cached
        if parent is None and coll.full_alias:
            nodes = [self.port_node(dto) for dto in self._fetch(None, coll)]
        else:
            nodes = [self._node(parent, coll, dto) for dto in self._fetch(parent, coll)]
        self._listings[key] = nodes
        return nodes

    def _fetch(self, parent: Node | None, coll: m.Collection) -> list[Dto]:
        query = {"tenant_id": self.tenant} if coll.tenant_filter and self.tenant else None
        dtos = self.api.get(coll.list_path(parent.dto if parent else None), query) or []
        if coll.sort_key:
            dtos.sort(key=lambda d: d.get(coll.sort_key) or 0)
        return dtos

    def _node(self, parent: Node | None, coll: m.Collection, dto: Dto) -> Node:
        otype = coll.type_of(dto)
        alias = None
        if otype.prefix:
            space = self.aliases.space(parent.id if parent else "", coll.name, otype.prefix)
            alias = space.assign(str(dto["id"]))
        return Node(otype, dto, parent, alias, coll)

    def add_created(self, parent: Node | None, coll: m.Collection, dto: Dto) -> Node:
        """Register an object just created, after the existing members got their aliases."""
        if coll.otype.prefix:
            self.children(parent, coll)
        node = self._node(parent, coll, dto)
        self._listings.pop((parent.id if parent else "", coll.name), None)
        return node

    # -- finding objects -------------------------------------------------------------------
    def find(self, parent: Node | None, coll: m.Collection, token: str) -> Node:
        """The member of ``coll`` named ``token``: an alias, an alias path or a UUID."""
        if parent is None and coll.full_alias:
            return self._find_port(token)
        if is_uuid(token):
            return self._find_by_id(parent, coll, token)
        if ":" in token:
            node = self.resolve_path(token)
            if node.collection.name != coll.name or (
                    parent is not None and (node.parent is None or node.parent.id != parent.id)):
                raise CliError(f"{token} is not a {coll.name}{_in(parent)}")
            return node
        nodes = self.children(parent, coll)
        for node in nodes:
            if node.alias == token:
                return node
        known = self._known(parent, coll, token)
        if known is not None:
            return known
        hint = _hint(coll, [n.alias for n in nodes])
        raise CliError(f"no {coll.name} {token}{_in(parent)}{hint}")

    def _known(self, parent: Node | None, coll: m.Collection, alias: str) -> Node | None:
        """An object this session named earlier that the listing no longer shows (another
        tenant's router, say): fetched by id when it still exists."""
        if parent is not None or coll.by_id is None or not coll.otype.prefix:
            return None
        obj_id = self.aliases.space("", coll.name, coll.otype.prefix).lookup(alias)
        if obj_id is None:
            return None
        try:
            return self._node(None, coll, self.api.get(coll.by_id(obj_id)))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def _find_by_id(self, parent: Node | None, coll: m.Collection, obj_id: str) -> Node:
        for node in self.children(parent, coll):
            if node.id.lower() == obj_id.lower():
                return node
        if parent is None and coll.by_id:
            dto = self._get(coll.by_id(obj_id), f"{coll.name} {obj_id}")
            return self._node(parent, coll, dto)
        raise CliError(f"no {coll.name} {obj_id}{_in(parent)}")

    def _find_port(self, token: str) -> Node:
        if is_uuid(token):
            return self.port_node(self._get(f"ports/{token}", f"port {token}"))
        node = self.resolve_path(token)
        if node.otype.kind != "port":
            raise CliError(f"{token} is not a port (give a path such as router0:port1)")
        return node

    def _get(self, path: str, what: str) -> Dto:
        try:
            return self.api.get(path)
        except ApiError as exc:
            if exc.status == 404:
                raise CliError(f"no {what}") from None
            raise

    def resolve_path(self, path: str) -> Node:
        """``router0:port1`` -> the port; each part is an alias in its parent's collection."""
        node: Node | None = None
        for part in path.split(":"):
            coll = self._collection_for_alias(node, part)
            node = self.find(node, coll, part)
        if node is None:
            raise CliError(f"{path!r} is not an alias")
        return node

    def _collection_for_alias(self, parent: Node | None, alias: str) -> m.Collection:
        parsed = split_alias(alias)
        otype = parent.otype if parent else m.ROOT
        if parsed:
            for coll in otype.children.values():
                if coll.otype.prefix == parsed[0] and not coll.full_alias:
                    return coll
        raise CliError(f"{alias!r} is not an alias{_in(parent)}")

    # -- references (the RefContext of attributes) -----------------------------------------
    def port_node(self, dto: Dto) -> Node:
        """The node of a port, reached through its device so that it has its alias path."""
        cached = self._ports.get(dto["id"])
        if cached is not None:
            return cached
        device_coll = m.ROOT.children[m.DEVICE_COLLECTION.get(dto.get("type", ""), "router")]
        device = self._find_by_id(None, device_coll, dto["deviceId"])
        port_coll = device.otype.children["port"]
        for node in self.children(device, port_coll):
            if node.id == dto["id"]:
                self._ports[dto["id"]] = node
                return node
        node = self._node(device, port_coll, dto)
        self._ports[dto["id"]] = node
        return node

    def ref_name(self, kind: str, obj_id: str) -> str:
        """How a listing names a referenced object; its UUID if it no longer exists."""
        try:
            if kind == "port":
                cached = self._ports.get(obj_id)
                if cached is not None:
                    return cached.path()
                return self.port_node(self.api.get(f"ports/{obj_id}")).path()
            coll = m.TOP_BY_KIND.get(kind)
            if coll is None:
                return obj_id
            return self._find_by_id(None, coll, obj_id).path()
        except (ApiError, CliError):
            return obj_id

    def ref_id(self, kind: str, token: str) -> str:
        """The UUID of the ``kind`` object named ``token`` (alias, alias path or UUID)."""
        if is_uuid(token):
            return token
        if ":" in token:
            node = self.resolve_path(token)
        elif kind == "port":
            node = self._relative_port(token)
        else:
            coll = m.TOP_BY_KIND.get(kind)
            if coll is None:
                raise CliError(f"cannot name a {kind} by alias; give its UUID")
            node = self.find(None, coll, token)
        if node.otype.kind != kind:
            raise CliError(f"{token} is a {node.otype.kind}, not a {kind}")
        return node.id

    def _relative_port(self, token: str) -> Node:
        """A bare ``port0``: a port of the nearest device named in the command."""
        for node in reversed(self.context):
            coll = node.otype.children.get("port")
            if coll is not None:
                return self.find(node, coll, token)
        raise CliError(f"{token}: name ports by their path, e.g. router0:{token} or "
                       f"bridge0:{token}")


def _where(parent: Node | None) -> str:
    return f"{parent.otype.label} {parent.path()}" if parent else "the root"


def _in(parent: Node | None) -> str:
    return f" in {_where(parent)}" if parent else ""


def _hint(coll: m.Collection, aliases: list[str | None]) -> str:
    known = [a for a in aliases if a]
    if not known:
        return f" (there is no {coll.name})"
    return f" (known: {', '.join(known[:8])}{', ...' if len(known) > 8 else ''})"
