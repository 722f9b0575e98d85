"""Learned routes as router routes: what to add and what to remove.

A learned route is a normal route of the router with ``learned: true``, the peer as its
``nextHopGateway`` and the uplink port as its ``nextHopPort``; the routes a speaker owns are
those of its router with ``learned`` set and its port as next hop.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from ryu_midonet.bgp.rib import Learned

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
