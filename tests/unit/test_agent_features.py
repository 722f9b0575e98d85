"""The agent calls its features' hooks at the right moments and sends what they return.

The agent app is driven without Open vSwitch or Redis: its bindings are a stand-in that
plugs the ports a test asks for, its switch is the in-memory fake switch.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from fakeclock import Clock

from ryu_midonet.agent import features
from ryu_midonet.agent.features import AgentContext, FeatureBase, Features
from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.missqueue import MissQueue
from ryu_midonet.agent.proactive import Compiler
from ryu_midonet.agent.sender import Sender
from ryu_midonet.agent.tagset import Parents
from ryu_midonet.apps import agent as agent_app
from ryu_midonet.apps.agent import AgentApp
from ryu_midonet.datapath import packets
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.fakeswitch import FakeSwitch
from ryu_midonet.datapath.flows import (
    TO_CONTROLLER,
    FlowDelete,
    FlowSpec,
    Message,
    PacketOut,
    output,
)
from ryu_midonet.sim.core.model import Packet
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.state import State

ARP = 0x0806
COOKIE_FEATURE = 0x7E


def arp_flow(ofport: int) -> FlowSpec:
    """A feature's flow: ARP from ``ofport`` to the agent (in the flow table's contract)."""
    return FlowSpec(p.TABLE_FLOWS, 200, {"in_port": ofport, "eth_type": ARP},
                    (TO_CONTROLLER,), cookie=p.cookie(COOKIE_FEATURE, ofport))


def bad_flow() -> FlowSpec:
    """A flow that breaks the classify table's contract (it matches a packet field)."""
    return FlowSpec(p.TABLE_CLASSIFY, 300, {"in_port": 9, "eth_type": ARP}, (output(1),))


class Recorder(FeatureBase):
    """A feature that records every hook call and answers with switch messages."""

    name = "recorder"

    def __init__(self, claim: bool = False, interval: float = 0.0) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.claim = claim
        self.interval = interval
        self.answer: list[Message] = []

    def start(self, agent: AgentContext) -> None:
        self.calls.append(("start", agent.host_id))

    def stop(self) -> None:
        self.calls.append(("stop",))

    def port_flows(self, port_id: str, ofport: int, plugged: bool) -> list[Message]:
        self.calls.append(("port_flows", port_id, ofport, plugged))
        if plugged:
            return [arp_flow(ofport)]
        return [FlowDelete(p.cookie(COOKIE_FEATURE, ofport))]

    def topology_changed(self, op: str, kind: str, obj_id: str) -> list[Message]:
        self.calls.append(("topology_changed", op, kind, obj_id))
        return list(self.answer)

    def packet_in(self, port_id: str, in_port: int, packet: Packet, data: bytes
                  ) -> list[Message] | None:
        self.calls.append(("packet_in", port_id, in_port, packet.eth_type))
        if not self.claim:
            return None
        return [PacketOut(data, (output("in_port"),), in_port=in_port)]

    def periodic(self) -> list[Message]:
        self.calls.append(("periodic",))
        return list(self.answer)


class FakeBindings:
    """Plugs exactly the ports in :attr:`want` on :meth:`reconcile`, as the real ones do."""

    def __init__(self) -> None:
        self.want: dict[str, int] = {}
        self.ofports: dict[str, int] = {}
        self.changed: set[str] = set()

    def reconcile(self) -> list[Message]:
        messages: list[Message] = []
        for port_id in [pid for pid in self.ofports if pid not in self.want]:
            self.changed.add(port_id)
            messages.append(FlowDelete(p.cookie(p.COOKIE_CLASSIFY, self.ofports.pop(port_id))))
        for port_id, ofport in self.want.items():
            if port_id not in self.ofports:
                self.ofports[port_id] = ofport
                self.changed.add(port_id)
                messages += tr.port_flows(ofport, ofport)
        return messages

    def take_changed(self) -> set[str]:
        changed, self.changed = self.changed, set()
        return changed

    def port_flows(self) -> list[FlowSpec]:
        return [f for n in self.ofports.values() for f in tr.port_flows(n, n)]

    def port_at(self, ofport: int) -> str | None:
        return next((pid for pid, n in self.ofports.items() if n == ofport), None)


class FakeHandler:
    def __init__(self) -> None:
        self.handled: list[str] = []

    def handle(self, port_id: str, in_port: int, packet: Packet, data: bytes
               ) -> list[Message]:
        self.handled.append(port_id)
        return []


def make_agent(feats: Features, check: bool = False) -> AgentApp:
    """An agent app with stand-ins for what needs a store or an Open vSwitch."""
    app = AgentApp.__new__(AgentApp)
    app.features = feats
    app.sender = Sender(check=check)
    app.bindings = FakeBindings()  # type: ignore[assignment]
    app.index = FlowIndex()
    app.handler = FakeHandler()  # type: ignore[assignment]
    app.tunnels = {}
    app.cache = SimpleNamespace(get=lambda kind, obj_id: None, connected=True)
    app._pending_tags = set()
    app._pending_messages = []
    app._stop = threading.Event()
    app.proactive = Compiler(DictView(), State.in_memory(), app.index, "host", {}, {},
                             enabled=False)
    app.misses = MissQueue()
    app.parents = Parents(agent_app.PARENT_FIELDS)
    return app


def connect(app: AgentApp) -> FakeSwitch:
    switch = FakeSwitch()
    app.switch_features(SimpleNamespace(msg=SimpleNamespace(datapath=switch.datapath)))
    return switch


def cookies(switch: FakeSwitch) -> set[int]:
    return {entry.cookie for entry in switch.flows}


def packet_in(app: AgentApp, in_port: int, packet: Packet) -> None:
    msg = SimpleNamespace(match={"in_port": in_port}, data=packets.build(packet))
    app.packet_in(SimpleNamespace(msg=msg))
    while app.serve_miss():  # what the agent's worker does
        pass


ARP_REQUEST = Packet(eth_src="02:00:00:00:00:01", eth_dst="ff:ff:ff:ff:ff:ff", eth_type=ARP,
                     arp_op=1, arp_spa="10.0.0.1", arp_tpa="10.0.0.2",
                     arp_sha="02:00:00:00:00:01", arp_tha="00:00:00:00:00:00")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def agent(recorder: Recorder) -> AgentApp:
    feats = Features()
    feats.register(recorder)
    return make_agent(feats)


def test_port_flows_when_a_port_is_plugged_and_unplugged(agent: AgentApp,
                                                         recorder: Recorder) -> None:
    switch = connect(agent)
    agent.bindings.want = {"vm1": 1}  # type: ignore[attr-defined]
    agent._send(agent._reconcile())
    assert recorder.calls == [("port_flows", "vm1", 1, True)]
    assert p.cookie(COOKIE_FEATURE, 1) in cookies(switch)

    agent.bindings.want = {}  # type: ignore[attr-defined]
    agent._send(agent._reconcile())
    assert recorder.calls[1:] == [("port_flows", "vm1", 1, False)]
    assert p.cookie(COOKIE_FEATURE, 1) not in cookies(switch)
    agent._send(agent._reconcile())  # nothing changed: no call
    assert len(recorder.calls) == 2


def test_port_flows_again_for_every_plugged_port_when_the_switch_connects(
        agent: AgentApp, recorder: Recorder) -> None:
    agent.bindings.want = {"vm1": 1, "vm2": 2}  # type: ignore[attr-defined]
    agent._reconcile()  # plugged before any switch connected: nothing reached one
    recorder.calls.clear()
    switch = connect(agent)  # the switch starts empty: the feature's flows come back
    assert sorted(recorder.calls) == [("port_flows", "vm1", 1, True),
                                      ("port_flows", "vm2", 2, True)]
    assert {p.cookie(COOKIE_FEATURE, 1), p.cookie(COOKIE_FEATURE, 2)} <= cookies(switch)


def test_topology_change_is_passed_on_and_answered_after_the_poll(
        agent: AgentApp, recorder: Recorder) -> None:
    switch = connect(agent)
    agent.bindings.want = {"vm1": 1}  # type: ignore[attr-defined]
    recorder.answer = [arp_flow(7)]
    agent._on_topology_change("update", "bridge", "br1")
    agent._on_topology_change("delete", "port", "p9")
    assert recorder.calls == [("topology_changed", "update", "bridge", "br1"),
                              ("topology_changed", "delete", "port", "p9")]
    assert p.cookie(COOKIE_FEATURE, 7) not in cookies(switch)  # sent with the batch
    agent._after_changes()
    assert p.cookie(COOKIE_FEATURE, 7) in cookies(switch)
    assert ("port_flows", "vm1", 1, True) in recorder.calls
    assert agent._pending_messages == []


def test_a_claimed_packet_is_not_simulated_and_its_answer_is_sent(agent: AgentApp) -> None:
    claimer = Recorder(claim=True)
    agent.features.register(claimer)
    switch = connect(agent)
    agent.bindings.want = {"vm1": 1}  # type: ignore[attr-defined]
    agent._send(agent._reconcile())
    packet_in(agent, 1, ARP_REQUEST)
    assert ("packet_in", "vm1", 1, ARP) in claimer.calls
    assert agent.handler.handled == []  # type: ignore[attr-defined]
    assert [[port for port, _ in out.outputs] for out in switch.packet_outs] == [[1]]


def test_an_unclaimed_packet_is_simulated(agent: AgentApp, recorder: Recorder) -> None:
    connect(agent)
    agent.bindings.want = {"vm1": 1}  # type: ignore[attr-defined]
    agent._send(agent._reconcile())
    packet_in(agent, 1, ARP_REQUEST)
    assert recorder.calls[-1] == ("packet_in", "vm1", 1, ARP)
    assert agent.handler.handled == ["vm1"]  # type: ignore[attr-defined]


def test_periodic_work_runs_and_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    ticker = Recorder(interval=0.01)
    ticker.answer = [arp_flow(5)]
    feats = Features()
    feats.register(ticker)
    agent = make_agent(feats)
    switch = connect(agent)
    monkeypatch.setattr(agent_app, "PERIODIC_TICK", 0.01)
    thread = threading.Thread(target=agent._run_periodic)
    thread.start()
    deadline = time.monotonic() + 5
    while p.cookie(COOKIE_FEATURE, 5) not in cookies(switch) and time.monotonic() < deadline:
        time.sleep(0.01)
    agent._stop.set()
    thread.join()
    assert ("periodic",) in ticker.calls
    assert p.cookie(COOKIE_FEATURE, 5) in cookies(switch)


def test_periodic_every_interval(clock: Clock) -> None:
    feats = Features(clock=clock)
    slow, never = Recorder(interval=10), Recorder(interval=0)
    feats.register(slow)
    feats.register(never)
    feats.start(AgentContext("h", None, None, {}))
    assert feats.periodic() == []
    clock.now += 9.9
    feats.periodic()
    assert ("periodic",) not in slow.calls
    clock.now += 0.1
    feats.periodic()
    clock.now += 5
    feats.periodic()
    assert slow.calls.count(("periodic",)) == 1
    assert ("periodic",) not in never.calls


def test_start_and_stop_reach_every_feature_and_a_failing_hook_is_contained(
        caplog: pytest.LogCaptureFixture) -> None:
    class Broken(FeatureBase):
        name = "broken"

        def start(self, agent: AgentContext) -> None:
            raise RuntimeError("cannot start")

        def port_flows(self, port_id: str, ofport: int, plugged: bool) -> list[Message]:
            raise RuntimeError("no flows")

    feats = Features()
    first, second = Recorder(), Recorder()
    for feature in (first, Broken(), second):
        feats.register(feature)
    feats.start(AgentContext("host-1", None, None, {}))
    assert feats.port_flows("vm1", 1, True) == [arp_flow(1), arp_flow(1)]
    feats.stop()
    for feature in (first, second):
        assert feature.calls == [("start", "host-1"), ("port_flows", "vm1", 1, True),
                                 ("stop",)]
    assert "feature broken failed in start" in caplog.text
    assert "feature broken failed in port_flows" in caplog.text


def test_first_claim_wins() -> None:
    feats = Features()
    first, second, third = Recorder(), Recorder(claim=True), Recorder(claim=True)
    for feature in (first, second, third):
        feats.register(feature)
    claimed = feats.packet_in("vm1", 1, ARP_REQUEST, b"x")
    assert claimed is not None and len(claimed) == 1
    assert [len(f.calls) for f in (first, second, third)] == [1, 1, 0]


def test_register_adds_to_the_process_registry_once() -> None:
    feature = Recorder()
    features.register(feature)
    features.register(feature)
    try:
        assert features.REGISTRY.features.count(feature) == 1
        assert feature in features.REGISTRY.features
    finally:
        features.REGISTRY.features.remove(feature)


def test_with_contract_checks_a_features_bad_flow_is_logged_and_not_sent(
        caplog: pytest.LogCaptureFixture) -> None:
    feature = Recorder()
    feature.answer = [bad_flow(), arp_flow(3)]
    feats = Features()
    feats.register(feature)
    agent = make_agent(feats, check=True)
    switch = connect(agent)
    agent._on_topology_change("create", "router", "r1")
    agent._after_changes()  # the fake switch would raise on the bad flow
    assert p.cookie(COOKIE_FEATURE, 3) in cookies(switch)
    assert not any(entry.priority == 300 for entry in switch.flows)
    assert "breaks its table's contract" in caplog.text
