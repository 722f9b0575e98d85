"""A flooded flow is tagged with its bridge, not with every port of it, and is still removed
exactly when something it sent to changes: a port created, moved to another host, deleted,
plugged or unplugged here."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from ryu_midonet.agent.features import Features
from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import PacketHandler
from ryu_midonet.agent.tagset import Parents, compact
from ryu_midonet.apps import agent as agent_app
from ryu_midonet.apps.agent import AgentApp
from ryu_midonet.datapath import packets
from ryu_midonet.datapath.flows import FlowDelete, FlowSpec, Message
from ryu_midonet.sim.core.model import Packet
from ryu_midonet.sim.state import State
from tests.support.topology import MemoryTopology

HERE, THERE = "here", "there"
SRC = "02:00:00:00:00:01"


class Cache:
    """What the agent reads of its topology cache: the builder's objects."""

    def __init__(self, objects: dict[str, dict[str, Any]]) -> None:
        self.objects = objects

    def get(self, kind: str, obj_id: str) -> dict[str, Any] | None:
        return self.objects.get(kind, {}).get(obj_id)


class Bindings:
    def __init__(self) -> None:
        self.changed: set[str] = set()
        self.ofports: dict[str, int] = {}

    def reconcile(self) -> list[Message]:
        return []

    def take_changed(self) -> set[str]:
        changed, self.changed = self.changed, set()
        return changed


class _Idle:
    def __getattr__(self, name: str) -> Callable[..., list[Message]]:
        return lambda *args, **kwargs: []


class Lab:
    """Two bridges of ``ports`` ports each (even ones here, odd ones elsewhere), an agent
    that caches what it simulates, and the topology changes it hears of."""

    def __init__(self, ports: int = 100) -> None:
        self.b = MemoryTopology()
        self.bridges = [self.b.bridge("br1"), self.b.bridge("br2")]
        self.b._put("tunnelZone", "tz", name="tz", type="vxlan", hostIds=[HERE, THERE],
                    tzHosts=[{"hostId": HERE, "ipAddress": "10.0.0.1"},
                             {"hostId": THERE, "ipAddress": "10.0.0.2"}])
        self.ofports: dict[str, int] = {}
        for br in self.bridges:
            for n in range(ports):
                port = self.b.bridge_port(br, host=HERE if n % 2 == 0 else THERE,
                                          tunnelKey=len(self.b.objects.get("port", {})) + 1)
                if n % 2 == 0:
                    self.ofports[port["id"]] = len(self.ofports) + 1
        self.view = self.b.view()
        self.index = FlowIndex()
        self.handler = PacketHandler(self.view, State.in_memory(), self.index, HERE,
                                     self.ofports, {"vxlan": 1000})
        self.agent = AgentApp.__new__(AgentApp)
        self.agent.features = Features()
        self.agent.cache = Cache(self.b.objects)  # type: ignore[assignment]
        self.agent.index = self.index
        self.agent.bindings = Bindings()  # type: ignore[assignment]
        self.agent.parents = Parents(agent_app.PARENT_FIELDS)
        self.agent.misses = _Idle()  # type: ignore[assignment]
        self.agent.proactive = _Idle()  # type: ignore[assignment]
        self.agent._pending_tags = set()
        self.agent._pending_messages = []
        self.agent._stop = threading.Event()
        for kind, objs in self.b.objects.items():  # the cache's first load
            for obj_id in objs:
                self.agent._on_topology_change("create", kind, obj_id)
        self.agent._pending_tags.clear()

    def port(self, bridge: int, n: int) -> str:
        return f"br{bridge + 1}:{n}"

    def send(self, bridge: int, dst: str) -> int:
        """A frame from the bridge's first port to ``dst``: the cookie of its flow."""
        in_port = self.port(bridge, 0)
        packet = Packet(eth_src=SRC, eth_dst=dst, eth_type=0x88B5)
        flows = [m for m in self.handler.handle(in_port, self.ofports[in_port], packet,
                                                packets.build(packet))
                 if isinstance(m, FlowSpec)]
        assert len(flows) == 1
        return flows[0].cookie

    def changed(self, op: str, kind: str, obj_id: str) -> set[int]:
        """The flows removed when the store announces this change."""
        self.agent._on_topology_change(op, kind, obj_id)
        return removed(self.agent._after_changes_messages())


def removed(messages: list[Message]) -> set[int]:
    return {m.cookie for m in messages if isinstance(m, FlowDelete)}


@pytest.fixture
def lab(monkeypatch: pytest.MonkeyPatch) -> Lab:
    lab = Lab()
    sent: list[list[Message]] = []
    monkeypatch.setattr(lab.agent, "_send", sent.append, raising=False)

    def after_changes() -> list[Message]:
        sent.clear()
        lab.agent._after_changes()
        return [m for batch in sent for m in batch]
    lab.agent._after_changes_messages = after_changes  # type: ignore[attr-defined]
    return lab


def test_a_flood_is_tagged_with_its_bridge_not_its_100_ports(lab: Lab) -> None:
    cookie = lab.send(0, "02:00:00:00:99:01")
    tags = lab.index._tags_of[cookie]
    assert "br1" in tags
    assert not tags & set(lab.b.objects["port"])
    # the bridge, the destination's MAC entry, the learned source, the tunnel zone
    assert len(tags) == 4


def test_a_port_moving_to_another_host_removes_the_floods_of_its_bridge_only(
        lab: Lab) -> None:
    flood1, flood2 = lab.send(0, "02:00:00:00:99:01"), lab.send(1, "02:00:00:00:99:01")
    lab.b.objects["port"][lab.port(0, 7)]["hostId"] = HERE
    assert lab.changed("update", "port", lab.port(0, 7)) == {flood1}
    assert flood2 in lab.index._tags_of


def test_a_port_deleted_removes_the_floods_of_its_bridge(lab: Lab) -> None:
    flood1, flood2 = lab.send(0, "02:00:00:00:99:01"), lab.send(1, "02:00:00:00:99:01")
    del lab.b.objects["port"][lab.port(1, 5)]  # gone from the cache before it is announced
    assert lab.changed("delete", "port", lab.port(1, 5)) == {flood2}
    assert flood1 in lab.index._tags_of


def test_a_port_created_on_a_bridge_removes_its_floods(lab: Lab) -> None:
    flood1 = lab.send(0, "02:00:00:00:99:01")
    port = lab.b.bridge_port(lab.bridges[0], host=THERE, tunnelKey=999)
    assert lab.changed("create", "port", port["id"]) == {flood1}


def test_a_port_plugged_or_unplugged_here_removes_the_floods_that_sent_to_it(
        lab: Lab) -> None:
    flood1, flood2 = lab.send(0, "02:00:00:00:99:01"), lab.send(1, "02:00:00:00:99:01")
    lab.agent.bindings.changed.add(lab.port(0, 4))  # type: ignore[attr-defined]
    assert removed(lab.agent._reconcile()) == {flood1}
    assert flood2 in lab.index._tags_of


def test_a_port_tag_stays_when_its_device_is_not_among_the_tags(lab: Lab) -> None:
    tags = {lab.port(0, 3), "br2"}
    assert compact(tags, lab.view) == tags
    assert compact(tags | {"br1"}, lab.view) == {"br1", "br2"}
