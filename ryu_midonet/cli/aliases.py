"""The alias table: short names such as ``router0`` for object UUIDs.

Aliases live in namespaces, one per collection of one parent (the routers; the ports of one
bridge; the rules of one chain). A namespace numbers the objects it sees in the order it sees
them, starting at 0, and never reuses a number, so an object keeps its alias for the whole
session. A fresh process that lists the same unchanged collection hands out the same aliases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ALIAS = re.compile(r"^(?P<prefix>[a-z][a-z-]*?)(?P<n>\d+)$")


def split_alias(alias: str) -> tuple[str, int] | None:
    """``router12`` -> ``("router", 12)``; ``None`` when it is not an alias."""
    m = _ALIAS.match(alias)
    return (m["prefix"], int(m["n"])) if m else None


@dataclass
class Namespace:
    """Aliases ``<prefix>N`` of one collection."""

    prefix: str
    by_alias: dict[str, str] = field(default_factory=dict)
    by_id: dict[str, str] = field(default_factory=dict)
    counter: int = 0

    def assign(self, obj_id: str) -> str:
        """The alias of ``obj_id``, giving it the next free number when it has none."""
        alias = self.by_id.get(obj_id)
        if alias is None:
            alias = f"{self.prefix}{self.counter}"
            self.counter += 1
            self.by_alias[alias] = obj_id
            self.by_id[obj_id] = alias
        return alias

    def lookup(self, alias: str) -> str | None:
        return self.by_alias.get(alias)

    def names(self) -> list[str]:
        return list(self.by_alias)


class AliasTable:
    """Every namespace of a session, keyed by (parent id or ``""``, collection name)."""

    def __init__(self) -> None:
        self._spaces: dict[tuple[str, str], Namespace] = {}

    def space(self, parent_id: str, collection: str, prefix: str) -> Namespace:
        key = (parent_id, collection)
        ns = self._spaces.get(key)
        if ns is None:
            ns = self._spaces[key] = Namespace(prefix)
        return ns

    def known(self, parent_id: str, collection: str) -> bool:
        return (parent_id, collection) in self._spaces

    def all_names(self) -> list[str]:
        return [name for ns in self._spaces.values() for name in ns.names()]
