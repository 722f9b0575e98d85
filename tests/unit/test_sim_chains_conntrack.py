"""Connection tracking: forward and return flows, their keys, tags, and stateful port groups.

The topology: a VM behind tenant router t, which reaches the outside through two gateway
routers, each with an uplink (gw1:up, gw2:up; gw1 also has gw1:up2)::

    vm --[br]-- t 10.0.0.1/24 -- t:a ~ gw1 -- gw1:up  203.0.113.1/24
                                              gw1:up2 203.0.114.1/24
                              -- t:b ~ gw2 -- gw2:up  203.0.113.2/24

The VM port's inbound chain accepts return flows, then everything (so forward packets are
tracked); the uplinks' inbound chain accepts return flows only.
"""

from __future__ import annotations

from typing import Any

import pytest
from fakeclock import Clock

from ryu_midonet.builders.chains import port_group
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import IP_ICMP, IP_TCP, IP_UDP, Emit, Packet
from ryu_midonet.sim.core.packets import icmp_error
from ryu_midonet.sim.rules.conntrack import PORT_GROUPS_TAG, ct_key
from ryu_midonet.sim.rules.tuples import Conn
from ryu_midonet.sim.state import MemoryArpTable, MemoryMacTable, State
from ryu_midonet.sim.state.flowstate import MemoryFlowTable
from tests.support import packets
from tests.support.matchers import assert_dropped, assert_outputs
from tests.support.topology import MemoryTopology

VM, VM_IP, FAR, FAR_IP = "02:00:00:00:00:01", "10.0.0.11", "02:00:00:00:00:99", "198.51.100.9"
MACS = {name: f"02:aa:00:00:00:{n:02x}" for n, name in enumerate(
    ("t:in", "t:a", "t:b", "gw1:in", "gw1:up", "gw1:up2", "gw2:in", "gw2:up"))}


@pytest.fixture
def b() -> MemoryTopology:
    b = MemoryTopology()
    br, t, gw1, gw2 = b.bridge("br"), b.router("t"), b.router("gw1"), b.router("gw2")
    b.bridge_port(br, port_id="vm")
    b.link(b.bridge_port(br, port_id="br:up"),
           b.router_port(t, "10.0.0.1/24", MACS["t:in"], port_id="t:in"))
    t_a = b.router_port(t, "192.168.1.2/30", MACS["t:a"], port_id="t:a")
    t_b = b.router_port(t, "192.168.2.2/30", MACS["t:b"], port_id="t:b")
    b.link(t_a, b.router_port(gw1, "192.168.1.1/30", MACS["gw1:in"], port_id="gw1:in"))
    b.link(t_b, b.router_port(gw2, "192.168.2.1/30", MACS["gw2:in"], port_id="gw2:in"))
    b.router_port(gw1, "203.0.113.1/24", MACS["gw1:up"], host="h1", port_id="gw1:up")
    b.router_port(gw1, "203.0.114.1/24", MACS["gw1:up2"], host="h3", port_id="gw1:up2")
    b.router_port(gw2, "203.0.113.2/24", MACS["gw2:up"], host="h2", port_id="gw2:up")
    b.route(t, "0.0.0.0/0", t_a, gw="192.168.1.1")
    b.route(gw1, "0.0.0.0/0", b.objects["port"]["gw1:up"], gw="203.0.113.254")
    b.route(gw1, "10.0.0.0/24", b.objects["port"]["gw1:in"], gw="192.168.1.2")
    b.route(gw2, "10.0.0.0/24", b.objects["port"]["gw2:in"], gw="192.168.2.2")

    vm_in = b.chain("vm-in")
    b.rule(vm_in, "accept", matchReturnFlow=True)
    b.rule(vm_in, "accept")
    b.objects["port"]["vm"]["inboundFilterId"] = vm_in["id"]
    up_in = b.chain("up-in")
    b.rule(up_in, "accept", matchReturnFlow=True)
    b.rule(up_in, "drop")
    for up in ("gw1:up", "gw1:up2", "gw2:up"):
        b.objects["port"][up]["inboundFilterId"] = up_in["id"]
    return b


@pytest.fixture
def state(clock: Clock) -> State:
    state = State(MemoryMacTable(clock=clock), MemoryArpTable(clock=clock),
                  MemoryFlowTable(clock=clock))
    state.arps.put("gw1", "203.0.113.254", FAR)
    state.arps.put("t", VM_IP, VM)
    state.macs.learn("br", VM, None, "vm")
    return state


def out(**more: Any) -> Packet:
    return packets.tcp(VM, MACS["t:in"], VM_IP, FAR_IP, 40000, 443, **more)


def back(uplink: str = "gw1:up", **more: Any) -> Packet:
    return packets.tcp(FAR, MACS[uplink], FAR_IP, VM_IP, 443, 40000, **more)


TUPLE = {"eth_type", "ip_proto", "ipv4_src", "ipv4_dst", "tcp_src", "tcp_dst"}
FORWARD = Conn(IP_TCP, VM_IP, 40000, FAR_IP, 443)


def test_a_new_connection_is_recorded_where_it_leaves(b: MemoryTopology, state: State) -> None:
    announced: list[str] = []
    assert isinstance(state.flows, MemoryFlowTable)
    state.flows.listeners.append(announced.append)
    result = simulate(b.view(), state, "vm", out())
    assert_outputs(result, "gw1:up")
    looked_up = ct_key("br", FORWARD)  # the VM port's device
    recorded = ct_key("gw1", FORWARD.reverse())  # the uplink's device
    assert looked_up in result.tags and recorded not in result.tags
    assert result.state_keys == {recorded}
    assert TUPLE <= result.fields_read and result.cacheable  # a per-connection flow
    assert state.flows.get(recorded) is not None
    assert announced == [recorded]
    again = simulate(b.view(), state, "vm", out())  # the same connection: still forward
    assert again.state_keys == {recorded} and announced == [recorded]  # a refresh


def test_return_flows_are_recognised_and_tagged(b: MemoryTopology, state: State) -> None:
    assert_dropped(simulate(b.view(), state, "gw1:up", back()))
    simulate(b.view(), state, "vm", out())
    result = simulate(b.view(), state, "gw1:up", back())
    assert_outputs(result, "vm")
    key = ct_key("gw1", FORWARD.reverse())
    assert key in result.tags and result.state_keys == {key}
    assert TUPLE <= result.fields_read
    assert_dropped(simulate(b.view(), state, "gw1:up", back(tcp_src=444)))


def test_a_dropped_forward_packet_records_nothing(b: MemoryTopology, state: State) -> None:
    state.arps.forget("gw1", "203.0.113.254")  # the next hop is unknown: dropped
    result = simulate(b.view(), state, "vm", out())
    assert result.dropped and not result.state_keys
    assert state.flows.get(ct_key("gw1", FORWARD.reverse())) is None


def test_state_expires_unless_refreshed(b: MemoryTopology, state: State, clock: Clock) -> None:
    announced: list[str] = []
    assert isinstance(state.flows, MemoryFlowTable)
    state.flows.listeners.append(announced.append)
    forward = simulate(b.view(), state, "vm", out())
    clock.now += 100
    assert state.flows.refresh(forward.state_keys) == 1  # the agent, while the flow lives
    clock.now += 100
    assert_outputs(simulate(b.view(), state, "gw1:up", back()), "vm")
    clock.now += 121
    assert_dropped(simulate(b.view(), state, "gw1:up", back()))  # expired: unknown again
    assert state.flows.refresh(forward.state_keys) == 0  # too late to refresh
    assert state.flows.expire() == 1
    assert announced == [ct_key("gw1", FORWARD.reverse())] * 2  # appeared, expired


def test_return_through_another_port_of_the_same_device(b: MemoryTopology,
                                                        state: State) -> None:
    simulate(b.view(), state, "vm", out())
    result = simulate(b.view(), state, "gw1:up2", back("gw1:up2"))
    assert_outputs(result, "vm")  # keyed by device: gw1


def test_asymmetric_return_needs_a_stateful_port_group(b: MemoryTopology,
                                                       state: State) -> None:
    simulate(b.view(), state, "vm", out())
    assert_dropped(simulate(b.view(), state, "gw2:up", back("gw2:up")))  # no state at gw2
    port_group(b, "uplinks", ["gw1:up", "gw2:up"], stateful=False)
    simulate(b.view(), state, "vm", out())
    assert_dropped(simulate(b.view(), state, "gw2:up", back("gw2:up")))  # not stateful
    b.objects["portGroup"]["uplinks"]["stateful"] = True
    forward = simulate(b.view(), state, "vm", out())
    assert forward.state_keys == {ct_key("uplinks", FORWARD.reverse())}
    assert {PORT_GROUPS_TAG, "uplinks"} <= forward.tags
    result = simulate(b.view(), state, "gw2:up", back("gw2:up"))
    assert_outputs(result, "vm")
    assert ct_key("uplinks", FORWARD.reverse()) in result.tags


def test_forward_flow_condition(b: MemoryTopology, state: State) -> None:
    up_in = b.objects["chain"]["up-in"]
    b.rule(up_in, "accept", pos=1, matchForwardFlow=True, nwProto=6,
         tpDst={"start": 22, "end": 22})
    ssh = back(tcp_src=50000, tcp_dst=22)
    assert_outputs(simulate(b.view(), state, "gw1:up", ssh), "vm")
    assert_dropped(simulate(b.view(), state, "gw1:up", back()))  # not port 22, not returning


def test_udp_and_echo_are_tracked_echo_by_identifier(b: MemoryTopology, state: State) -> None:
    dns = out(ip_proto=IP_UDP, tcp_src=None, tcp_dst=None, udp_src=5353, udp_dst=53)
    simulate(b.view(), state, "vm", dns)
    reply = back(ip_proto=IP_UDP, tcp_src=None, tcp_dst=None, udp_src=53, udp_dst=5353)
    assert_outputs(simulate(b.view(), state, "gw1:up", reply), "vm")

    ping = out(ip_proto=IP_ICMP, tcp_src=None, tcp_dst=None, icmpv4_type=8, icmpv4_code=0,
               payload=b"\x12\x34\x00\x01")
    forward = simulate(b.view(), state, "vm", ping)
    assert not forward.cacheable  # the identifier is no flow field
    pong = back(ip_proto=IP_ICMP, tcp_src=None, tcp_dst=None, icmpv4_type=0, icmpv4_code=0,
                payload=b"\x12\x34\x00\x01")
    assert_outputs(simulate(b.view(), state, "gw1:up", pong), "vm")
    other = pong.replace(payload=b"\x12\x35\x00\x01")
    assert_dropped(simulate(b.view(), state, "gw1:up", other))


def test_icmp_errors_about_a_known_connection_are_related(b: MemoryTopology,
                                                          state: State) -> None:
    forward = out()
    simulate(b.view(), state, "vm", forward)
    as_sent = forward.replace(nw_ttl=61, eth_src=MACS["gw1:up"], eth_dst=FAR)
    error = icmp_error(as_sent, 3, 3, FAR_IP, FAR).replace(eth_dst=MACS["gw1:up"])
    result = simulate(b.view(), state, "gw1:up", error)
    assert_outputs(result, "vm")
    assert not result.cacheable
    unrelated = icmp_error(as_sent.replace(tcp_src=1), 3, 3, FAR_IP, FAR)
    assert simulate(b.view(), state, "gw1:up",
                    unrelated.replace(eth_dst=MACS["gw1:up"])).dropped
    # an error never starts a connection
    outgoing = icmp_error(back(), 3, 3, VM_IP, VM).replace(eth_dst=MACS["t:in"])
    simulate(b.view(), state, "vm", outgoing)
    assert state.flows.get(ct_key("gw1", Conn(1, FAR_IP, 0, VM_IP, 0))) is None


def test_non_ip_packets_start_connections_and_are_not_recorded(b: MemoryTopology,
                                                               state: State) -> None:
    arp = packets.arp(1, VM, VM_IP, "10.0.0.1")
    result = simulate(b.view(), state, "vm", arp)
    assert len(result.emits) == 1 and not result.state_keys
    assert result.fields_read >= {"eth_type"}


def test_generated_packets_count_as_return_traffic(b: MemoryTopology, state: State) -> None:
    reject = b.chain("t-out")
    b.rule(reject, "reject", nwDstAddress=FAR_IP)
    b.objects["router"]["t"]["outboundFilterId"] = reject["id"]
    guard = b.chain("vm-out")  # to the VM: return flows only
    b.rule(guard, "accept", matchReturnFlow=True)
    b.rule(guard, "drop")
    b.objects["port"]["vm"]["outboundFilterId"] = guard["id"]
    result = simulate(b.view(), state, "vm", out())
    assert_dropped(result)
    assert [(e.port_id, e.packet.icmpv4_code) for e in result.emits] == [("vm", 13)]
    assert result.emits == [Emit("vm", result.emits[0].packet)]
