"""Static NAT: floating IPs as the guide lays them out (ch. 8), and the flow they make.

The topology::

    vm1 10.0.0.11, vm2 10.0.0.12 --[br]-- br:up ~ r:in 10.0.0.1/24
                                        router r   r:out 198.51.100.1/24 (uplink)

Pre-routing: dnat 198.51.100.3 -> 10.0.0.11 (the floating IP), rev_snat 198.51.100.2.
Post-routing: snat 10.0.0.11 -> 198.51.100.3; snat everything else -> 198.51.100.2:1-65535.
"""

from __future__ import annotations

import pytest
from sim_tenant import FAR, GW_IP, REMOTE, RIN, ROUT, VM1, VM2, tcp, tenant, tenant_state

from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import Emit, Output, Rewrite
from ryu_midonet.sim.core.packets import icmp_error, ip_quote
from ryu_midonet.sim.state import State
from tests.support import packets
from tests.support.topology import MemoryTopology

FIP = "198.51.100.3"


@pytest.fixture
def b() -> MemoryTopology:
    b = tenant()
    pre, post = b.objects["chain"]["pre"], b.objects["chain"]["post"]
    b.rule(pre, "dnat", nwDstAddress=FIP, inPorts=["r:out"], natTargets=["10.0.0.11"])
    b.rule(pre, "rev_snat", nwDstAddress=GW_IP, inPorts=["r:out"])
    b.rule(post, "snat", nwSrcAddress="10.0.0.11", outPorts=["r:out"], natTargets=[FIP])
    b.rule(post, "snat", outPorts=["r:out"], natTargets=[f"{GW_IP}:1-65535"])
    return b


@pytest.fixture
def state() -> State:
    return tenant_state()


def test_inbound_to_the_floating_ip_is_translated_statelessly(b: MemoryTopology,
                                                              state: State) -> None:
    result = simulate(b.view(), state, "r:out", tcp(FAR, ROUT, REMOTE, FIP, 5555, 22))
    assert result.outputs == [Output("vm1", (
        Rewrite("dec_ttl"), Rewrite("set", "eth_src", RIN), Rewrite("set", "eth_dst", VM1),
        Rewrite("set", "ipv4_dst", "10.0.0.11")))]
    assert result.cacheable and not result.state_keys
    assert not result.fields_read & {"tcp_src", "tcp_dst", "ipv4_src"}  # not per connection
    assert {"pre", "pre/rule0"} <= result.tags


def test_outbound_from_the_floating_ip_vm_is_translated_statelessly(b: MemoryTopology,
                                                                    state: State) -> None:
    result = simulate(b.view(), state, "vm1", tcp(VM1, RIN, "10.0.0.11", REMOTE, 40000, 443))
    (output,) = result.outputs
    assert output.port_id == "r:out"
    assert Rewrite("set", "ipv4_src", FIP) in output.rewrites
    assert not any(r.field == "tcp_src" for r in output.rewrites)
    assert result.cacheable and not result.state_keys
    assert "tcp_src" not in result.fields_read


def test_other_vms_are_masqueraded_dynamically(b: MemoryTopology, state: State) -> None:
    result = simulate(b.view(), state, "vm2", tcp(VM2, RIN, "10.0.0.12", REMOTE, 40000, 443))
    (output,) = result.outputs
    sets = {r.field: r.value for r in output.rewrites if r.op == "set"}
    assert sets["ipv4_src"] == GW_IP and 1 <= sets["tcp_src"] <= 65535
    assert len(result.state_keys) == 2  # forward and reverse translation
    assert {"tcp_src", "tcp_dst", "ipv4_src", "ipv4_dst"} <= result.fields_read
    reply = tcp(FAR, ROUT, REMOTE, GW_IP, 443, sets["tcp_src"])
    back = simulate(b.view(), state, "r:out", reply)
    (output,) = back.outputs
    assert output.port_id == "vm2"
    assert Rewrite("set", "ipv4_dst", "10.0.0.12") in output.rewrites
    assert Rewrite("set", "tcp_dst", 40000) in output.rewrites


def test_icmp_error_about_a_floating_ip_packet_is_translated_back(b: MemoryTopology,
                                                                  state: State) -> None:
    sent = tcp(ROUT, FAR, FIP, REMOTE, 40000, 443, nw_ttl=1)  # as it left, translated
    error = icmp_error(sent, 11, 0, "192.0.2.77", FAR).replace(eth_dst=ROUT, ipv4_dst=FIP)
    result = simulate(b.view(), state, "r:out", error)
    assert not result.outputs and not result.cacheable
    (emit,) = result.emits
    assert emit.port_id == "vm1"
    assert emit.packet.ipv4_dst == "10.0.0.11" and emit.packet.eth_dst == VM1
    original = tcp(VM1, RIN, "10.0.0.11", REMOTE, 40000, 443, nw_ttl=1)
    assert emit.packet.payload == ip_quote(original)  # what the VM sent, checksum redone


def test_icmp_error_from_the_vm_about_floating_ip_traffic(b: MemoryTopology,
                                                          state: State) -> None:
    received = tcp(RIN, VM1, REMOTE, "10.0.0.11", 5555, 22, nw_ttl=63)
    error = icmp_error(received, 3, 3, "10.0.0.11", VM1).replace(eth_dst=RIN)
    result = simulate(b.view(), state, "vm1", error)
    (emit,) = result.emits
    assert emit == Emit("r:out", emit.packet)
    assert emit.packet.ipv4_src == FIP  # the outer source, statically
    quoted = emit.packet.payload
    assert quoted == ip_quote(received.replace(ipv4_dst=FIP))  # as the remote sent it


def test_static_nat_applies_to_any_ip_protocol(b: MemoryTopology, state: State) -> None:
    gre = packets.ipv4(FAR, ROUT, REMOTE, FIP, 47)
    result = simulate(b.view(), state, "r:out", gre)
    assert result.outputs[0].port_id == "vm1" and result.cacheable


def test_echo_to_the_floating_ip(b: MemoryTopology, state: State) -> None:
    ping = packets.icmp(FAR, ROUT, REMOTE, FIP, payload=b"\x00\x01\x00\x01")
    result = simulate(b.view(), state, "r:out", ping)
    assert result.outputs[0].port_id == "vm1" and result.cacheable
