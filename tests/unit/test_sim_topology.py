"""Topology views: plain dicts, and an agent's topology cache as it changes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ryu_midonet.sim.core.topology import CacheView, DictView, is_bound, is_interior
from tests.support.topology import MemoryTopology


def test_dict_view_indexes_ports_and_routes_by_device_in_id_order() -> None:
    view = DictView({
        "port": {"p2": {"id": "p2", "deviceId": "b"}, "p1": {"id": "p1", "deviceId": "b"},
                 "p3": {"id": "p3", "deviceId": "r"}},
        "route": {"rt": {"id": "rt", "routerId": "r"}},
    })
    assert [p["id"] for p in view.ports_of("b")] == ["p1", "p2"]
    assert [r["id"] for r in view.routes_of("r")] == ["rt"]
    assert view.ports_of("nothing") == [] and view.routes_of("b") == []
    assert view.get("port", "p3") == {"id": "p3", "deviceId": "r"}
    assert view.get("port", None) is None and view.get("bridge", "x") is None


def test_cache_view_follows_the_cache_version() -> None:
    cache: Any = SimpleNamespace(version=1, objects={"port": {
        "p1": {"id": "p1", "deviceId": "b"}}})
    view = CacheView(cache)
    assert [p["id"] for p in view.ports_of("b")] == ["p1"]
    cache.objects["port"]["p2"] = {"id": "p2", "deviceId": "b"}
    cache.version = 2
    assert [p["id"] for p in view.ports_of("b")] == ["p1", "p2"]
    cache.objects = {"port": {}}  # a resync replaces the whole mapping
    assert view.ports_of("b") == []


def test_port_kinds() -> None:
    assert is_interior({"peerId": "x", "hostId": None})
    assert not is_bound({"peerId": "x", "hostId": "h"})
    assert is_bound({"peerId": None, "hostId": "h"})
    assert not is_bound({"peerId": None, "hostId": None})


def test_builder_gives_router_ports_their_routes() -> None:
    b = MemoryTopology()
    r = b.router("r")
    port = b.router_port(r, "10.0.0.1/24", "02:aa:00:00:00:01")
    routes = b.view().routes_of("r")
    assert {(x["dstNetworkAddr"], x["dstNetworkLength"], x["weight"], x["nextHopPort"])
            for x in routes} == {("10.0.0.1", 32, 0, port["id"]), ("10.0.0.0", 24, 0, port["id"])}
    assert port["networkAddress"] == "10.0.0.0" and port["adminStateUp"] is True
