"""Which pools are monitored, and where their probes leave."""

from __future__ import annotations

import ipaddress
from typing import Any

from ryu_midonet.healthmon import pools, wiring


class View:
    def __init__(self, objects: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.objects = objects

    def get(self, kind: str, obj_id: str | None) -> dict[str, Any] | None:
        return self.objects.get(kind, {}).get(obj_id or "")

    def all_of(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.objects.get(kind, {})


def topology(hm_up: bool = True, attached: bool = True, router: str | None = "r1") -> View:
    return View({
        "router": {"r1": {"id": "r1"}},
        "loadBalancer": {"lb1": {"id": "lb1", "routerId": router}},
        "healthMonitor": {"hm1": {"id": "hm1", "delay": 2, "timeout": 1, "maxRetries": 3,
                                  "adminStateUp": hm_up}},
        "pool": {"p1": {"id": "p1", "loadBalancerId": "lb1", "adminStateUp": True,
                        "healthMonitorId": "hm1" if attached else None},
                 "p2": {"id": "p2", "loadBalancerId": "lb1", "adminStateUp": True,
                        "healthMonitorId": None}},
        "poolMember": {"m1": {"id": "m1", "poolId": "p1", "address": "10.0.0.5",
                              "protocolPort": 80, "status": "INACTIVE"}},
    })


def test_a_pool_with_an_admin_up_monitor_on_a_routed_load_balancer_is_monitored() -> None:
    found = pools.monitored(topology())
    assert list(found) == ["p1"]
    p1 = found["p1"]
    assert (p1.router_id, p1.delay, p1.timeout, p1.max_retries) == ("r1", 2.0, 1.0, 3)
    assert p1.targets["m1"].address == "10.0.0.5" and p1.stored == {"m1": "INACTIVE"}
    assert pools.unmonitored(topology()) == ["p2"]


def test_admin_down_detached_or_routerless_monitors_monitor_nothing() -> None:
    assert pools.monitored(topology(hm_up=False)) == {}
    assert pools.monitored(topology(attached=False)) == {}
    assert pools.monitored(topology(router=None)) == {}
    assert pools.monitored(topology(router="gone")) == {}


def test_each_pool_gets_a_link_block_apart_from_the_routers_other_subnets() -> None:
    first = wiring.pick_block("p1", [])
    assert first.prefixlen == 30 and first.subnet_of(wiring.LINK_NET)
    other = wiring.pick_block("p1", [first, ipaddress.IPv4Network("10.0.0.0/24")])
    assert other != first and not other.overlaps(first)
    assert wiring.port_id("p1") == wiring.port_id("p1") != wiring.port_id("p2")
    names = wiring.names("rm-", "0123456789ab-cdef")
    assert max(len(names.outside), len(names.inside)) <= 15


def test_a_member_without_a_usable_port_is_not_probed() -> None:
    view = topology()
    view.objects["poolMember"]["m2"] = {"id": "m2", "poolId": "p1", "address": "10.0.0.6",
                                        "protocolPort": None}
    view.objects["poolMember"]["m3"] = {"id": "m3", "poolId": "p1", "address": "example.com",
                                        "protocolPort": 80}
    assert list(pools.monitored(view)["p1"].targets) == ["m1"]
