"""The shared topology builder: the same calls give the same topology in memory, in the
store and through the REST API."""

from __future__ import annotations

from typing import Any

import pytest

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.types import Obj
from tests.support.topology import Builder, MemoryTopology, RestTopology, StoreTopology

pytestmark = pytest.mark.integration

HOST = "00000000-0000-4000-8000-000000000001"


def build(b: Builder) -> dict[str, Obj]:
    """A router between two bridges, a default route, a chain of two rules, a bound port."""
    r, left, right = b.router("r"), b.bridge("left"), b.bridge("right")
    vm = b.port(left)
    up = b.port(r, "192.0.2.1/24", "02:aa:00:00:00:09")
    for n, (bridge, cidr) in enumerate(((left, "10.0.0.1/24"), (right, "10.0.1.1/24"))):
        b.link(b.port(r, cidr, f"02:aa:00:00:00:0{n}"), b.port(bridge))
    route = b.route(r, "0.0.0.0/0", up, gw="192.0.2.254")
    chain = b.chain("c")
    drop = b.rule(chain, "drop", nwProto=6)
    accept = b.rule(chain, "accept", pos=1)
    b.bind(vm, HOST, "tap0")
    return {"r": r, "vm": vm, "up": up, "route": route, "chain": chain, "drop": drop,
            "accept": accept}


def shape(topo: Topology, made: dict[str, Obj]) -> dict[str, Any]:
    """What a built topology holds, independent of ids."""
    route = topo.get("route", made["route"]["id"])
    ports = topo.list("port")
    return {
        "bridges": sorted(o["name"] for o in topo.list("bridge")),
        "router ports": sorted(p["portAddress"] for p in ports if p["type"] == "Router"),
        "links": sum(p["peerId"] is not None for p in ports) // 2,
        "route": (route["dstNetworkLength"], route["nextHopGateway"], route["weight"]),
        "rules": [r["type"] for r in topo.rules_of(made["chain"]["id"])],
        "binding": (topo.get("port", made["vm"]["id"])["hostId"],
                    topo.get("port", made["vm"]["id"])["interfaceName"]),
    }


def memory_shape(b: MemoryTopology, made: dict[str, Obj]) -> dict[str, Any]:
    ports = list(b.objects["port"].values())
    route, chain = made["route"], made["chain"]
    return {
        "bridges": sorted(o["name"] for o in b.objects["bridge"].values()),
        "router ports": sorted(p["portAddress"] for p in ports if p["type"] == "Router"),
        "links": sum(p["peerId"] is not None for p in ports) // 2,
        "route": (route["dstNetworkLength"], route["nextHopGateway"], route["weight"]),
        "rules": [b.objects["rule"][i]["type"] for i in chain["ruleIds"]],
        "binding": (made["vm"]["hostId"], made["vm"]["interfaceName"]),
    }


EXPECTED = {"bridges": ["left", "right"],
            "router ports": ["10.0.0.1", "10.0.1.1", "192.0.2.1"], "links": 2,
            "route": (0, "192.0.2.254", 100), "rules": ["accept", "drop"],
            "binding": (HOST, "tap0")}


def test_memory_back_end() -> None:
    b = MemoryTopology()
    assert memory_shape(b, build(b)) == EXPECTED


def host_in_a_zone(redis_url: str) -> Topology:
    """The store, with one registered host in a tunnel zone (ports may be bound to it)."""
    topo = Topology(Store.from_url(redis_url))
    topo.register_host(HOST, "h1")
    zone = topo.create("tunnelZone", {"name": "z", "type": "vxlan"})
    topo.add_tunnel_zone_member(zone["id"], HOST, "192.168.0.1")
    return topo


def test_store_back_end(redis_url: str) -> None:
    topo = host_in_a_zone(redis_url)
    assert shape(topo, build(StoreTopology(topo))) == EXPECTED


def test_rest_back_end(api_url: str, redis_url: str) -> None:
    topo = host_in_a_zone(redis_url)
    assert shape(topo, build(RestTopology(api_url))) == EXPECTED
