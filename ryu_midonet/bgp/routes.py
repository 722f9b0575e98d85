"""Learned routes as router routes: what to add and what to remove.

A learned route is a normal route of the router with ``learned: true``, the peer as its
``nextHopGateway`` and the uplink port as its ``nextHopPort``; the routes a speaker owns are
those of its router with ``learned`` set and its port as next hop. :class:`Book` keeps them
in the store.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from ryu_midonet.bgp.rib import Learned
from ryu_midonet.nsdb.ids import new_id
from ryu_midonet.nsdb.objects import check_refs, delete_cascade
from ryu_midonet.nsdb.schema import spec

LOG = logging.getLogger(__name__)
Obj = Mapping[str, Any]
WEIGHT = 100


def owned(routes: Iterable[Obj], port_id: str) -> dict[Learned, str]:
    """The learned routes of ``port_id`` among a router's routes: what they say -> id."""
    out = {}
    for route in routes:
        if not route.get("learned") or route.get("nextHopPort") != port_id:
            continue
        try:
            net = ipaddress.IPv4Network(f"{route['dstNetworkAddr']}/{route['dstNetworkLength']}")
        except (KeyError, ValueError, TypeError):
            continue
        out[Learned(str(net), str(route.get("nextHopGateway")))] = str(route["id"])
    return out


def plan(have: Mapping[Learned, str], want: Iterable[Learned]
         ) -> tuple[list[Learned], list[str]]:
    """The routes to create and the ids of the routes to delete to go from ``have`` to
    ``want``."""
    wanted = set(want)
    return sorted(wanted - set(have)), sorted(i for r, i in have.items() if r not in wanted)


def route_data(learned: Learned, port_id: str) -> dict[str, Any]:
    """The body of the route that ``learned`` becomes."""
    net = ipaddress.IPv4Network(learned.prefix)
    return {"type": "Normal", "dstNetworkAddr": str(net.network_address),
            "dstNetworkLength": net.prefixlen, "nextHopPort": port_id,
            "nextHopGateway": learned.next_hop, "weight": WEIGHT, "learned": True}


BATCH = 500  # routes written per transaction


class Book:
    """The learned routes of one uplink port in the store, remembered between polls.

    A sync reads the ids of the port's routes (one index read) and only the routes it has not
    seen before, then deletes and creates routes ``BATCH`` per transaction, withdrawals first:
    a peer's 10,000 prefixes cost some twenty transactions, not 10,000, and a poll that
    changes nothing reads no route.
    """

    def __init__(self, store: Any, router_id: str, port_id: str) -> None:
        self.store = store
        self.router_id = router_id
        self.port_id = port_id
        self._seen: dict[str, Learned | None] = {}  # route id -> what it says (None: not ours)

    def stored(self) -> dict[Learned, str]:
        """The port's learned routes in the store: what they say -> id."""
        ids: list[str] = self.store.read(
            lambda txn: txn.ids_by("route", "nextHopPort", self.port_id))
        new = [i for i in ids if i not in self._seen]
        if new:
            objs = self.store.read(lambda txn: [txn.get("route", i) for i in new])
            for route_id, obj in zip(new, objs, strict=True):
                self._seen[route_id] = _ours(obj, self.router_id, self.port_id)
        live = set(ids)
        self._seen = {i: learned for i, learned in self._seen.items() if i in live}
        return {learned: i for i, learned in self._seen.items() if learned is not None}

    def sync(self, want: Iterable[Learned]) -> None:
        """Make the port's learned routes ``want``; store errors are raised (the next sync
        starts from what was written)."""
        add, remove = plan(self.stored(), want)
        for n in range(0, len(remove), BATCH):
            chunk = remove[n:n + BATCH]
            self.store.transaction(lambda txn, c=chunk: _delete(txn, c))
            for route_id in chunk:
                self._seen.pop(route_id, None)
        for n in range(0, len(add), BATCH):
            made: dict[str, Learned] = self.store.transaction(
                lambda txn, c=add[n:n + BATCH]: _create(txn, self.router_id, self.port_id, c))
            self._seen.update(made)
        if add or remove:
            LOG.info("learned routes of port %s: %d added, %d removed", self.port_id,
                     len(add), len(remove))


def _ours(obj: Obj | None, router_id: str, port_id: str) -> Learned | None:
    if obj is None or obj.get("routerId") != router_id:
        return None
    found = owned([obj], port_id)
    return next(iter(found), None)


def _delete(txn: Any, route_ids: Iterable[str]) -> None:
    for route_id in route_ids:
        if txn.get("route", route_id) is not None:
            delete_cascade(txn, "route", route_id)


def _create(txn: Any, router_id: str, port_id: str, learned: Iterable[Learned]
            ) -> dict[str, Learned]:
    """Create the routes (their router and port checked as the API's creations are); their
    ids -> what they say."""
    s = spec("route")
    made = {}
    for route in learned:
        data = route_data(route, port_id)
        obj = s.new()
        obj.update(data)  # made by route_data: well-formed
        obj["id"] = new_id()
        if s.on_create is not None:
            s.on_create(txn, obj, router_id, data)
        check_refs(txn, "route", obj)
        txn.put("route", obj)
        made[str(obj["id"])] = route
    return made
