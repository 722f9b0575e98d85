"""The agent holds packets waiting for ARP and sends them on when the entry appears.

One host, VMs on two bridges behind a router::

    vm1 (ofport 1) --[left]-- r 10.0.0.1/24 | 10.0.1.1/24 --[right]-- vm2 (ofport 2)
"""

from __future__ import annotations

import pytest
from fakeclock import Clock

from ryu_midonet.agent.arpwait import HOLD_SECONDS, QUEUE_LENGTH, HeldPackets
from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import PacketHandler
from ryu_midonet.datapath import packets
from ryu_midonet.datapath.flows import FlowSpec, Message, PacketOut, output
from ryu_midonet.sim.core.model import Packet
from ryu_midonet.sim.state import State
from tests.support.packets import icmp
from tests.support.packets import udp as udp_packet
from tests.support.topology import MemoryTopology

VM1, VM2 = "02:00:00:00:00:01", "02:00:00:00:00:02"
RL, RR = "02:aa:00:00:00:01", "02:aa:00:00:00:02"
TAG = "arp:r:10.0.1.12"


class Agent:
    def __init__(self, clock: Clock) -> None:
        b = MemoryTopology()
        left, right, r = b.bridge("left"), b.bridge("right"), b.router("r")
        b.bridge_port(left, port_id="vm1", host="h", tunnelKey=1)
        b.bridge_port(right, port_id="vm2", host="h", tunnelKey=2)
        b.link(b.bridge_port(left, port_id="left:up"),
               b.router_port(r, "10.0.0.1/24", RL, port_id="r:left"))
        b.link(b.bridge_port(right, port_id="right:up"),
               b.router_port(r, "10.0.1.1/24", RR, port_id="r:right"))
        self.state = State.in_memory(clock=clock)
        self.state.macs.learn("right", VM2, None, "vm2")
        self.handler = PacketHandler(b.view(), self.state, FlowIndex(), "h",
                                     {"vm1": 1, "vm2": 2}, {}, held=HeldPackets(clock=clock))

    def send(self, port_id: str, packet: Packet) -> list[Message]:
        ofport = {"vm1": 1, "vm2": 2}[port_id]
        return self.handler.handle(port_id, ofport, packet, packets.build(packet))


@pytest.fixture
def agent(clock: Clock) -> Agent:
    return Agent(clock)


def udp(sport: int, dst: str = "10.0.1.12") -> Packet:
    return udp_packet(VM1, RL, "10.0.0.11", dst, sport, 53)


def delivered(messages: list[Message], ofport: int) -> list[Packet]:
    """The packets the packet-outs send out of ``ofport``, with the actions' rewrites."""
    out = []
    for m in messages:
        if not isinstance(m, PacketOut):
            continue
        packet = packets.parse(m.data)
        assert packet is not None
        for action in m.actions:
            if action.kind == "set_field":
                packet = packet.replace(**{action.args[0]: action.args[1]})
            elif action.kind == "dec_ttl":
                packet = packet.replace(nw_ttl=(packet.nw_ttl or 0) - 1)
            elif action == output(ofport):
                out.append(packet)
    return out


def test_the_first_packet_is_held_and_the_arp_request_sent(agent: Agent) -> None:
    messages = agent.send("vm1", udp(1000))
    [request] = delivered(messages, 2)
    assert request.arp_op == 1 and request.arp_tpa == "10.0.1.12"
    assert not any(isinstance(m, FlowSpec) for m in messages)
    assert len(agent.handler.held) == 1


def test_held_packets_are_delivered_in_order_when_the_entry_appears(agent: Agent) -> None:
    for sport in (1000, 1001, 1002):
        agent.send("vm1", udp(sport))
    assert agent.handler.release(TAG) == []  # not resolved yet: they keep waiting
    agent.state.arps.put("r", "10.0.1.12", VM2)
    messages = agent.handler.release(TAG)
    got = delivered(messages, 2)
    assert [p.udp_src for p in got] == [1000, 1001, 1002]
    assert all(p.eth_dst == VM2 and p.eth_src == RR and p.nw_ttl == 63 for p in got)
    # the raw frames go out through their ingress port's packet-outs, with the flow installed
    assert any(isinstance(m, FlowSpec) for m in messages)
    assert len(agent.handler.held) == 0 and agent.handler.release(TAG) == []


def test_an_entry_for_another_next_hop_releases_nothing(agent: Agent) -> None:
    agent.send("vm1", udp(1000))
    agent.state.arps.put("r", "10.0.1.99", VM2)
    assert agent.handler.release("arp:r:10.0.1.99") == []
    assert len(agent.handler.held) == 1


def test_held_packets_time_out(agent: Agent, clock: Clock) -> None:
    agent.send("vm1", udp(1000))
    clock.now += HOLD_SECONDS / 2
    agent.send("vm1", udp(1001))
    clock.now += HOLD_SECONDS / 2 + 0.01
    assert agent.handler.held.expire() == 1
    agent.state.arps.put("r", "10.0.1.12", VM2)
    assert [p.udp_src for p in delivered(agent.handler.release(TAG), 2)] == [1001]


def test_the_queue_per_next_hop_is_bounded_and_keeps_the_newest(agent: Agent) -> None:
    for sport in range(1000, 1000 + QUEUE_LENGTH + 3):
        agent.send("vm1", udp(sport))
        agent.send("vm1", udp(sport, dst="10.0.1.13"))  # another next hop, its own queue
    assert len(agent.handler.held) == 2 * QUEUE_LENGTH
    agent.state.arps.put("r", "10.0.1.12", VM2)
    got = delivered(agent.handler.release(TAG), 2)
    assert [p.udp_src for p in got] == list(range(1003, 1000 + QUEUE_LENGTH + 3))


def test_a_packet_resolved_while_it_was_simulated_is_not_left_behind(agent: Agent) -> None:
    """The entry appeared between the simulation and the hold: no announcement will come."""
    real_get = agent.state.arps.get
    calls = []

    def racing_get(router_id: str, ip: str) -> str | None:
        calls.append(ip)
        if len(calls) == 1:  # the simulation's look-up misses; the reply lands right after
            return None
        return real_get(router_id, ip)

    agent.state.arps.put("r", "10.0.1.12", VM2)
    agent.state.arps.get = racing_get  # type: ignore[method-assign]
    messages = agent.send("vm1", udp(1000))
    assert [p.udp_src for p in delivered(messages, 2) if p.udp_src] == [1000]
    assert len(agent.handler.held) == 0


def test_icmp_errors_to_an_unresolved_sender_wait_too(agent: Agent) -> None:
    agent.state.macs.learn("left", VM1, None, "vm1")
    error = icmp(VM2, RR, "10.0.1.12", "10.0.0.11", 3, 3, payload=bytes(28))
    assert [p.arp_tpa for p in delivered(agent.send("vm2", error), 1)] == ["10.0.0.11"]
    agent.state.arps.put("r", "10.0.0.11", VM1)
    [back] = delivered(agent.handler.release("arp:r:10.0.0.11"), 1)
    assert (back.icmpv4_type, back.icmpv4_code, back.eth_dst) == (3, 3, VM1)
