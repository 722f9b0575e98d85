"""Frames read directly give the same packets as os-ken's packet library gives."""

from __future__ import annotations

import random
import struct

from ryu_midonet.datapath import packets
from ryu_midonet.sim.core.model import ETH_ARP, ETH_IPV4, IP_ICMP, IP_TCP, IP_UDP, Packet


def _frames(rng: random.Random) -> list[bytes]:
    out = []
    for proto in (IP_UDP, IP_TCP, IP_ICMP):
        for sport, dport in ((1024, 5001), (68, 67), (40000, 4789), (179, 5555), (0, 0)):
            p = Packet(eth_src="02:AB:00:00:00:01", eth_dst="ff:ff:ff:ff:ff:ff",
                       eth_type=ETH_IPV4, ipv4_src="10.0.0.2", ipv4_dst="10.0.1.9",
                       ip_proto=proto, nw_ttl=rng.randrange(256), ip_dscp=rng.randrange(64),
                       ip_ecn=rng.randrange(4), udp_src=sport, udp_dst=dport,
                       tcp_src=sport, tcp_dst=dport, icmpv4_type=8, payload=b"\1\2\3\4abc")
            out.append(packets.build(p))
    out.append(packets.build(Packet(eth_src="02:00:00:00:00:01", eth_dst="02:00:00:00:00:02",
                                    eth_type=ETH_ARP, arp_op=1, arp_spa="10.0.0.1",
                                    arp_tpa="10.0.0.2")))
    out.append(packets.build(Packet(eth_src="02:00:00:00:00:01", eth_dst="02:00:00:00:00:02",
                                    eth_type=ETH_IPV4, vlan_vid=7, ipv4_src="1.2.3.4",
                                    ipv4_dst="5.6.7.8", ip_proto=IP_UDP, udp_src=9,
                                    udp_dst=10)))
    return out


def _mutations(rng: random.Random, frame: bytes) -> list[bytes]:
    """The frame with header bytes changed, cut short, padded or zeroed."""
    out = [frame, frame[:rng.randrange(len(frame))], frame + bytes(rng.randrange(30))]
    for _ in range(12):
        data = bytearray(frame)
        at = rng.choice([14, 14, 15, 16, 17, 20, 21, 23, 34, 35, 36, 37, 38, 46, 47])
        if at < len(data):
            data[at] = rng.randrange(256)
        out.append(bytes(data))
    zero = bytearray(frame)
    zero[34:] = bytes(len(zero) - 34)
    out.append(bytes(zero))
    fragment = bytearray(frame)
    struct.pack_into("!H", fragment, 20, rng.choice([0x2000, 0x0001, 0x4000, 0x2005]))
    out.append(bytes(fragment))
    options = bytearray(frame)
    options[14] = 0x46
    out.append(bytes(options))
    return out


def test_direct_reading_gives_os_kens_packets() -> None:
    rng = random.Random(11)
    seen = 0
    for frame in _frames(rng):
        for data in _mutations(rng, frame):
            assert packets.parse(data) == packets.parse_with_os_ken(data), data.hex()
            seen += 1
    assert seen > 200


def test_a_tcp_segment_keeps_its_ports_and_first_bytes() -> None:
    p = Packet(eth_src="02:00:00:00:00:01", eth_dst="02:00:00:00:00:02", eth_type=ETH_IPV4,
               ipv4_src="10.0.0.1", ipv4_dst="10.0.0.2", ip_proto=IP_TCP, nw_ttl=64,
               tcp_src=33000, tcp_dst=22)
    got = packets.parse(packets.build(p))
    assert got is not None and (got.tcp_src, got.tcp_dst, got.ip_frag) == (33000, 22, "no")
    assert got.l4_head[:4] == struct.pack("!HH", 33000, 22)
