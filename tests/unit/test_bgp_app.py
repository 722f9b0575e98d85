"""The bgp feature app with fake namespaces, bgpds and store: what it starts, the flows it
asks for, the learned routes and statuses it writes, and what it removes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from ryu_midonet.agent.features import AgentContext
from ryu_midonet.apps import bgp as app
from ryu_midonet.bgp import config, liveness, wire
from ryu_midonet.datapath.flows import FlowDelete, FlowSpec
from ryu_midonet.sim.core.topology import DictView
from tests.support.waiting import wait_until

ROUTER = {"id": "r", "asNumber": 64512}
UPLINK = {"id": "up", "type": "Router", "deviceId": "r", "portAddress": "198.51.100.2",
          "networkLength": 24, "portMac": "02:aa:00:00:00:01", "tunnelKey": 5}
PEER = {"id": "b", "routerId": "r", "address": "198.51.100.1", "asNumber": 64513}
NET = {"id": "n", "routerId": "r", "subnetAddress": "10.60.0.0", "subnetLength": 24}


class FakeNamespace:
    made: list[FakeNamespace] = []

    def __init__(self, names: Any, bridge: str, ovsdb: str | None = None) -> None:
        self.names, self.removed = names, False
        self.holder: int | None = None
        FakeNamespace.made.append(self)

    def setup(self, mac: str, address: str, length: int, holder: int | None = None) -> int:
        self.holder = holder
        return 9

    def remove(self) -> None:
        self.removed = True


class FakeBgpd:
    summary = json.dumps({"ipv4Unicast": {"peers": {
        "198.51.100.1": {"state": "Established", "pfxRcd": 1}}}})
    routes = json.dumps({"routes": {"203.0.113.0/24": [
        {"valid": True, "bestpath": True, "peerId": "198.51.100.1",
         "nexthops": [{"ip": "198.51.100.1"}]}]}})

    left: tuple[int, config.Speaker] | None = None  # a bgpd a killed agent left running
    pid = 4242

    def __init__(self, netns: str, run_dir: Any) -> None:
        self.netns, self.running = netns, False
        self.speakers: list[tuple[str, config.Speaker]] = []

    def leftover(self) -> int | None:
        return None if FakeBgpd.left is None else FakeBgpd.left[0]

    def adopt(self, spk: config.Speaker) -> bool:
        if FakeBgpd.left is None or FakeBgpd.left[1] != spk:
            return False
        self.running = True
        self.speakers.append(("adopt", spk))
        return True

    def stop_stale(self) -> None:
        FakeBgpd.left = None

    def start(self, spk: config.Speaker) -> None:
        self.running = True
        self.speakers.append(("start", spk))

    def apply(self, spk: config.Speaker) -> None:
        self.speakers.append(("apply", spk))

    def alive(self) -> bool:
        return self.running

    def stop(self) -> None:
        self.running = False

    def vtysh(self, commands: list[str]) -> str:
        return self.summary if "summary" in commands[0] else self.routes


class FakeTxn:
    def __init__(self, objects: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.objects = objects

    def get(self, kind: str, obj_id: str) -> dict[str, Any] | None:
        obj = self.objects.get(kind, {}).get(obj_id)
        return None if obj is None else dict(obj)

    def put(self, kind: str, obj: dict[str, Any]) -> None:
        self.objects.setdefault(kind, {})[obj["id"]] = obj

    def list_by(self, kind: str, field: str, value: str) -> list[dict[str, Any]]:
        return [dict(o) for o in self.objects.get(kind, {}).values() if o.get(field) == value]

    def ids_by(self, kind: str, field: str, value: str) -> list[str]:
        return [o["id"] for o in self.list_by(kind, field, value)]

    def delete(self, kind: str, obj_id: str) -> None:
        self.objects[kind].pop(obj_id, None)


class FakePipeline:
    def __init__(self, keys: dict[str, str]) -> None:
        self.keys, self.results = keys, []  # type: ignore[var-annotated]

    def set(self, key: str, value: str, px: int) -> None:
        self.keys[key] = value
        self.results.append(True)

    def exists(self, key: str) -> None:
        self.results.append(int(key in self.keys))

    def execute(self) -> list[Any]:
        return self.results


class FakeRedis:
    """Keys without expiry: a test expires a lease by deleting it."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}

    def pipeline(self, transaction: bool = True) -> FakePipeline:
        return FakePipeline(self.keys)

    def register_script(self, script: str) -> Any:
        def release(keys: list[str], args: list[str]) -> int:
            return int(self.keys.get(keys[0]) == args[0] and bool(self.keys.pop(keys[0])))
        return release


class FakeStore:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, dict[str, Any]]] = {
            "bgpPeer": {"b": dict(PEER)}, "router": {"r": dict(ROUTER)},
            "port": {"up": dict(UPLINK)}}
        self.redis = FakeRedis()

    def key_state(self, name: str) -> str:
        return f"{{t}}:state:{name}"

    def read(self, fn: Any) -> Any:
        return fn(FakeTxn(self.objects))

    def transaction(self, fn: Any) -> Any:
        return fn(FakeTxn(self.objects))


class FakeTopology:
    def __init__(self, store: FakeStore) -> None:
        self.store, self.n = store, 0

    def create(self, kind: str, data: dict[str, Any], parent_id: str) -> None:
        self.n += 1
        self.store.objects.setdefault(kind, {})[f"x{self.n}"] = {
            **data, "id": f"x{self.n}", "routerId": parent_id}

    def delete(self, kind: str, obj_id: str) -> None:
        del self.store.objects[kind][obj_id]


@pytest.fixture()
def service(monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[tuple[app.BgpService, FakeStore, DictView]]:
    monkeypatch.setattr("ryu_midonet.bgp.netns.Namespace", FakeNamespace)
    monkeypatch.setattr("ryu_midonet.bgp.bgpd.Bgpd", FakeBgpd)
    FakeNamespace.made = []
    FakeBgpd.left = None
    view = DictView({"router": {"r": dict(ROUTER)}, "port": {"up": dict(UPLINK)},
                     "bgpPeer": {"b": dict(PEER)}, "bgpNetwork": {"n": dict(NET)}})
    store = FakeStore()
    svc = app.BgpService()
    svc.start(AgentContext("h", store, view, {}))
    svc.topo = FakeTopology(store)  # type: ignore[assignment]
    yield svc, store, view
    svc.stop()


def test_a_plugged_uplink_gets_bgpd_and_flows_and_learned_routes(
        service: tuple[app.BgpService, FakeStore, DictView]) -> None:
    svc, store, _ = service
    messages = svc.port_flows("up", 3, True)
    assert isinstance(messages[0], FlowDelete)
    assert any(isinstance(m, FlowSpec) and m.match.get("in_port") == 3 for m in messages)
    daemon = svc.uplinks["up"].daemon
    assert isinstance(daemon, FakeBgpd) and daemon.running
    svc.periodic()
    [route] = store.objects["route"].values()
    assert (route["dstNetworkAddr"], route["nextHopGateway"], route["nextHopPort"],
            route["learned"]) == ("203.0.113.0", "198.51.100.1", "up", True)
    assert store.objects["bgpPeer"]["b"]["status"] == {"state": "Established",
                                                       "learnedRoutes": 1}
    svc.periodic()
    assert len(store.objects["route"]) == 1  # written once


def test_a_withdrawn_route_goes_and_unplugging_removes_everything(
        service: tuple[app.BgpService, FakeStore, DictView]) -> None:
    svc, store, _ = service
    svc.port_flows("up", 3, True)
    svc.periodic()
    daemon = svc.uplinks["up"].daemon
    assert isinstance(daemon, FakeBgpd)
    daemon.routes = json.dumps({"routes": {}})
    svc.periodic()
    assert store.objects["route"] == {}
    daemon.routes = FakeBgpd.routes
    svc.periodic()
    assert len(store.objects["route"]) == 1
    assert svc.port_flows("up", 3, False) == [FlowDelete(wire.delete(5).cookie)]
    assert not daemon.running and FakeNamespace.made[0].removed
    assert store.objects["route"] == {}


def test_a_dead_bgpd_is_started_again_and_a_port_without_peers_has_none(
        service: tuple[app.BgpService, FakeStore, DictView]) -> None:
    svc, store, view = service
    svc.port_flows("up", 3, True)
    daemon = svc.uplinks["up"].daemon
    assert isinstance(daemon, FakeBgpd)
    daemon.running = False
    svc.periodic()
    assert daemon.running and [kind for kind, _ in daemon.speakers] == ["start", "start"]
    assert store.objects["bgpPeer"]["b"]["status"]["state"] == "Idle"
    view.objects()["bgpPeer"].clear()
    assert svc.topology_changed("delete", "bgpPeer", "b") == [wire.delete(5)]
    assert "up" not in svc.uplinks and not daemon.running


def test_a_restarted_agent_takes_over_the_namespace_and_bgpd_a_killed_one_left(
        service: tuple[app.BgpService, FakeStore, DictView]) -> None:
    svc, _, _ = service
    svc.port_flows("up", 3, True)
    running = svc.uplinks["up"].daemon
    assert isinstance(running, FakeBgpd) and running.speakers[0][0] == "start"
    spk = running.speakers[0][1]

    FakeBgpd.left = (4242, spk)  # the same configuration: taken over, sessions stay up
    again = app.BgpService()
    again.start(svc.agent)  # type: ignore[arg-type]
    again.port_flows("up", 3, True)
    daemon = again.uplinks["up"].daemon
    assert isinstance(daemon, FakeBgpd) and daemon.speakers == [("adopt", spk)]
    assert FakeNamespace.made[-1].holder == 4242

    FakeBgpd.left = (4243, dataclasses.replace(spk, as_number=64599))  # another one: started anew
    third = app.BgpService()
    third.start(svc.agent)  # type: ignore[arg-type]
    third.port_flows("up", 3, True)
    daemon = third.uplinks["up"].daemon
    assert isinstance(daemon, FakeBgpd) and [k for k, _ in daemon.speakers] == ["start"]


LEASE = "{t}:state:bgpspeaker:up"


def test_a_running_uplink_holds_its_speaker_lease_and_gives_it_up_when_it_goes(
        service: tuple[app.BgpService, FakeStore, DictView]) -> None:
    svc, store, _ = service
    svc.port_flows("up", 3, True)
    assert store.redis.keys[LEASE] == "h"
    svc.port_flows("up", 3, False)
    assert LEASE not in store.redis.keys


def _foreign_uplink(store: FakeStore, view: DictView) -> None:
    """Port ``far``, bound elsewhere, with a route it learned."""
    far = {**UPLINK, "id": "far", "tunnelKey": 6}
    route = {"id": "lr", "routerId": "r", "nextHopPort": "far", "learned": True,
             "dstNetworkAddr": "203.0.113.0", "dstNetworkLength": 24,
             "nextHopGateway": "198.51.100.1"}
    store.objects["port"]["far"] = far
    store.objects["route"] = {"lr": dict(route)}
    view.objects()["port"]["far"] = dict(far)
    view.objects()["route"] = {"lr": dict(route)}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _reaper(svc: app.BgpService, store: FakeStore, clock: Clock) -> liveness.Reaper:
    """A reaper driven by hand (the service's own thread is stopped)."""
    assert svc._reaper is not None
    svc._reaper.stop()
    return liveness.Reaper(liveness.Leases(store), svc._foreign_learners, svc._reap, clock)


def test_routes_of_an_uplink_whose_host_holds_its_lease_stay(
        service: tuple[app.BgpService, FakeStore, DictView]) -> None:
    svc, store, view = service
    _foreign_uplink(store, view)
    store.redis.keys["{t}:state:bgpspeaker:far"] = "other-host"
    clock = Clock()
    reaper = _reaper(svc, store, clock)
    for _ in range(6):
        assert reaper.orphans() == []
        clock.now += 1


def test_routes_of_an_uplink_whose_lease_ran_out_are_deleted_by_another_host(
        service: tuple[app.BgpService, FakeStore, DictView]) -> None:
    svc, store, view = service
    _foreign_uplink(store, view)
    clock = Clock()
    reaper = _reaper(svc, store, clock)
    assert reaper.orphans() == []  # the store has just been reached: owners may not have
    clock.now += liveness.SETTLE   # renewed yet
    assert reaper.orphans() == ["far"]
    svc._reap(reaper.orphans())
    assert store.objects["route"] == {}


def test_the_reaper_thread_deletes_them_by_itself(
        service: tuple[app.BgpService, FakeStore, DictView]) -> None:
    svc, store, view = service
    _foreign_uplink(store, view)
    assert wait_until(lambda: store.objects["route"] == {},
                      timeout=liveness.SETTLE + 10 * liveness.TICK)


@pytest.mark.parametrize(("peers", "seconds"), [
    ((), 179.5),
    ((config.Peer("a", 1, keepalive=1, hold=3),), 2.5),
    ((config.Peer("a", 1, hold=9), config.Peer("b", 1)), 8.5),
    ((config.Peer("a", 1, hold=0),), 179.5),
    ((config.Peer("a", 1, keepalive=100),), 299.5),
    ((config.Peer("a", 1, hold=1),), 2.5),
])
def test_a_speaker_lease_lasts_its_shortest_hold_time(peers: tuple[config.Peer, ...],
                                                      seconds: float) -> None:
    assert liveness.lease_seconds(peers) == seconds
