"""Translating decisions into flows, checked on an in-memory switch and as OpenFlow bytes."""

from __future__ import annotations

from types import SimpleNamespace

from os_ken.ofproto import ofproto_v1_3, ofproto_v1_3_parser

from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as t
from ryu_midonet.datapath.fakeswitch import Entry, FakeSwitch
from ryu_midonet.datapath.flows import FlowDelete, PacketOut, SwitchConfig, output
from ryu_midonet.datapath.ofmsgs import to_ofp
from ryu_midonet.sim.core.model import Output, Packet, Result, Rewrite
from tests.support import packets

VM1_MAC, VM2_MAC, RTR_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:fe"
TCP = packets.tcp(VM1_MAC, RTR_MAC, "10.0.0.11", "10.0.1.12", 40000, 80)
LOCATIONS = {"local-port": t.Local(5), "remote-port": t.Remote(9, "10.99.0.2", 42)}


def _switch() -> FakeSwitch:
    """A switch set up as the agent sets one up when it connects."""
    sw = FakeSwitch()
    sw.apply([SwitchConfig(), FlowDelete(0, 0), *t.base_flows([9]), *t.port_flows(3, 7),
              *t.port_flows(5, 8)])
    return sw


def _cookie(entry: Entry | None) -> int | None:
    """Which flow a lookup found (the flows of these tests have distinct cookies)."""
    return None if entry is None else entry.cookie


def _headers(packet: Packet, in_port: int) -> dict:
    return {**packet.headers(), "in_port": in_port}


def test_unknown_flow_goes_to_agent_then_flow_forwards() -> None:
    sw = _switch()
    assert sw.process(_headers(TCP, 3)).to_controller
    routed = Result(outputs=[Output("remote-port", (
        Rewrite("dec_ttl"), Rewrite("set", "eth_src", "02:00:00:00:01:fe"),
        Rewrite("set", "eth_dst", VM2_MAC)))], fields_read={"ipv4_dst", "eth_dst"})
    flow = t.flow_for(routed, TCP, 3, LOCATIONS.get, p.cookie(p.COOKIE_SIMULATED, 1))
    assert flow is not None
    assert flow.match == {"in_port": 3, "eth_dst": RTR_MAC, "eth_type": 0x0800,
                          "ipv4_dst": "10.0.1.12"}
    sw.apply([flow])
    other_source = TCP.replace(ipv4_src="10.0.0.99", tcp_src=1234)  # wildcarded: same flow
    done = sw.process(_headers(other_source, 3))
    assert not done.to_controller and len(done.outputs) == 1
    port, hdr = done.outputs[0]
    assert port == 9 and hdr["tunnel_id"] == 42 and hdr["tun_ipv4_dst"] == "10.99.0.2"
    assert hdr["nw_ttl"] == 63 and hdr["eth_dst"] == VM2_MAC


def test_egress_host_delivers_by_tunnel_key_without_agent() -> None:
    sw = _switch()
    done = sw.process({"in_port": 9, "tunnel_id": 8, **TCP.headers()})
    assert [port for port, _ in done.outputs] == [5] and not done.to_controller
    assert sw.process({"in_port": 9, "tunnel_id": 99, **TCP.headers()}).outputs == []


def test_expiring_ttl_returns_to_agent() -> None:
    sw = _switch()
    routed = Result(outputs=[Output("local-port", (Rewrite("dec_ttl"),))],
                    fields_read={"ipv4_dst"})
    sw.apply([t.flow_for(routed, TCP, 3, LOCATIONS.get, p.cookie(p.COOKIE_SIMULATED, 2))])
    assert sw.process(_headers(TCP.replace(nw_ttl=1), 3)).to_controller
    assert sw.process(_headers(TCP, 3)).outputs[0][1]["nw_ttl"] == 63


def test_uncacheable_results_install_nothing() -> None:
    assert t.flow_for(Result(cacheable=False), TCP, 3, LOCATIONS.get, 1) is None
    assert t.flow_for(Result(fields_read={"nw_ttl"}), TCP, 3, LOCATIONS.get, 1) is None


def test_flood_outputs_and_prerequisites() -> None:
    arp = Packet(eth_src=VM1_MAC, eth_dst="ff:ff:ff:ff:ff:ff", eth_type=0x0806, arp_op=1,
                 arp_spa="10.0.0.11", arp_tpa="10.0.0.1")
    flood = Result(outputs=[Output("local-port"), Output("remote-port")],
                   fields_read={"eth_dst", "tcp_dst", "arp_tpa"})
    flow = t.flow_for(flood, arp, 3, LOCATIONS.get, 5)
    assert flow.match == {"in_port": 3, "eth_dst": "ff:ff:ff:ff:ff:ff", "eth_type": 0x0806,
                          "arp_tpa": "10.0.0.1"}
    assert [str(a) for a in flow.actions] == [
        "output:5", "set_field:42->tunnel_id", "set_field:10.99.0.2->tun_ipv4_dst", "output:9"]


def test_cookie_delete_removes_only_that_flow() -> None:
    sw = _switch()
    keep = t.flow_for(Result(), TCP, 3, LOCATIONS.get, p.cookie(p.COOKIE_SIMULATED, 1))
    gone = t.flow_for(Result(), TCP.replace(ipv4_dst="1.1.1.1"), 5, LOCATIONS.get,
                      p.cookie(p.COOKIE_SIMULATED, 2))
    sw.apply([keep, gone, FlowDelete(p.cookie(p.COOKIE_SIMULATED, 2))])
    installed = {f.cookie for f in sw.flows}
    assert keep.cookie in installed and gone.cookie not in installed
    assert p.describe_cookie(keep.cookie) == "simulated #1"


def test_specs_serialise_as_openflow13() -> None:
    dp = SimpleNamespace(ofproto=ofproto_v1_3, ofproto_parser=ofproto_v1_3_parser,
                         id=1)
    routed = Result(outputs=[Output("remote-port", (Rewrite("dec_ttl"),
                                                    Rewrite("set", "eth_dst", VM2_MAC)))],
                    fields_read={"ipv4_dst", "tcp_dst"})
    specs = [t.flow_for(routed, TCP, 3, LOCATIONS.get, 11), *t.port_flows(3, 7),
             *t.base_flows([9]), FlowDelete(11), PacketOut(b"\x00" * 60, (output(3),)),
             SwitchConfig()]
    for spec in specs:
        msg = to_ofp(dp, spec)
        msg.set_xid(1)
        msg.serialize()
        assert len(msg.buf) >= 12
    # Open vSwitch's nx-match fragment handling: first fragments keep their L4 ports
    assert to_ofp(dp, SwitchConfig()).flags == 3


def test_frames_round_trip_through_the_packet_model() -> None:
    from ryu_midonet.datapath.packets import build, parse

    echo = packets.icmp(VM1_MAC, RTR_MAC, "10.0.0.11", "10.0.0.1",
                        payload=b"\x12\x34\x00\x01hello")
    back = parse(build(echo))
    assert back.payload == echo.payload and back.icmpv4_type == 8 and back.ip_frag == "no"
    assert back.replace(ip_frag=None, ip_dscp=None, ip_ecn=None, l4_head=b"") == echo
    assert back.l4_head == build(echo)[34:42]
    arp = packets.arp(1, VM1_MAC, "10.0.0.11", "10.0.0.1")
    assert parse(build(arp)) == arp
    tcp = parse(build(TCP))
    assert (tcp.tcp_src, tcp.tcp_dst, tcp.nw_ttl) == (40000, 80, 64)
    unreachable = packets.icmp(RTR_MAC, VM1_MAC, "10.0.0.1", "10.0.0.11", 3, 10,
                               payload=build(TCP)[14:42])
    assert parse(build(unreachable)).payload == build(TCP)[14:42]
    assert parse(b"\x01") is None


def test_fragment_state_is_matched_with_nw_frag_bits() -> None:
    later = TCP.replace(ip_frag="later", tcp_src=None, tcp_dst=None)
    assert t.match_for(later, 3, {"ip_frag", "tcp_dst"}) == {
        "in_port": 3, "eth_type": 0x0800, "ip_frag": (3, 3)}
    assert t.match_for(TCP.replace(ip_frag="no"), 3, {"ip_frag"})["ip_frag"] == (0, 3)
    dp = SimpleNamespace(ofproto=ofproto_v1_3, ofproto_parser=ofproto_v1_3_parser, id=1)
    flow = t.flow_for(Result(fields_read={"ip_frag"}), later, 3, LOCATIONS.get, 1)
    msg = to_ofp(dp, flow)
    msg.set_xid(1)
    msg.serialize()
    # the Nicira field goes after its prerequisite: Open vSwitch refuses the flow otherwise
    assert [name for name, _ in msg.match.items()] == ["in_port", "eth_type", "ip_frag"]
    sw = FakeSwitch()
    sw.apply([flow])
    assert _cookie(sw.lookup(1, {"in_port": 3, "eth_type": 0x0800, "ip_frag": "later"})) == 1
    assert sw.lookup(1, {"in_port": 3, "eth_type": 0x0800, "ip_frag": "first"}) is None


def test_flows_that_read_l4_fields_tell_later_fragments_apart() -> None:
    reply = packets.icmp(VM1_MAC, RTR_MAC, "10.0.0.11", "10.0.1.12", 0, 0)
    later = reply.replace(ip_frag="later", icmpv4_type=None, icmpv4_code=None)
    read = {"eth_type", "ipv4_dst", "ip_proto", "icmpv4_type"}
    # whole packets and first fragments: "not a later fragment", which Open vSwitch needs to
    # tell an echo reply (type 0) from a later fragment (whose L4 fields it sees as 0)
    assert t.match_for(reply, 3, read) == {
        "in_port": 3, "eth_type": 0x0800, "ip_frag": (0, 2), "ipv4_dst": "10.0.1.12",
        "ip_proto": 1, "icmpv4_type": 0}
    # a later fragment lacks the field read: the flow is for later fragments only
    assert t.match_for(later, 3, read) == {
        "in_port": 3, "eth_type": 0x0800, "ip_frag": (2, 2), "ipv4_dst": "10.0.1.12",
        "ip_proto": 1}
    assert "ip_frag" not in t.match_for(reply, 3, {"eth_type", "ipv4_dst"})
    sw = FakeSwitch()
    flows = [t.flow_for(Result(fields_read=read), p, 3, LOCATIONS.get, n)
             for n, p in ((1, reply), (2, later))]
    sw.apply(flows)
    headers = {"in_port": 3, "eth_type": 0x0800, "ipv4_dst": "10.0.1.12", "ip_proto": 1}
    seen_by_ovs = {**headers, "ip_frag": "later", "icmpv4_type": 0, "icmpv4_code": 0}
    assert _cookie(sw.lookup(1, seen_by_ovs)) == flows[1].cookie
    assert _cookie(sw.lookup(1, {**headers, "ip_frag": "first", "icmpv4_type": 0})) == (
        flows[0].cookie)
    assert sw.lookup(1, {**headers, "ip_frag": "no", "icmpv4_type": 3}) is None
