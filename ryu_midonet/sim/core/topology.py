"""The read-only view of the virtual topology the simulator works on.

Objects are the stored dicts of :mod:`ryu_midonet.nsdb.schema` (camelCase fields, ``id``).
:class:`DictView` serves plain ``{kind: {id: object}}`` mappings (tests, tools);
:class:`CacheView` serves an agent's topology cache (anything with ``objects`` and a
``version``) and keeps its per-device indexes in step with the cache's version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar, cast

from ryu_midonet.types import Obj

Objects = Mapping[str, Mapping[str, Obj]]
T = TypeVar("T")


class VersionedObjects(Protocol):
    """A topology cache: its objects by kind and id, and a version that changes with them."""

    @property
    def objects(self) -> Objects: ...

    @property
    def version(self) -> object: ...


class TopologyView(Protocol):
    def get(self, kind: str, obj_id: str | None) -> Obj | None:
        """The object of ``kind`` with that id, None when there is none."""
        ...

    def ports_of(self, device_id: str) -> list[Obj]:
        """The ports of a bridge or router, ordered by id."""
        ...

    def routes_of(self, router_id: str) -> list[Obj]:
        """The routes of a router, ordered by id."""
        ...

    def derived(self, name: str, key: str, build: Callable[[], T]) -> T:
        """``build()``'s value (a device snapshot, say), kept until the topology changes."""
        ...

    def all_of(self, kind: str) -> Mapping[str, Obj]:
        """Every object of ``kind``, by id (build indexes from it with :meth:`derived`)."""
        ...


class DictView:
    """A view over ``{kind: {id: object}}``; indexes are rebuilt when :meth:`stamp` changes."""

    def __init__(self, objects: Objects | None = None) -> None:
        self._objects: Objects = objects if objects is not None else {}
        self._stamp: object = None
        self._ports: dict[str, list[Obj]] = {}
        self._routes: dict[str, list[Obj]] = {}
        self._derived: dict[tuple[str, str], object] = {}

    def objects(self) -> Objects:
        return self._objects

    def stamp(self) -> object:
        """Changes whenever the objects may have changed (a plain mapping is taken as fixed)."""
        return id(self._objects)

    def get(self, kind: str, obj_id: str | None) -> Obj | None:
        if obj_id is None:
            return None
        return self.objects().get(kind, {}).get(obj_id)

    def all_of(self, kind: str) -> Mapping[str, Obj]:
        return self.objects().get(kind, {})

    def ports_of(self, device_id: str) -> list[Obj]:
        self._refresh()
        return self._ports.get(device_id, [])

    def routes_of(self, router_id: str) -> list[Obj]:
        self._refresh()
        return self._routes.get(router_id, [])

    def derived(self, name: str, key: str, build: Callable[[], T]) -> T:
        self._refresh()
        if (name, key) not in self._derived:
            self._derived[(name, key)] = build()
        return cast(T, self._derived[(name, key)])

    def _refresh(self) -> None:
        stamp = self.stamp()
        if stamp == self._stamp:
            return
        objects = self.objects()
        self._ports = _group(objects.get("port", {}), "deviceId")
        self._routes = _group(objects.get("route", {}), "routerId")
        self._derived = {}
        self._stamp = stamp


class CacheView(DictView):
    """A view over an agent's topology cache, current as of the cache's last poll."""

    def __init__(self, cache: VersionedObjects) -> None:
        super().__init__()
        self.cache = cache

    def objects(self) -> Objects:
        return self.cache.objects

    def stamp(self) -> object:
        return (id(self.cache.objects), self.cache.version)


def _group(objects: Mapping[str, Obj], parent_field: str) -> dict[str, list[Obj]]:
    out: dict[str, list[Obj]] = {}
    for obj_id in sorted(objects):
        obj = objects[obj_id]
        parent = obj.get(parent_field)
        if parent is not None:
            out.setdefault(parent, []).append(obj)
    return out


def is_interior(port: Obj) -> bool:
    """Linked to a port of another device."""
    return bool(port.get("peerId"))


def is_bound(port: Obj) -> bool:
    """An exterior port bound to an interface of a host."""
    return not is_interior(port) and bool(port.get("hostId"))
