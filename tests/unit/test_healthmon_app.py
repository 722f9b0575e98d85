"""The health_monitor app with fake leases, wiring, probers and store: the elected host wires
and probes a pool; losing the election or the monitor stops the probes and removes the
namespace; a pool that lost its monitor gets its port removed and its members reset."""

from __future__ import annotations

from typing import Any

import pytest

from ryu_midonet.agent.features import AgentContext
from ryu_midonet.apps import health_monitor as app
from ryu_midonet.healthmon.election import Election
from ryu_midonet.sim.core.topology import DictView
from tests.unit.test_healthmon_election import Clock, FakeLeases


class FakeWiring:
    made: list[FakeWiring] = []

    def __init__(self, topo: Any, host_id: str, prefix: str, pool_id: str, router_id: str,
                 bridge: str = "br-int", ovsdb: str | None = None) -> None:
        self.pool_id, self.router_id, self.ups, self.downs = pool_id, router_id, 0, 0
        self.names = type("Names", (), {"netns": f"{prefix}hm-{pool_id}"})()
        FakeWiring.made.append(self)

    def up(self) -> bool:
        self.ups += 1
        return True

    def down(self) -> None:
        self.downs += 1


class FakeProber:
    made: list[FakeProber] = []

    def __init__(self, settings: Any, write: Any, netns: str | None = None) -> None:
        self.settings, self.netns, self.running, self.updates = settings, netns, False, 0
        FakeProber.made.append(self)

    def start(self) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False

    def update(self, settings: Any) -> None:
        self.settings = settings
        self.updates += 1


def objects(hm_up: bool = True) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        "router": {"r1": {"id": "r1"}},
        "loadBalancer": {"lb1": {"id": "lb1", "routerId": "r1"}},
        "healthMonitor": {"hm1": {"id": "hm1", "delay": 1, "timeout": 1, "maxRetries": 2,
                                  "adminStateUp": hm_up}},
        "pool": {"p1": {"id": "p1", "loadBalancerId": "lb1", "healthMonitorId": "hm1",
                        "adminStateUp": True}},
        "poolMember": {"m1": {"id": "m1", "poolId": "p1", "address": "10.0.0.5",
                              "protocolPort": 80, "status": "INACTIVE"}},
    }


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Any:
    FakeWiring.made.clear()
    FakeProber.made.clear()
    removed: list[str] = []
    reset: list[str] = []
    registry: set[str] = set()
    monkeypatch.setattr(app.wiring, "Wiring", FakeWiring)
    monkeypatch.setattr(app.prober, "Prober", FakeProber)
    monkeypatch.setattr(app.wiring, "registered", lambda topo: set(registry))
    monkeypatch.setattr(app.wiring, "remove_port",
                        lambda topo, pool_id: removed.append(pool_id) or True)
    monkeypatch.setattr(app.status, "reset", lambda store, pool_id: reset.append(pool_id))
    monkeypatch.setattr(app, "Topology", lambda store: object())
    view = DictView(objects())
    svc = app.HealthMonitorService()
    clock = Clock()
    leases = FakeLeases(clock)
    monkeypatch.setattr(app.election, "RedisLeases", lambda store: leases)
    svc.start(AgentContext("me", object(), view, {}))
    svc.election = Election(leases, "me", 3000, clock)
    return svc, view, leases, clock, removed, reset, registry


def test_the_elected_host_wires_and_probes_the_pool(service: Any) -> None:
    svc, _, leases, _, _, reset, _ = service
    svc.periodic()
    assert leases.holder("p1") == "me"
    (wire,), (probe,) = FakeWiring.made, FakeProber.made
    assert (wire.pool_id, wire.router_id, probe.running) == ("p1", "r1", True)
    assert probe.netns == "rm-hm-p1" and probe.settings.max_retries == 2
    svc.periodic()
    assert len(FakeProber.made) == 1 and probe.updates == 1
    assert reset == []  # a monitored pool's statuses are the prober's


def test_a_host_that_loses_the_election_stops_and_removes_its_namespace(service: Any) -> None:
    svc, _, leases, clock, removed, _, _ = service
    svc.periodic()
    leases.leases["p1"] = ("other", clock() + 3)  # taken while this host stalled
    svc.periodic()
    (wire,), (probe,) = FakeWiring.made, FakeProber.made
    assert not probe.running and wire.downs == 1
    assert removed == [] and "p1" not in svc.running  # the port stays for the new holder


def test_a_pool_that_loses_its_monitor_is_unwired_and_its_members_reset(service: Any) -> None:
    svc, view, leases, _, removed, reset, _ = service
    svc.periodic()
    view.objects()["healthMonitor"]["hm1"]["adminStateUp"] = False
    svc.periodic()
    (wire,), (probe,) = FakeWiring.made, FakeProber.made
    assert not probe.running and wire.downs == 1 and removed == ["p1"]
    assert leases.holder("p1") is None
    assert reset == ["p1"]  # m1 was INACTIVE


def test_a_port_left_by_a_pool_nobody_monitors_is_removed(service: Any) -> None:
    svc, view, leases, _, removed, _, registry = service
    view.objects()["pool"]["p1"]["healthMonitorId"] = None
    registry.add("p1")
    svc.periodic()
    assert removed == ["p1"] and leases.holder("p1") is None
    assert FakeProber.made == []


def test_stopping_gives_the_pools_up_at_once(service: Any) -> None:
    svc, _, leases, _, _, _, _ = service
    svc.periodic()
    svc.stop()
    assert leases.holder("p1") is None and not FakeProber.made[0].running
