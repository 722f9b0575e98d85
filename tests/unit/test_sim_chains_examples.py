"""The guide's rule-chain examples, simulated: conditions 1 and 2 (ch. 7), the fragment
firewalls (ch. 12) and the security-group port chains (ch. 7), built with the store's fields."""

from __future__ import annotations

from typing import Any

import pytest

from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import IP_ICMP, IP_TCP, Packet
from ryu_midonet.sim.state import State
from tests.support import packets
from tests.support.matchers import assert_dropped, has_step, out_ports
from tests.support.topology import MemoryTopology

SRC_MAC, RMAC = "02:00:00:00:00:01", "02:aa:00:00:00:01"
ANY = {"nwSrcAddress": "0.0.0.0", "nwSrcLength": 0}


def ip(src: str, dst: str, dport: int = 80, frag: str = "no", src_mac: str = SRC_MAC,
       dst_mac: str = RMAC, proto: int = IP_TCP) -> Packet:
    ports: dict[str, Any] = {}
    if proto == IP_TCP and frag != "later":
        ports = {"tcp_src": 40000, "tcp_dst": dport}
    if proto == IP_ICMP:
        ports = {"icmpv4_type": 8, "icmpv4_code": 0, "payload": b"\x00\x07\x00\x01"}
    return packets.ipv4(src_mac, dst_mac, src, dst, proto, ip_frag=frag, **ports)


# -- Example condition 1 and 2 -------------------------------------------------------------

@pytest.fixture
def router() -> tuple[MemoryTopology, State]:
    """Router r; every port exterior, a neighbour known on each network."""
    b = MemoryTopology()
    r = b.router("r")
    state = State.in_memory()
    for n, net in enumerate(("10.0.1", "10.0.5", "10.0.6", "10.1.0")):
        b.router_port(r, f"{net}.1/24", f"02:aa:00:00:00:0{n + 1}", host="h", port_id=net)
        state.arps.put("r", f"{net}.7", f"02:00:00:00:01:0{n}")
    return b, state


def test_example_condition_1(router: tuple[MemoryTopology, State]) -> None:
    b, state = router
    c = b.chain("drop_not_src_mynetwork_INBOUND")
    b.rule(c, "drop", dlType=2048, nwSrcAddress="10.0.0.0", nwSrcLength=16, invNwSrc=True)
    b.rule(c, "accept", pos=2, dlType=2048, nwDstAddress="10.0.5.0", nwDstLength=24)
    b.objects["router"]["r"]["inboundFilterId"] = c["id"]
    port = b.objects["port"]
    rmac = {p: port[p]["portMac"] for p in port}
    assert simulate(b.view(), state, "10.1.0",
                    ip("10.1.0.7", "10.0.5.7", dst_mac=rmac["10.1.0"])).dropped
    assert out_ports(simulate(b.view(), state, "10.0.1",
                           ip("10.0.1.7", "10.0.5.7", dst_mac=rmac["10.0.1"]))) == ["10.0.5"]
    # without an unconditional drop, rule 2 means nothing: the end of the chain accepts
    elsewhere = ip("10.0.1.7", "10.0.6.7", dst_mac=rmac["10.0.1"])
    assert out_ports(simulate(b.view(), state, "10.0.1", elsewhere)) == ["10.0.6"]
    b.rule(c, "drop")
    assert_dropped(simulate(b.view(), state, "10.0.1", elsewhere))


def test_example_condition_2_is_an_or(router: tuple[MemoryTopology, State]) -> None:
    b, state = router
    c = b.chain("accept_src_dst_mynetwork_INBOUND")
    b.rule(c, "accept", dlType=2048, nwSrcAddress="10.0.0.0", nwSrcLength=16)
    b.rule(c, "accept", pos=1, dlType=2048, nwDstAddress="10.0.5.0", nwDstLength=24)
    b.rule(c, "drop", pos=3, dlType=2048)
    assert [b.objects["rule"][r]["nwDstAddress"] for r in c["ruleIds"]] == [
        "10.0.5.0", None, None]
    b.objects["router"]["r"]["inboundFilterId"] = c["id"]
    rmac = {p: o["portMac"] for p, o in b.objects["port"].items()}
    cases = [("10.1.0", "10.1.0.7", "10.0.5.7", ["10.0.5"]),  # dst matches
             ("10.0.1", "10.0.1.7", "10.0.6.7", ["10.0.6"]),  # src matches
             ("10.1.0", "10.1.0.7", "10.0.6.7", [])]  # neither: dropped
    for port, src, dst, expected in cases:
        result = simulate(b.view(), state, port, ip(src, dst, dst_mac=rmac[port]))
        assert out_ports(result) == expected, (src, dst)


# -- Fragmented packets (ch. 12) -------------------------------------------------------------

@pytest.fixture
def web() -> tuple[MemoryTopology, State]:
    """router2: port0 faces the clients, port1 the web server 10.0.0.10."""
    b = MemoryTopology()
    r = b.router("router2")
    b.router_port(r, "203.0.113.1/24", RMAC, host="gw", port_id="router2:port0")
    b.router_port(r, "10.0.0.1/24", "02:aa:00:00:00:02", host="h", port_id="router2:port1")
    state = State.in_memory()
    state.arps.put("router2", "10.0.0.10", "02:00:00:00:00:10")
    return b, state


def packets_to(dport: int) -> dict[str, Packet]:
    return {frag: ip("198.51.100.5", "10.0.0.10", dport, frag)
            for frag in ("no", "first", "later")}


def web_rule(b: MemoryTopology, c: dict[str, Any], type: str, **fields: Any) -> None:
    b.rule(c, type, dlType=2048, inPorts=["router2:port0"], **ANY, **fields)


def test_fragment_example_1_drops_non_header_fragments(
        web: tuple[MemoryTopology, State]) -> None:
    b, state = web
    c = b.chain("chain0")
    web_rule(b, c, "accept", nwProto=6, tpDst={"start": 80, "end": 80})
    web_rule(b, c, "drop", nwDstAddress="0.0.0.0", nwDstLength=0)
    assert b.objects["rule"][c["ruleIds"][0]]["fragmentPolicy"] == "header"
    assert b.objects["rule"][c["ruleIds"][1]]["fragmentPolicy"] == "any"
    b.objects["router"]["router2"]["inboundFilterId"] = c["id"]
    results = {f: simulate(b.view(), state, "router2:port0", p)
               for f, p in packets_to(80).items()}
    assert out_ports(results["no"]) == ["router2:port1"]
    assert out_ports(results["first"]) == ["router2:port1"]  # the header fragment gets in
    assert results["later"].dropped  # the rest does not: the server gets nothing
    assert all("ip_frag" in r.fields_read for r in results.values())
    assert all(simulate(b.view(), state, "router2:port0", p).dropped
               for p in packets_to(72).values())


def test_fragment_example_2_lets_non_header_fragments_through(
        web: tuple[MemoryTopology, State]) -> None:
    b, state = web
    c = b.chain("chain18")
    web_rule(b, c, "accept", nwProto=6, tpDst={"start": 80, "end": 80})
    web_rule(b, c, "drop", fragmentPolicy="header")
    web_rule(b, c, "accept", nwDstAddress="0.0.0.0", nwDstLength=0)
    b.objects["router"]["router2"]["inboundFilterId"] = c["id"]
    to_80 = {f: simulate(b.view(), state, "router2:port0", p) for f, p in packets_to(80).items()}
    to_72 = {f: simulate(b.view(), state, "router2:port0", p) for f, p in packets_to(72).items()}
    assert all(out_ports(r) == ["router2:port1"] for r in to_80.values())
    assert to_72["no"].dropped and to_72["first"].dropped  # rule 2
    assert out_ports(to_72["later"]) == ["router2:port1"]  # every non-header fragment: rule 3
    assert "ip_frag" in to_72["later"].fields_read


# -- Security-group port chains ----------------------------------------------------------------

VM_MAC, VM_IP, OUT_MAC = "fa:16:3e:fb:19:07", "172.16.3.3", "02:00:00:00:00:99"
RIN, ROUT = "02:aa:00:00:00:0a", "02:aa:00:00:00:0b"


@pytest.fixture
def sg() -> tuple[MemoryTopology, State]:
    """A VM port with the Neutron port chains; a router to the outside (198.51.100.20)."""
    b = MemoryTopology()
    net, r = b.bridge("net"), b.router("r")
    vm = b.bridge_port(net, port_id="vm")
    b.bridge_port(net, port_id="other")
    b.link(b.bridge_port(net, port_id="net:up"),
           b.router_port(r, "172.16.3.1/24", RIN, port_id="r:in"))
    b.router_port(r, "198.51.100.1/24", ROUT, host="gw", port_id="r:out")

    inbound = b.chain("OS_PORT_6f72_INBOUND")  # from the VM: anti-spoofing
    b.rule(inbound, "drop", dlType=2048, nwSrcAddress=VM_IP, invNwSrc=True)
    b.rule(inbound, "drop", dlSrc=VM_MAC, invDlSrc=True)
    b.rule(inbound, "accept", matchReturnFlow=True)
    b.rule(inbound, "jump", jumpChainId="OS_SG_0505_EGRESS")
    b.rule(inbound, "drop", dlType=2054, invDlType=True)
    egress = b.chain("OS_SG_0505_EGRESS")
    b.rule(egress, "accept", dlType=2048)

    outbound = b.chain("OS_PORT_6f72_OUTBOUND")  # to the VM
    b.rule(outbound, "accept", matchReturnFlow=True)
    b.rule(outbound, "jump", jumpChainId="OS_SG_0505_INGRESS")
    b.rule(outbound, "drop", dlType=2054, invDlType=True)
    ingress = b.chain("OS_SG_0505_INGRESS")
    for proto, port in ((6, 5900), (1, None), (6, 22), (6, 80)):
        tp = {} if port is None else {"tpDst": {"start": port, "end": port}}
        b.rule(ingress, "accept", dlType=2048, nwProto=proto, **ANY, **tp)
    vm.update(inboundFilterId=inbound["id"], outboundFilterId=outbound["id"])

    state = State.in_memory()
    state.arps.put("r", "198.51.100.20", OUT_MAC)
    state.arps.put("r", VM_IP, VM_MAC)
    state.macs.learn("net", VM_MAC, None, "vm")
    return b, state


def from_vm(dst: str = "198.51.100.20", **more: Any) -> Packet:
    return packets.tcp(VM_MAC, RIN, VM_IP, dst, 40000, 443, **more)


def to_vm(sport: int = 443, dport: int = 40000) -> Packet:
    return packets.tcp(OUT_MAC, ROUT, "198.51.100.20", VM_IP, sport, dport)


def test_sg_forged_ip_and_mac_are_dropped(sg: tuple[MemoryTopology, State]) -> None:
    b, state = sg
    assert out_ports(simulate(b.view(), state, "vm", from_vm())) == ["r:out"]
    assert_dropped(simulate(b.view(), state, "vm", from_vm(ipv4_src="172.16.3.4")))
    assert_dropped(simulate(b.view(), state, "vm", from_vm(eth_src="fa:16:3e:00:00:01")))


def test_sg_only_arp_passes_besides_ipv4(sg: tuple[MemoryTopology, State]) -> None:
    b, state = sg
    arp = packets.arp(1, VM_MAC, VM_IP, "172.16.3.77")  # nobody known: it floods
    assert out_ports(simulate(b.view(), state, "vm", arp)) == ["other"]
    forged_arp = arp.replace(eth_src="fa:16:3e:00:00:01")
    assert_dropped(simulate(b.view(), state, "vm", forged_arp))
    ipv6 = Packet(eth_src=VM_MAC, eth_dst="33:33:00:00:00:01", eth_type=0x86DD)
    assert_dropped(simulate(b.view(), state, "vm", ipv6))  # non-ARP, not accepted by the SG


def test_sg_return_flows_are_accepted_and_new_inbound_ones_filtered(
        sg: tuple[MemoryTopology, State]) -> None:
    b, state = sg
    assert_dropped(simulate(b.view(), state, "r:out", to_vm()))  # nothing known yet
    forward = simulate(b.view(), state, "vm", from_vm())  # through the SG egress chain
    assert out_ports(forward) == ["r:out"]
    back = simulate(b.view(), state, "r:out", to_vm())
    assert out_ports(back) == ["vm"]  # return flow
    assert has_step(back, "known: return")
    assert_dropped(simulate(b.view(), state, "r:out", to_vm(dport=40001)))  # another connection
    assert out_ports(simulate(b.view(), state, "r:out", to_vm(40001, 22))) == ["vm"]  # SG: ssh
    assert_dropped(simulate(b.view(), state, "r:out", to_vm(40001, 8080)))


def test_sg_inbound_ping_is_accepted_by_the_ingress_rules(
        sg: tuple[MemoryTopology, State]) -> None:
    b, state = sg
    ping = to_vm().replace(ip_proto=IP_ICMP, tcp_src=None, tcp_dst=None, icmpv4_type=8,
                           icmpv4_code=0, payload=b"\x00\x09\x00\x01")
    result = simulate(b.view(), state, "r:out", ping)
    assert out_ports(result) == ["vm"]
    assert not result.cacheable  # conntrack looked the echo identifier up
