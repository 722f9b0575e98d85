"""Router scenarios: ARP, ICMP, routing, next-hop resolution, and chains of devices.

The topology::

    vm1, vm2 --[bridge left]-- left:up ~ r:left 10.0.0.1/24
                                 router r  r:right 10.0.1.1/24 (exterior, host 10.0.1.12)
                                           r:up 192.168.0.2/30 ~ edge:down 192.168.0.1/30
                                 router edge  edge:out 203.0.113.1/24 (exterior)

``~`` is an interior link. r routes 0.0.0.0/0 via 192.168.0.1; edge routes 10.0.0.0/8 back.
"""

from __future__ import annotations

import pytest

from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import (
    Emit,
    Output,
    Packet,
    Rewrite,
)
from ryu_midonet.sim.core.packets import ip_quote
from ryu_midonet.sim.state import State
from tests.support import packets
from tests.support.matchers import assert_dropped
from tests.support.topology import MemoryTopology

VM1, VM2, HOST, OUTSIDE = (f"02:00:00:00:00:0{n}" for n in (1, 2, 3, 4))
RL, RR, RU, ED, EO = (f"02:aa:00:00:00:0{n}" for n in (1, 2, 3, 4, 5))
BCAST, ZERO = "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00"


@pytest.fixture
def topo() -> MemoryTopology:
    b = MemoryTopology()
    left = b.bridge("left")
    b.bridge_port(left, port_id="vm1")
    b.bridge_port(left, port_id="vm2")
    up = b.bridge_port(left, port_id="left:up")
    r = b.router("r")
    b.link(b.router_port(r, "10.0.0.1/24", RL, port_id="r:left"), up)
    b.router_port(r, "10.0.1.1/24", RR, host="host1", port_id="r:right")
    r_up = b.router_port(r, "192.168.0.2/30", RU, port_id="r:up")
    edge = b.router("edge")
    b.link(r_up, b.router_port(edge, "192.168.0.1/30", ED, port_id="edge:down"))
    b.router_port(edge, "203.0.113.1/24", EO, host="gw", port_id="edge:out")
    b.route(r, "0.0.0.0/0", r_up, gw="192.168.0.1", route_id="r-default")
    b.route(edge, "10.0.0.0/8", b.objects["port"]["edge:down"], gw="192.168.0.2",
            route_id="edge-back")
    return b


def arp(op: int, src_mac: str, spa: str, tpa: str, dst_mac: str = BCAST,
        tha: str = ZERO) -> Packet:
    return packets.arp(op, src_mac, spa, tpa, dst_mac, tha)


def ip(src_mac: str, dst_mac: str, src: str, dst: str, ttl: int = 64, **more: object) -> Packet:
    return packets.tcp(src_mac, dst_mac, src, dst, ttl=ttl, **more)


def ping(src_mac: str, dst_mac: str, src: str, dst: str) -> Packet:
    return packets.icmp(src_mac, dst_mac, src, dst, payload=b"\x12\x34\x00\x01hello")


# -- ARP -------------------------------------------------------------------------------------

def test_arp_request_through_a_bridge_is_answered_to_the_asker(topo: MemoryTopology) -> None:
    state = State.in_memory()
    result = simulate(topo.view(), state, "vm1", arp(1, VM1, "10.0.0.11", "10.0.0.1"))
    assert result.outputs == []  # the bridge sends it to the router port only, no flood
    assert result.emits == [Emit("vm1", arp(2, RL, "10.0.0.1", "10.0.0.11", VM1, VM1))]
    assert not result.cacheable
    assert state.arps.get("r", "10.0.0.11") == VM1  # the asker is remembered


def test_arp_request_on_an_exterior_router_port(topo: MemoryTopology) -> None:
    result = simulate(topo.view(), State.in_memory(), "r:right",
                      arp(1, HOST, "10.0.1.12", "10.0.1.1"))
    assert result.outputs == []
    assert [(e.port_id, e.packet.arp_op, e.packet.eth_dst) for e in result.emits] == [
        ("r:right", 2, HOST)]


def test_arp_request_for_another_address_is_dropped_cacheably(topo: MemoryTopology) -> None:
    result = simulate(topo.view(), State.in_memory(), "r:right",
                      arp(1, HOST, "10.0.1.12", "10.0.1.99"))
    assert result.dropped and not result.emits and result.cacheable
    assert {"arp_op", "arp_tpa"} <= result.fields_read


def test_arp_request_from_off_the_subnet_is_ignored(topo: MemoryTopology) -> None:
    result = simulate(topo.view(), State.in_memory(), "r:right",
                      arp(1, HOST, "172.16.0.9", "10.0.1.1"))
    assert not result.emits


def test_arp_reply_fills_the_arp_table(topo: MemoryTopology) -> None:
    state = State.in_memory()
    heard: list[str] = []
    state.arps.listeners.append(heard.append)  # type: ignore[attr-defined]
    reply = arp(2, HOST, "10.0.1.12", "10.0.1.1", dst_mac=RR, tha=RR)
    result = simulate(topo.view(), state, "r:right", reply)
    assert result.dropped and not result.cacheable
    assert state.arps.get("r", "10.0.1.12") == HOST
    assert heard == ["arp:r:10.0.1.12"]


def test_arp_reply_for_someone_else_is_ignored(topo: MemoryTopology) -> None:
    state = State.in_memory()
    reply = arp(2, HOST, "10.0.1.12", "10.0.1.77", dst_mac=RR, tha=OUTSIDE)
    simulate(topo.view(), state, "r:right", reply)
    assert state.arps.get("r", "10.0.1.12") is None


def test_gratuitous_arp_is_learned(topo: MemoryTopology) -> None:
    state = State.in_memory()
    simulate(topo.view(), state, "r:right", arp(1, HOST, "10.0.1.12", "10.0.1.12"))
    assert state.arps.get("r", "10.0.1.12") == HOST


# -- the router's own addresses --------------------------------------------------------------

def test_ping_to_the_router_through_a_bridge_is_answered(topo: MemoryTopology) -> None:
    result = simulate(topo.view(), State.in_memory(), "vm1",
                      ping(VM1, RL, "10.0.0.11", "10.0.0.1"))
    assert result.outputs == [] and not result.cacheable
    (emit,) = result.emits
    assert emit.port_id == "vm1"
    reply = emit.packet
    assert (reply.eth_src, reply.eth_dst, reply.ipv4_src, reply.ipv4_dst) == (
        RL, VM1, "10.0.0.1", "10.0.0.11")
    assert (reply.icmpv4_type, reply.icmpv4_code, reply.payload) == (0, 0, b"\x12\x34\x00\x01hello")


def test_ping_to_another_port_address_of_the_router(topo: MemoryTopology) -> None:
    result = simulate(topo.view(), State.in_memory(), "r:right",
                      ping(HOST, RR, "10.0.1.12", "192.168.0.2"))
    (emit,) = result.emits
    assert emit.port_id == "r:right" and emit.packet.ipv4_src == "192.168.0.2"


def test_other_traffic_to_the_router_is_dropped(topo: MemoryTopology) -> None:
    result = simulate(topo.view(), State.in_memory(), "r:right",
                      ip(HOST, RR, "10.0.1.12", "10.0.1.1"))
    assert result.dropped and not result.emits and result.cacheable
    assert {"ipv4_dst", "ip_proto"} <= result.fields_read


def test_frame_not_addressed_to_the_port_is_dropped(topo: MemoryTopology) -> None:
    result = simulate(topo.view(), State.in_memory(), "r:right",
                      ip(HOST, OUTSIDE, "10.0.1.12", "10.0.0.11"))
    assert result.dropped and result.fields_read >= {"eth_dst"}
    broadcast_ip = simulate(topo.view(), State.in_memory(), "r:right",
                            ip(HOST, BCAST, "10.0.1.12", "10.0.0.11"))
    assert_dropped(broadcast_ip)


def test_vlan_tagged_frames_are_dropped(topo: MemoryTopology) -> None:
    result = simulate(topo.view(), State.in_memory(), "r:right",
                      ip(HOST, RR, "10.0.1.12", "10.0.0.11", vlan_vid=5))
    assert result.dropped and "vlan_vid" in result.fields_read


def test_router_down_drops(topo: MemoryTopology) -> None:
    topo.objects["router"]["r"]["adminStateUp"] = False
    result = simulate(topo.view(), State.in_memory(), "r:right",
                      ping(HOST, RR, "10.0.1.12", "10.0.1.1"))
    assert result.dropped and not result.emits and "r" in result.tags


# -- forwarding ------------------------------------------------------------------------------

def test_routed_through_a_bridge_to_a_known_host(topo: MemoryTopology) -> None:
    state = State.in_memory()
    state.arps.put("r", "10.0.0.11", VM1)
    state.macs.learn("left", VM1, None, "vm1")
    result = simulate(topo.view(), state, "r:right", ip(HOST, RR, "10.0.1.12", "10.0.0.11"))
    assert result.outputs == [Output("vm1", (
        Rewrite("dec_ttl"), Rewrite("set", "eth_src", RL), Rewrite("set", "eth_dst", VM1)))]
    assert result.cacheable and not result.emits
    # the bridge read eth_dst after the router set it: not a field of the entering packet
    assert result.fields_read == {"vlan_vid", "eth_dst", "eth_type", "ipv4_dst"}
    assert {"r", "r:right", "r:left", "left:up", "left", "vm1", "arp:r:10.0.0.11",
            f"mac:left:{VM1}"} <= result.tags
    assert "r/route:1" in result.tags  # the 10.0.0.0/24 port route
    assert result.learned == []  # router port MACs are known, not learned


def test_unknown_next_hop_behind_a_bridge_is_arped_for(topo: MemoryTopology) -> None:
    result = simulate(topo.view(), State.in_memory(), "r:right",
                      ip(HOST, RR, "10.0.1.12", "10.0.0.11"))
    assert result.dropped and not result.cacheable
    request = arp(1, RL, "10.0.0.1", "10.0.0.11")
    assert result.emits == [Emit("vm1", request), Emit("vm2", request)]  # flooded
    assert "arp:r:10.0.0.11" in result.tags


def test_unknown_next_hop_on_an_exterior_port_is_arped_for(topo: MemoryTopology) -> None:
    state = State.in_memory()
    result = simulate(topo.view(), state, "vm1", ip(VM1, RL, "10.0.0.11", "10.0.1.12"))
    assert result.dropped and not result.cacheable
    (emit,) = result.emits
    assert emit.port_id == "r:right" and emit.packet.arp_tpa == "10.0.1.12"
    assert emit.packet.arp_spa == "10.0.1.1" and emit.packet.eth_src == RR


def test_answer_then_retry_is_forwarded(topo: MemoryTopology) -> None:
    state = State.in_memory()
    simulate(topo.view(), state, "vm1", ip(VM1, RL, "10.0.0.11", "10.0.1.12"))
    simulate(topo.view(), state, "r:right",
             arp(2, HOST, "10.0.1.12", "10.0.1.1", dst_mac=RR, tha=RR))
    result = simulate(topo.view(), state, "vm1", ip(VM1, RL, "10.0.0.11", "10.0.1.12"))
    assert result.outputs == [Output("r:right", (
        Rewrite("dec_ttl"), Rewrite("set", "eth_src", RR), Rewrite("set", "eth_dst", HOST)))]
    assert result.cacheable
    assert result.learned and result.learned[0].mac == VM1  # the bridge learned VM1


def test_two_routers_over_an_interior_link(topo: MemoryTopology) -> None:
    state = State.in_memory()
    state.arps.put("edge", "203.0.113.50", OUTSIDE)
    result = simulate(topo.view(), state, "r:right", ip(HOST, RR, "10.0.1.12", "203.0.113.50"))
    assert result.outputs == [Output("edge:out", (
        Rewrite("dec_ttl"), Rewrite("dec_ttl"), Rewrite("set", "eth_src", EO),
        Rewrite("set", "eth_dst", OUTSIDE)))]
    assert result.cacheable
    # the link to edge needs no ARP: the peer port's MAC is known
    assert "arp:r:192.168.0.1" not in result.tags
    assert {"r-default", "r:up", "edge:down", "edge", "arp:edge:203.0.113.50"} <= result.tags


def test_gateway_is_resolved_instead_of_the_destination() -> None:
    b = MemoryTopology()
    r = b.router("r")
    inside = b.router_port(r, "10.0.1.1/24", RR, host="h", port_id="in")
    out = b.router_port(r, "198.51.100.2/24", RU, host="h", port_id="out")
    b.route(r, "0.0.0.0/0", out, gw="198.51.100.1", route_id="default")
    del inside
    state = State.in_memory()
    state.arps.put("r", "198.51.100.1", OUTSIDE)
    result = simulate(b.view(), state, "in", ip(HOST, RR, "10.0.1.12", "8.8.8.8"))
    assert result.outputs[0].rewrites[-1] == Rewrite("set", "eth_dst", OUTSIDE)
    assert "arp:r:198.51.100.1" in result.tags and "arp:r:8.8.8.8" not in result.tags


def test_gateway_off_the_egress_network_drops() -> None:
    b = MemoryTopology()
    r = b.router("r")
    b.router_port(r, "10.0.1.1/24", RR, host="h", port_id="in")
    out = b.router_port(r, "198.51.100.2/24", RU, host="h", port_id="out")
    b.route(r, "0.0.0.0/0", out, gw="172.16.0.1")
    result = simulate(b.view(), State.in_memory(), "in", ip(HOST, RR, "10.0.1.12", "8.8.8.8"))
    assert result.dropped and not result.emits


def test_router_bridge_router_uses_the_peer_router_port_address() -> None:
    b = MemoryTopology()
    r1, r2, shared = b.router("r1"), b.router("r2"), b.bridge("shared")
    b.router_port(r1, "10.0.1.1/24", RR, host="h", port_id="r1:in")
    r1_out = b.router_port(r1, "10.0.0.1/24", RL, port_id="r1:out")
    b.link(r1_out, b.bridge_port(shared, port_id="shared:1"))
    b.link(b.router_port(r2, "10.0.0.2/24", ED, port_id="r2:in"),
           b.bridge_port(shared, port_id="shared:2"))
    b.router_port(r2, "172.16.0.1/24", EO, host="h2", port_id="r2:out")
    b.route(r1, "172.16.0.0/16", r1_out, gw="10.0.0.2")
    state = State.in_memory()
    state.arps.put("r2", "172.16.0.5", OUTSIDE)
    result = simulate(b.view(), state, "r1:in", ip(HOST, RR, "10.0.1.12", "172.16.0.5"))
    assert result.outputs == [Output("r2:out", (
        Rewrite("dec_ttl"), Rewrite("dec_ttl"), Rewrite("set", "eth_src", EO),
        Rewrite("set", "eth_dst", OUTSIDE)))]
    assert "arp:r1:10.0.0.2" not in result.tags  # r2's port is on the bridge: no ARP needed
    assert {"shared", "shared:1", "shared:2", "r2:in"} <= result.tags


# -- TTL and ICMP errors ---------------------------------------------------------------------

def test_expiring_ttl_gets_time_exceeded(topo: MemoryTopology) -> None:
    packet = ip(HOST, RR, "10.0.1.12", "203.0.113.50", ttl=1)
    result = simulate(topo.view(), State.in_memory(), "r:right", packet)
    assert result.dropped and not result.cacheable
    assert "nw_ttl" in result.fields_read
    (emit,) = result.emits
    icmp = emit.packet
    assert emit.port_id == "r:right"
    assert (icmp.icmpv4_type, icmp.icmpv4_code, icmp.ipv4_src, icmp.ipv4_dst) == (
        11, 0, "10.0.1.1", "10.0.1.12")
    assert (icmp.eth_src, icmp.eth_dst) == (RR, HOST)
    assert icmp.payload == ip_quote(packet) and len(icmp.payload) == 28


def test_normal_forwarding_does_not_read_the_ttl(topo: MemoryTopology) -> None:
    state = State.in_memory()
    state.arps.put("edge", "203.0.113.50", OUTSIDE)
    result = simulate(topo.view(), state, "r:right", ip(HOST, RR, "10.0.1.12", "203.0.113.50"))
    assert "nw_ttl" not in result.fields_read


def test_ttl_expiring_at_the_second_router_is_answered_back(topo: MemoryTopology) -> None:
    state = State.in_memory()
    state.arps.put("r", "10.0.1.12", HOST)
    result = simulate(topo.view(), state, "r:right",
                      ip(HOST, RR, "10.0.1.12", "203.0.113.50", ttl=2))
    assert_dropped(result)
    (emit,) = result.emits  # from edge, routed back through r to the sender
    assert emit.port_id == "r:right"
    assert (emit.packet.ipv4_src, emit.packet.ipv4_dst, emit.packet.icmpv4_type) == (
        "192.168.0.1", "10.0.1.12", 11)
    assert (emit.packet.eth_src, emit.packet.eth_dst, emit.packet.nw_ttl) == (RR, HOST, 63)


def test_no_route_answers_net_unreachable(topo: MemoryTopology) -> None:
    del topo.objects["route"]["r-default"]
    result = simulate(topo.view(), State.in_memory(), "r:right",
                      ip(HOST, RR, "10.0.1.12", "203.0.113.50"))
    assert result.dropped and result.cacheable
    (emit,) = result.emits
    assert (emit.port_id, emit.packet.icmpv4_type, emit.packet.icmpv4_code) == ("r:right", 3, 0)


def test_blackhole_route_drops_silently(topo: MemoryTopology) -> None:
    topo.route(topo.objects["router"]["r"], "203.0.113.0/24", type="BlackHole", route_id="bh")
    result = simulate(topo.view(), State.in_memory(), "r:right",
                      ip(HOST, RR, "10.0.1.12", "203.0.113.50"))
    assert result.dropped and not result.emits and result.cacheable
    assert "bh" in result.tags


@pytest.mark.parametrize(("dst", "code"), [("203.0.113.50/32", 10), ("203.0.113.0/24", 9)])
def test_reject_route_answers_administratively_prohibited(
        topo: MemoryTopology, dst: str, code: int) -> None:
    topo.route(topo.objects["router"]["r"], dst, type="Reject", route_id="rej")
    result = simulate(topo.view(), State.in_memory(), "r:right",
                      ip(HOST, RR, "10.0.1.12", "203.0.113.50"))
    assert result.dropped and result.cacheable and "rej" in result.tags
    (emit,) = result.emits
    assert (emit.packet.icmpv4_type, emit.packet.icmpv4_code) == (3, code)
    assert emit.packet.ipv4_src == "10.0.1.1"


def test_no_icmp_error_about_an_icmp_error(topo: MemoryTopology) -> None:
    del topo.objects["route"]["r-default"]
    error = packets.icmp(HOST, RR, "10.0.1.12", "203.0.113.50", 3, 1)
    result = simulate(topo.view(), State.in_memory(), "r:right", error)
    assert result.dropped and not result.emits
