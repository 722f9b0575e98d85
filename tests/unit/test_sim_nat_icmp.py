"""NAT of ICMP: echo by identifier, and errors about translated connections translated back.

The topology::

    vm1 10.0.0.11, vm2 10.0.0.12 --[br]-- br:up ~ r:in 10.0.0.1/24
                                        router r   r:out 198.51.100.1/24 (uplink, default route)

r masquerades as 198.51.100.2 (ports 1-65535) and forwards 198.51.100.80:80 to 10.0.0.12:8080.
"""

from __future__ import annotations

from typing import Any

import pytest
from sim_tenant import FAR, GW_IP, REMOTE, RIN, ROUT, VM1, VM2, tcp, tenant, tenant_state

from ryu_midonet.datapath import packets as frames
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import Packet, Result
from ryu_midonet.sim.core.packets import checksum, icmp_error, ip_quote
from ryu_midonet.sim.rules.tuples import parse_quote
from ryu_midonet.sim.state import State
from tests.support import packets
from tests.support.matchers import assert_dropped
from tests.support.topology import MemoryTopology

VIP, HOP = "198.51.100.80", "192.0.2.77"


@pytest.fixture
def b() -> MemoryTopology:
    b = tenant()
    pre, post = b.objects["chain"]["pre"], b.objects["chain"]["post"]
    b.rule(pre, "dnat", nwDstAddress=VIP, inPorts=["r:out"], natTargets=["10.0.0.12:8080"])
    b.rule(pre, "rev_snat", nwDstAddress=GW_IP, inPorts=["r:out"])
    b.rule(post, "rev_dnat", outPorts=["r:out"])
    b.rule(post, "snat", outPorts=["r:out"], natTargets=[f"{GW_IP}:1-65535"])
    return b


@pytest.fixture
def state() -> State:
    return tenant_state()


def ping(src_mac: str, dst_mac: str, src: str, dst: str, ident: int, reply: bool = False,
         **more: Any) -> Packet:
    return packets.icmp(src_mac, dst_mac, src, dst, 0 if reply else 8,
                        payload=ident.to_bytes(2, "big") + b"\x00\x01data", **more)


def sets(result: Result) -> dict[str, Any]:
    (output,) = result.outputs
    return {r.field: r.value for r in output.rewrites if r.op == "set"}


# -- echo ------------------------------------------------------------------------------------

def test_echo_is_masqueraded_by_identifier(b: MemoryTopology, state: State) -> None:
    forward = simulate(b.view(), state, "vm1", ping(VM1, RIN, "10.0.0.11", REMOTE, 0x1234))
    assert sets(forward) == {"eth_src": ROUT, "eth_dst": FAR, "ipv4_src": GW_IP}
    assert not forward.cacheable  # the identifier is no flow field
    assert f"nat:rev_snat:r:1:{REMOTE}:4660:{GW_IP}:4660" in forward.state_keys
    reply = ping(FAR, ROUT, REMOTE, GW_IP, 0x1234, reply=True)
    back = simulate(b.view(), state, "r:out", reply)
    assert back.outputs[0].port_id == "vm1" and sets(back)["ipv4_dst"] == "10.0.0.11"
    other = simulate(b.view(), state, "r:out", ping(FAR, ROUT, REMOTE, GW_IP, 0x1235, True))
    assert not any(o.port_id.startswith("vm") for o in other.outputs)


def test_the_same_identifier_from_two_hosts_needs_two_addresses(b: MemoryTopology,
                                                                state: State) -> None:
    simulate(b.view(), state, "vm1", ping(VM1, RIN, "10.0.0.11", REMOTE, 7))
    clash = simulate(b.view(), state, "vm2", ping(VM2, RIN, "10.0.0.12", REMOTE, 7))
    assert clash.dropped and not clash.cacheable
    last = b.objects["rule"][b.objects["chain"]["post"]["ruleIds"][-1]]
    last["natTargets"] = [{"addressFrom": GW_IP, "addressTo": "198.51.100.3", "portFrom": 1,
                           "portTo": 65535}]
    second = simulate(b.view(), state, "vm2", ping(VM2, RIN, "10.0.0.12", REMOTE, 7))
    assert sets(second)["ipv4_src"] == "198.51.100.3"


# -- errors ----------------------------------------------------------------------------------

def assert_valid_quote(packet: Packet) -> None:
    quote = parse_quote(packet.payload)
    assert quote is not None and checksum(quote.data[:quote.header_length]) == 0


def test_an_error_about_a_masqueraded_connection_reaches_the_sender(b: MemoryTopology,
                                                                    state: State) -> None:
    forward = simulate(b.view(), state, "vm1", tcp(VM1, RIN, "10.0.0.11", REMOTE, 40000, 443))
    port = sets(forward)["tcp_src"]
    as_sent = tcp(ROUT, FAR, GW_IP, REMOTE, port, 443, nw_ttl=1)
    error = icmp_error(as_sent, 11, 0, HOP, FAR).replace(eth_dst=ROUT)
    result = simulate(b.view(), state, "r:out", error)
    assert result.dropped and not result.cacheable
    (emit,) = result.emits
    assert emit.port_id == "vm1"
    p = emit.packet
    assert (p.ipv4_src, p.ipv4_dst, p.eth_dst, p.nw_ttl) == (HOP, "10.0.0.11", VM1, 63)
    original = tcp(VM1, RIN, "10.0.0.11", REMOTE, 40000, 443, nw_ttl=1)
    assert p.payload == ip_quote(original)
    assert_valid_quote(p)
    # the agent sends it as a packet-out: it survives the frame codec
    again = frames.parse(frames.build(p))
    assert again is not None and again.payload == p.payload


def test_an_error_about_a_masqueraded_ping(b: MemoryTopology, state: State) -> None:
    simulate(b.view(), state, "vm2", ping(VM2, RIN, "10.0.0.12", REMOTE, 99))
    as_sent = ping(ROUT, FAR, GW_IP, REMOTE, 99)
    error = icmp_error(as_sent, 3, 1, HOP, FAR).replace(eth_dst=ROUT)
    (emit,) = simulate(b.view(), state, "r:out", error).emits
    assert emit.port_id == "vm2" and emit.packet.ipv4_dst == "10.0.0.12"
    quote = parse_quote(emit.packet.payload)
    assert quote is not None and quote.conn().src == "10.0.0.12"
    assert quote.ports() == (99, 99)


def test_an_error_about_an_unknown_connection_is_not_translated(b: MemoryTopology,
                                                               state: State) -> None:
    as_sent = tcp(ROUT, FAR, GW_IP, REMOTE, 1234, 443)
    error = icmp_error(as_sent, 3, 3, HOP, FAR).replace(eth_dst=ROUT)
    result = simulate(b.view(), state, "r:out", error)
    assert not result.emits or all(e.port_id == "r:out" for e in result.emits)


def test_an_error_from_the_server_behind_dnat(b: MemoryTopology, state: State) -> None:
    client = tcp(FAR, ROUT, "203.0.113.5", VIP, 5000, 80)
    inbound = simulate(b.view(), state, "r:out", client)
    assert inbound.outputs[0].port_id == "vm2" and sets(inbound)["tcp_dst"] == 8080
    received = tcp(RIN, VM2, "203.0.113.5", "10.0.0.12", 5000, 8080, nw_ttl=63)
    error = icmp_error(received, 3, 3, "10.0.0.12", VM2).replace(eth_dst=RIN)
    result = simulate(b.view(), state, "vm2", error)
    (emit,) = result.emits
    assert emit.port_id == "r:out" and not result.cacheable
    assert emit.packet.ipv4_src == VIP and emit.packet.ipv4_dst == "203.0.113.5"
    assert emit.packet.payload == ip_quote(received.replace(ipv4_dst=VIP, tcp_dst=80))
    assert_valid_quote(emit.packet)


def test_udp_error_quote_ports_are_restored(b: MemoryTopology, state: State) -> None:
    dns = packets.udp(VM1, RIN, "10.0.0.11", REMOTE, 5353, 53)
    port = sets(simulate(b.view(), state, "vm1", dns))["udp_src"]
    as_sent = dns.replace(ipv4_src=GW_IP, udp_src=port, nw_ttl=63)
    error = icmp_error(as_sent, 3, 3, REMOTE, FAR).replace(eth_dst=ROUT)
    (emit,) = simulate(b.view(), state, "r:out", error).emits
    quote = parse_quote(emit.packet.payload)
    assert quote is not None and quote.ports() == (5353, 53) and quote.src == "10.0.0.11"


def test_an_error_generated_past_the_nat_router_quotes_and_returns_right() -> None:
    """vm -[br]- t (masquerades on t:up) ~ e: e expires the TTL of a translated packet."""
    b = MemoryTopology()
    br, t, e = b.bridge("br"), b.router("t"), b.router("e")
    b.bridge_port(br, port_id="vm1")
    b.link(b.bridge_port(br, port_id="br:up"),
           b.router_port(t, "10.0.0.1/24", RIN, port_id="t:in"))
    t_up = b.router_port(t, "100.64.0.2/30", "02:aa:00:00:00:01", port_id="t:up")
    e_down = b.router_port(e, "100.64.0.1/30", "02:aa:00:00:00:02", port_id="e:down")
    b.link(t_up, e_down)
    b.route(t, "0.0.0.0/0", t_up, gw="100.64.0.1")
    b.route(e, "0.0.0.0/0", b.router_port(e, "198.51.100.1/24", ROUT, host="gw",
                                          port_id="e:out"), gw="198.51.100.254")
    pre, post = b.chain("pre"), b.chain("post")
    b.rule(pre, "rev_snat", nwDstAddress="100.64.0.2")
    b.rule(post, "snat", outPorts=["t:up"], natTargets=["100.64.0.2:1024-65535"])
    b.objects["router"]["t"].update(inboundFilterId="pre", outboundFilterId="post")
    state = State.in_memory()
    state.arps.put("t", "10.0.0.11", VM1)
    state.macs.learn("br", VM1, None, "vm1")
    head = bytes.fromhex("9c40 01bb 0000 0001".replace(" ", ""))  # 40000 -> 443, seq 1
    packet = tcp(VM1, RIN, "10.0.0.11", REMOTE, 40000, 443, nw_ttl=2, l4_head=head)
    result = simulate(b.view(), state, "vm1", packet)
    assert_dropped(result)
    (emit,) = result.emits
    assert emit.port_id == "vm1" and emit.packet.icmpv4_type == 11
    assert emit.packet.ipv4_src == "100.64.0.1" and emit.packet.ipv4_dst == "10.0.0.11"
    quote = parse_quote(emit.packet.payload)
    assert quote is not None
    assert (quote.src, quote.ports()) == ("10.0.0.11", (40000, 443))
    assert quote.data[quote.header_length + 4:] == head[4:]  # the sequence number, intact
