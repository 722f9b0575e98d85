"""Generated packets: ARP, ICMP echo replies and errors quoting the original datagram."""

from __future__ import annotations

import struct

from os_ken.lib.packet import icmp, ipv4, packet, tcp

from ryu_midonet.datapath.packets import build, parse
from ryu_midonet.sim.core import packets
from ryu_midonet.sim.core.model import IP_ICMP, IP_TCP, IP_UDP
from tests.support.packets import tcp as tcp_packet

A, B = "02:00:00:00:00:01", "02:00:00:00:00:02"
TCP = tcp_packet(A, B, "10.0.0.5", "8.8.8.8", 40000, 443, ttl=1, ip_dscp=10)


def test_checksum_of_a_known_header() -> None:
    header = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    assert packets.checksum(header) == 0xB861


def test_quote_is_the_ip_header_and_eight_bytes() -> None:
    quote = packets.ip_quote(TCP)
    assert len(quote) == 28
    header = ipv4.ipv4.parser(quote)[0]
    assert (header.src, header.dst, header.ttl, header.proto, header.tos) == (
        "10.0.0.5", "8.8.8.8", 1, IP_TCP, 40)
    assert packets.checksum(quote[:20]) == 0  # valid header checksum
    assert struct.unpack("!HH", quote[20:24]) == (40000, 443)


def test_quote_uses_the_received_l4_header_when_known() -> None:
    head = struct.pack("!HHI", 40000, 443, 0xDEADBEEF) + b"rest of the header"
    quote = packets.ip_quote(TCP.replace(l4_head=head))
    assert quote[20:] == head[:8]  # the sender checks the quoted sequence number


def test_quote_of_udp_and_icmp() -> None:
    udp = TCP.replace(ip_proto=IP_UDP, tcp_src=None, tcp_dst=None, udp_src=53, udp_dst=5353,
                      payload=b"abcd")
    assert struct.unpack("!HHH", packets.ip_quote(udp)[20:26]) == (53, 5353, 12)
    echo = TCP.replace(ip_proto=IP_ICMP, tcp_src=None, tcp_dst=None, icmpv4_type=8,
                       icmpv4_code=0, payload=b"\x00\x07\x00\x01data")
    head = packets.ip_quote(echo)[20:]
    assert head[0:2] == b"\x08\x00" and head[4:8] == b"\x00\x07\x00\x01"
    assert packets.checksum(b"\x08\x00" + head[2:4] + echo.payload) == 0


def test_icmp_error_frame_round_trips_through_the_frame_codec() -> None:
    error = packets.icmp_error(TCP, packets.ICMP_TIME_EXCEEDED, 0, "10.0.0.1", B)
    frame = build(error)
    parsed = packet.Packet(frame)
    msg = parsed.get_protocol(icmp.icmp)
    assert (msg.type, msg.code) == (11, 0)
    quoted = ipv4.ipv4.parser(msg.data.data)[0]
    assert (quoted.src, quoted.dst) == ("10.0.0.5", "8.8.8.8")
    seg = tcp.tcp.parser(msg.data.data[20:] + bytes(12))[0]
    assert (seg.src_port, seg.dst_port) == (40000, 443)
    back = parse(frame)
    assert back is not None and (back.ipv4_src, back.ipv4_dst, back.eth_dst) == (
        "10.0.0.1", "10.0.0.5", A)


def test_echo_reply_swaps_addresses_and_keeps_the_payload() -> None:
    request = TCP.replace(ip_proto=IP_ICMP, tcp_src=None, tcp_dst=None, icmpv4_type=8,
                          icmpv4_code=0, nw_ttl=64, payload=b"\x00\x07\x00\x01data")
    reply = packets.echo_reply(request, B)
    assert (reply.eth_src, reply.eth_dst, reply.ipv4_src, reply.ipv4_dst) == (
        B, A, "8.8.8.8", "10.0.0.5")
    assert (reply.icmpv4_type, reply.payload) == (0, request.payload)
    parsed = parse(build(reply))
    assert parsed is not None and parsed.payload == request.payload


def test_arp_reply_answers_the_request() -> None:
    request = packets.arp_request(A, "10.0.0.5", "10.0.0.1")
    assert (request.eth_dst, request.arp_op, request.arp_tha) == (
        packets.BROADCAST_MAC, 1, packets.ZERO_MAC)
    reply = packets.arp_reply(request, B)
    assert (reply.eth_src, reply.eth_dst, reply.arp_op) == (B, A, 2)
    assert (reply.arp_sha, reply.arp_spa, reply.arp_tha, reply.arp_tpa) == (
        B, "10.0.0.1", A, "10.0.0.5")


def test_no_errors_about_errors_fragments_or_group_sources() -> None:
    assert packets.may_answer_with_error(TCP)
    assert not packets.may_answer_with_error(TCP.replace(ip_frag="later"))
    assert packets.may_answer_with_error(TCP.replace(ip_frag="first"))
    assert not packets.may_answer_with_error(
        TCP.replace(ip_proto=IP_ICMP, icmpv4_type=11, icmpv4_code=0))
    assert packets.may_answer_with_error(TCP.replace(ip_proto=IP_ICMP, icmpv4_type=8))
    assert not packets.may_answer_with_error(TCP.replace(ipv4_src="0.0.0.0"))
    assert not packets.may_answer_with_error(TCP.replace(ipv4_src="224.0.0.5"))
    assert not packets.may_answer_with_error(TCP.replace(eth_src="01:00:5e:00:00:01"))


def test_group_mac_addresses() -> None:
    assert packets.is_multicast("ff:ff:ff:ff:ff:ff")
    assert packets.is_multicast("33:33:00:00:00:01")
    assert not packets.is_multicast("02:00:00:00:00:01")
