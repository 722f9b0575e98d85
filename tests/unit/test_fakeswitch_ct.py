"""The fake switch's connection tracker: flows with ``ct`` go through the real os-ken
messages (Nicira actions) and packets get the states and translations Open vSwitch's
userspace conntrack gives them."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from ryu_midonet.datapath import conntrack as ctm
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath.fakeswitch import FakeSwitch, SwitchError
from ryu_midonet.datapath.flows import (
    CT_CLEAR,
    CT_DNAT,
    CT_EST,
    CT_INV,
    CT_NEW,
    CT_REL,
    CT_RPL,
    CT_SNAT,
    CT_TRK,
    FlowSpec,
    Nat,
    ct,
    ct_state,
    goto,
    output,
    set_field,
)
from ryu_midonet.datapath.ofcheck import NotUnderstood
from tests.support.ctflows import CT_TABLES, GATEWAY_MAC, IP, Side, snat_flows, tcp

A = Side(1, "02:00:00:00:93:0a", "10.1.0.11")
B = Side(2, "02:00:00:00:93:0b", "10.2.0.12")
NAT_IP = "10.2.0.100"
SYN, ACK, FIN, RST = 0x02, 0x10, 0x01, 0x04
RANGE = Nat("src", (NAT_IP, NAT_IP), (40000, 40003))
TABLE = p.TABLE_FLOWS


def snat_switch(*services: tuple[int, int, Nat]) -> FakeSwitch:
    switch = FakeSwitch(tables=CT_TABLES)
    switch.apply(snat_flows(A, B, list(services)))
    return switch


def out(switch: FakeSwitch, pkt: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return switch.process(pkt).outputs


def one(switch: FakeSwitch, pkt: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    outputs = out(switch, pkt)
    assert len(outputs) == 1, outputs
    return outputs[0]


def udp(src: Side, dst_ip: str, sport: int, dport: int, **extra: Any) -> dict[str, Any]:
    return {"in_port": src.port, "eth_src": src.mac, "eth_dst": GATEWAY_MAC, **IP,
            "ipv4_src": src.ip, "ipv4_dst": dst_ip, "ip_proto": 17, "udp_src": sport,
            "udp_dst": dport, **extra}


def ip_header(src: str, dst: str, proto: int, length: int) -> bytes:
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, length, 1, 0, 64, proto, 0,
                       bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return head[:10] + struct.pack("!H", checksum(head)) + head[12:]


def checksum(data: bytes) -> int:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_quote(src: str, dst: str, sport: int, dport: int, csum: int = 0) -> bytes:
    return ip_header(src, dst, 17, 28 + 4) + struct.pack("!HHHH", sport, dport, 12, csum)


def port_unreachable(src: Side, dst_ip: str, quote: bytes) -> dict[str, Any]:
    return {"in_port": src.port, "eth_src": src.mac, "eth_dst": GATEWAY_MAC, **IP,
            "ipv4_src": src.ip, "ipv4_dst": dst_ip, "ip_proto": 1, "icmpv4_type": 3,
            "icmpv4_code": 3, "payload": quote}


def echo(src: str, dst: str, ident: int, kind: int = 8) -> dict[str, Any]:
    return {**IP, "ipv4_src": src, "ipv4_dst": dst, "ip_proto": 1, "icmpv4_type": kind,
            "icmpv4_code": 0, "payload": struct.pack("!HH", ident, 1)}


def state_after(tracker: ctm.ConnTracker, pkt: dict[str, Any], zone: int = 0,
                **kwargs: Any) -> int:
    tracker.execute(pkt, zone, **kwargs)
    md: ctm.PacketCt = pkt[ctm.META]
    return md.state


# -- states --------------------------------------------------------------------------------

def test_udp_is_new_until_a_reply_then_established_both_ways() -> None:
    tracker = ctm.ConnTracker()
    assert state_after(tracker, udp(A, B.ip, 5000, 53), commit=True) == CT_TRK | CT_NEW
    assert state_after(tracker, udp(A, B.ip, 5000, 53)) == CT_TRK | CT_NEW
    reply = udp(B, A.ip, 53, 5000)
    assert state_after(tracker, reply) == CT_TRK | CT_EST | CT_RPL
    assert state_after(tracker, udp(A, B.ip, 5000, 53)) == CT_TRK | CT_EST


def test_an_uncommitted_connection_is_forgotten() -> None:
    tracker = ctm.ConnTracker()
    assert state_after(tracker, udp(A, B.ip, 5000, 53)) == CT_TRK | CT_NEW
    assert state_after(tracker, udp(B, A.ip, 53, 5000)) == CT_TRK | CT_NEW
    assert tracker.connections() == []


def test_tcp_opens_with_a_syn_only() -> None:
    tracker = ctm.ConnTracker()
    assert state_after(tracker, tcp(A, B.ip, 3333, 80, SYN | ACK)) == CT_TRK | CT_INV
    assert state_after(tracker, tcp(A, B.ip, 3333, 80, FIN)) == CT_TRK | CT_INV
    assert state_after(tracker, tcp(A, B.ip, 3333, 80, SYN), commit=True) == CT_TRK | CT_NEW
    assert state_after(tracker, tcp(A, B.ip, 3333, 80, SYN)) == CT_TRK | CT_NEW  # again
    assert state_after(tracker, tcp(B, A.ip, 80, 3333, SYN | ACK)) == (
        CT_TRK | CT_EST | CT_RPL)
    assert state_after(tracker, tcp(A, B.ip, 3333, 80, ACK)) == CT_TRK | CT_EST
    assert state_after(tracker, tcp(A, B.ip, 3333, 80, SYN | FIN)) == CT_TRK | CT_INV


def test_tcp_reopened_after_a_reset_is_not_modelled() -> None:
    tracker = ctm.ConnTracker()
    state_after(tracker, tcp(A, B.ip, 3333, 80, SYN), commit=True)
    state_after(tracker, tcp(B, A.ip, 80, 3333, RST | ACK))
    with pytest.raises(NotUnderstood):
        state_after(tracker, tcp(A, B.ip, 3333, 80, SYN))


def test_icmp_echo_is_tracked_by_identifier_and_a_lone_reply_is_invalid() -> None:
    tracker = ctm.ConnTracker()
    assert state_after(tracker, echo(A.ip, B.ip, 77, kind=0)) == CT_TRK | CT_INV
    assert state_after(tracker, echo(A.ip, B.ip, 77), commit=True) == CT_TRK | CT_NEW
    assert state_after(tracker, echo(B.ip, A.ip, 77, kind=0)) == CT_TRK | CT_EST | CT_RPL
    assert state_after(tracker, echo(B.ip, A.ip, 78, kind=0)) == CT_TRK | CT_INV


def test_zones_keep_connections_apart() -> None:
    tracker = ctm.ConnTracker()
    state_after(tracker, udp(A, B.ip, 5000, 53), zone=1, commit=True)
    assert state_after(tracker, udp(B, A.ip, 53, 5000), zone=2) == CT_TRK | CT_NEW
    assert state_after(tracker, udp(B, A.ip, 53, 5000), zone=1) == CT_TRK | CT_EST | CT_RPL
    assert [c.key.zone for c in tracker.connections()] == [1]


def test_force_restarts_a_connection_met_in_the_reply_direction() -> None:
    tracker = ctm.ConnTracker()
    state_after(tracker, udp(A, B.ip, 5000, 53), commit=True)
    assert state_after(tracker, udp(B, A.ip, 53, 5000), commit=True, force=True) == (
        CT_TRK | CT_NEW)
    (conn,) = tracker.connections()
    assert conn.key.src == ctm._addr(B.ip)


def test_an_error_about_a_connection_is_related_and_about_none_invalid() -> None:
    tracker = ctm.ConnTracker()
    error = port_unreachable(B, A.ip, udp_quote(A.ip, B.ip, 5000, 53))
    assert state_after(tracker, dict(error)) == CT_TRK | CT_INV
    state_after(tracker, udp(A, B.ip, 5000, 53), commit=True)
    assert state_after(tracker, dict(error)) == CT_TRK | CT_REL | CT_RPL
    wrong = port_unreachable(B, "10.1.0.99", udp_quote(A.ip, B.ip, 5000, 53))
    assert state_after(tracker, wrong) == CT_TRK | CT_INV  # quote not from the receiver


# -- NAT through the pipeline ---------------------------------------------------------------

def test_snat_picks_ports_of_the_range_until_none_is_free() -> None:
    switch = snat_switch((6, 8080, RANGE))
    seen = []
    for sport in (33001, 33002, 33003, 33004):
        port, pkt = one(switch, tcp(A, B.ip, sport, 8080, SYN))
        assert port == B.port and pkt["ipv4_src"] == NAT_IP and pkt["eth_dst"] == B.mac
        seen.append(pkt["tcp_src"])
    assert sorted(seen) == [40000, 40001, 40002, 40003]
    assert out(switch, tcp(A, B.ip, 33005, 8080, SYN)) == []  # nothing free: dropped
    assert len(switch.conntrack.connections()) == 4


def test_every_packet_of_a_connection_gets_the_same_translation() -> None:
    switch = snat_switch((6, 8080, RANGE))
    _, first = one(switch, tcp(A, B.ip, 33001, 8080, SYN))
    _, again = one(switch, tcp(A, B.ip, 33001, 8080, SYN))
    _, later = one(switch, tcp(A, B.ip, 33001, 8080, ACK))
    assert first["tcp_src"] == again["tcp_src"] == later["tcp_src"]


def test_replies_are_translated_back() -> None:
    switch = snat_switch((6, 8080, RANGE))
    _, sent = one(switch, tcp(A, B.ip, 33001, 8080, SYN))
    port, back = one(switch, tcp(B, NAT_IP, 8080, sent["tcp_src"], SYN | ACK, B.mac))
    assert port == A.port
    assert (back["ipv4_src"], back["ipv4_dst"], back["tcp_src"], back["tcp_dst"]) == (
        B.ip, A.ip, 8080, 33001)
    assert back["eth_dst"] == A.mac


def test_snat_without_ports_keeps_the_port_unless_taken() -> None:
    switch = snat_switch((6, 8081, Nat("src", (NAT_IP, NAT_IP))))
    other = Side(A.port, A.mac, "10.1.0.21")
    _, first = one(switch, tcp(A, B.ip, 33333, 8081, SYN))
    _, second = one(switch, tcp(other, B.ip, 33333, 8081, SYN))
    assert (first["ipv4_src"], first["tcp_src"]) == (NAT_IP, 33333)
    assert (second["ipv4_src"], second["tcp_src"]) == (NAT_IP, 33334)


def test_a_packet_from_outside_starts_nothing() -> None:
    switch = snat_switch((6, 8080, RANGE))
    assert out(switch, tcp(B, NAT_IP, 8080, 40000, SYN, B.mac)) == []
    assert switch.conntrack.connections() == []


def test_an_icmp_error_about_a_translated_connection_is_related_and_its_quote_translated() \
        -> None:
    switch = snat_switch((17, 5353, RANGE))
    _, sent = one(switch, udp(A, B.ip, 5000, 5353))
    nat_port = sent["udp_src"]
    quote = udp_quote(NAT_IP, B.ip, nat_port, 5353, csum=0x1234)
    port, error = one(switch, port_unreachable(B, NAT_IP, quote))
    assert port == A.port and error["ipv4_dst"] == A.ip and error["ipv4_src"] == B.ip
    inner = error["payload"]
    assert inner[12:16] == bytes([10, 1, 0, 11]) and struct.unpack("!HH", inner[20:24]) == (
        5000, 5353)
    assert checksum(inner[:20]) == 0  # the quoted IP header's checksum is right again


def test_the_quoted_udp_checksum_follows_the_translation() -> None:
    """The quoted UDP checksum changes by what the address and port changed (RFC 1624)."""
    tracker = ctm.ConnTracker()
    nat = ctm.translate_request("src", NAT_IP, NAT_IP, 40000, 40000)
    fwd = udp(A, B.ip, 5000, 5353)
    tracker.execute(fwd, 3, commit=True, nat=nat)
    body = struct.pack("!HHH", 40000, 5353, 12) + b"\0\0" + b"data"
    csum = ones_sum(pseudo(NAT_IP, B.ip, len(body)) + body)
    quote = ip_header(NAT_IP, B.ip, 17, 20 + len(body)) + body[:6] + struct.pack("!H", csum)
    error = port_unreachable(B, NAT_IP, quote)
    tracker.execute(error, 3, nat=ctm.NatRequest())
    inner = error["payload"]
    fixed = struct.pack("!HHH", 5000, 5353, 12) + inner[26:28] + b"data"
    assert ones_sum(pseudo(A.ip, B.ip, len(body)) + fixed) == 0


def pseudo(src: str, dst: str, length: int) -> bytes:
    return (bytes(map(int, src.split("."))) + bytes(map(int, dst.split(".")))
            + struct.pack("!BBH", 0, 17, length))


def ones_sum(data: bytes) -> int:
    return checksum(data)


def test_dnat_translates_the_destination_and_replies_the_source() -> None:
    tracker = ctm.ConnTracker()
    nat = ctm.translate_request("dst", "10.3.0.5", "10.3.0.5", 80, 80)
    fwd = tcp(A, "10.2.0.200", 3333, 8080, SYN)
    assert state_after(tracker, fwd, 5, commit=True, nat=nat) == CT_TRK | CT_NEW | CT_DNAT
    assert (fwd["ipv4_dst"], fwd["tcp_dst"], fwd["tcp_src"]) == ("10.3.0.5", 80, 3333)
    back = tcp(B, A.ip, 80, 3333, SYN | ACK) | {"ipv4_src": "10.3.0.5"}
    state = state_after(tracker, back, 5, nat=ctm.NatRequest())
    assert state == CT_TRK | CT_EST | CT_RPL | CT_SNAT
    assert (back["ipv4_src"], back["tcp_src"]) == ("10.2.0.200", 8080)


def test_icmp_echo_keeps_its_identifier_through_snat() -> None:
    tracker = ctm.ConnTracker()
    nat = ctm.translate_request("src", NAT_IP, NAT_IP, None, None)
    req = echo(A.ip, B.ip, 77)
    state_after(tracker, req, commit=True, nat=nat)
    assert req["ipv4_src"] == NAT_IP and req["payload"][:2] == struct.pack("!H", 77)
    clash = echo("10.1.0.21", B.ip, 77)  # the same identifier towards the same host
    assert state_after(tracker, clash, commit=True, nat=nat) == CT_TRK | CT_NEW
    assert clash["ipv4_src"] == "10.1.0.21" and len(tracker.connections()) == 1


# -- the switch: zones, marks, ct_clear, contracts ---------------------------------------

def mark_flows(zone: int | str) -> list[FlowSpec]:
    return [
        FlowSpec(p.TABLE_CLASSIFY, 10, {"in_port": 1}, (goto(TABLE),)),
        FlowSpec(TABLE, 10, {"in_port": 1, **IP, "ct_state": ct_state(trk=False)},
                 (set_field("reg6", 9), ct(zone=zone, table=TABLE))),
        FlowSpec(TABLE, 30, {"in_port": 1, **IP, "ct_state": ct_state(trk=True, new=True)},
                 (ct(commit=True, zone=zone, mark=0x2A), CT_CLEAR, output(2))),
        FlowSpec(TABLE, 30, {"in_port": 1, **IP, "ct_state": ct_state(trk=True, est=True),
                             "ct_mark": 0x2A, "ct_zone": 9}, (output(3),)),
    ]


@pytest.mark.parametrize("zone", [9, "reg6"])
def test_a_zone_from_a_register_and_a_mark_kept_with_the_connection(zone: int | str) -> None:
    switch = FakeSwitch(tables=CT_TABLES)
    switch.apply(mark_flows(zone))
    assert [port for port, _ in out(switch, udp(A, B.ip, 5000, 53))] == [2]
    switch.conntrack.execute(udp(B, A.ip, 53, 5000), 9)  # the reply makes it established
    assert [port for port, _ in out(switch, udp(A, B.ip, 5000, 53))] == [3]
    assert [c.mark for c in switch.conntrack.connections(9)] == [0x2A]


def test_packets_leave_without_switch_metadata() -> None:
    switch = FakeSwitch(tables=CT_TABLES)
    switch.apply(mark_flows(9))
    (_, pkt), = out(switch, udp(A, B.ip, 5000, 53))
    assert not {"ct_state", "ct_zone", "ct_mark", "reg6", ctm.META} & set(pkt)


def test_ct_clear_forgets_the_state() -> None:
    tracker = ctm.ConnTracker()
    pkt = udp(A, B.ip, 5000, 53)
    tracker.execute(pkt, 4)
    assert ctm.visible(ctm.forget(pkt)) == ctm.strip(udp(A, B.ip, 5000, 53))


def test_ct_is_in_no_table_of_the_agents_pipeline() -> None:
    switch = FakeSwitch()
    with pytest.raises(p.FlowRefused):
        switch.apply([FlowSpec(TABLE, 10, {"in_port": 1, **IP}, (ct(table=TABLE),))])


def test_recirculation_must_be_to_a_declared_table() -> None:
    switch = FakeSwitch(tables=CT_TABLES)
    with pytest.raises(p.FlowRefused, match="recirculates to table 2"):
        switch.apply([FlowSpec(TABLE, 10, {"in_port": 1, **IP}, (ct(table=2),))])


@pytest.mark.parametrize(("match", "action", "error"), [
    ({"in_port": 1}, ct(), SwitchError),  # not known to be IPv4
    ({"in_port": 1, **IP, "ct_state": ct_state(inv=True)}, ct(commit=True), SwitchError),
    ({"in_port": 1, **IP}, set_field("ct_mark", 1), NotUnderstood),
])
def test_flows_open_vswitch_refuses(match: dict[str, Any], action: Any,
                                    error: type[Exception]) -> None:
    switch = FakeSwitch(tables=CT_TABLES)
    with pytest.raises(error):
        switch.apply([FlowSpec(TABLE, 10, match, (action,))])


def test_headers_read_after_a_ct_with_nat_are_not_modelled() -> None:
    switch = FakeSwitch(tables=CT_TABLES)
    with pytest.raises(NotUnderstood):
        switch.apply([FlowSpec(TABLE, 10, {"in_port": 1, **IP}, (
            ct(commit=True, nat=RANGE), set_field("ipv4_dst", "10.0.0.1"), output(2)))])


def test_specs_refuse_what_ct_cannot_say() -> None:
    with pytest.raises(ValueError):
        ct(nat=RANGE)  # nat(src=...) needs commit
    with pytest.raises(ValueError):
        ct(zone="metadata")
    with pytest.raises(ValueError):
        Nat(None, (NAT_IP, NAT_IP))


def test_specs_read_as_ovs_ofctl_writes_them() -> None:
    action = ct(commit=True, zone="reg6", table=1, nat=RANGE, mark=5)
    assert str(action) == ("ct(commit,zone=NXM_NX_REG6[0..15],table=1,"
                           "nat(src=10.2.0.100:40000-40003),exec(set_field:0x5->ct_mark))")
    assert ct_state(trk=True, new=True, est=False) == (CT_TRK | CT_NEW, CT_TRK | CT_NEW | CT_EST)
