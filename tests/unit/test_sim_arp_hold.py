"""A packet to a next hop the router has not resolved is held, not lost.

The topology::

    vm1 --[bridge left]-- left:up ~ r:left 10.0.0.1/24
                          router r  r:right 10.0.1.1/24 --[bridge right]-- vm2 10.0.1.12
"""

from __future__ import annotations

import pytest

from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import ArpWait, Packet
from ryu_midonet.sim.state import State
from tests.support import packets
from tests.support.matchers import assert_outputs, last_step
from tests.support.topology import MemoryTopology

VM1, VM2 = "02:00:00:00:00:01", "02:00:00:00:00:02"
RL, RR = "02:aa:00:00:00:01", "02:aa:00:00:00:02"


@pytest.fixture
def topo() -> MemoryTopology:
    b = MemoryTopology()
    left, right, r = b.bridge("left"), b.bridge("right"), b.router("r")
    b.bridge_port(left, port_id="vm1")
    b.bridge_port(right, port_id="vm2")
    b.link(b.bridge_port(left, port_id="left:up"),
           b.router_port(r, "10.0.0.1/24", RL, port_id="r:left"))
    b.link(b.bridge_port(right, port_id="right:up"),
           b.router_port(r, "10.0.1.1/24", RR, port_id="r:right"))
    return b


def ping(src_mac: str, src: str, dst: str, dst_mac: str = RL) -> Packet:
    return packets.icmp(src_mac, dst_mac, src, dst, payload=b"\x12\x34\x00\x01hello")


def test_unresolved_next_hop_holds_the_packet_and_asks(topo: MemoryTopology) -> None:
    state = State.in_memory()
    result = simulate(topo.view(), state, "vm1", ping(VM1, "10.0.0.11", "10.0.1.12"))
    assert result.dropped and not result.cacheable
    assert result.waiting == [ArpWait("r", "r:right", "10.0.1.12")]
    [request] = result.emits
    assert request.port_id == "vm2" and request.packet.arp_tpa == "10.0.1.12"
    assert "arp:r:10.0.1.12" in result.tags
    assert last_step(result).decision.startswith("result: held")


def test_once_resolved_the_same_packet_is_delivered(topo: MemoryTopology) -> None:
    state = State.in_memory()
    packet = ping(VM1, "10.0.0.11", "10.0.1.12")
    simulate(topo.view(), state, "vm1", packet)
    state.arps.put("r", "10.0.1.12", VM2)
    state.macs.learn("right", VM2, None, "vm2")
    result = simulate(topo.view(), state, "vm1", packet)
    assert_outputs(result, "vm2")
    assert not result.waiting
    assert result.cacheable


def test_a_packet_dropped_before_resolution_is_not_held(topo: MemoryTopology) -> None:
    c = topo.chain("c")
    topo.rule(c, "drop")
    topo.objects["router"]["r"]["outboundFilterId"] = c["id"]
    result = simulate(topo.view(), State.in_memory(), "vm1",
                      ping(VM1, "10.0.0.11", "10.0.1.12"))
    assert result.dropped and not result.waiting and not result.emits


def test_answers_the_router_generates_are_not_held(topo: MemoryTopology) -> None:
    """An echo reply goes back to the previous hop's MAC: no resolution, nothing held."""
    result = simulate(topo.view(), State.in_memory(), "vm1", ping(VM1, "10.0.0.11", "10.0.0.1"))
    assert [e.packet.icmpv4_type for e in result.emits] == [0]
    assert not result.waiting


def test_icmp_error_back_to_an_unresolved_sender_is_held(topo: MemoryTopology) -> None:
    """vm2 answers vm1 with an ICMP error; the router never resolved vm1."""
    state = State.in_memory()
    error = packets.icmp(VM2, RR, "10.0.1.12", "10.0.0.11", 3, 3, payload=bytes(28))
    result = simulate(topo.view(), state, "vm2", error)
    assert result.waiting == [ArpWait("r", "r:left", "10.0.0.11")]
    assert [e.packet.arp_tpa for e in result.emits] == ["10.0.0.11"]
    state.arps.put("r", "10.0.0.11", VM1)
    state.macs.learn("left", VM1, None, "vm1")
    assert simulate(topo.view(), state, "vm2", error).outputs[0].port_id == "vm1"
