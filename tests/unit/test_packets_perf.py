"""Frames read directly give the same packets as os-ken's packet library gives."""

from __future__ import annotations

import random
import signal
import struct
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

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
            expected = packets.parse_with_os_ken(data)
            if expected is not None:  # os-ken refuses some payloads it need not read
                assert packets.parse(data) == expected, data.hex()
            seen += 1
    assert seen > 200


def test_a_tcp_segment_keeps_its_ports_and_first_bytes() -> None:
    p = Packet(eth_src="02:00:00:00:00:01", eth_dst="02:00:00:00:00:02", eth_type=ETH_IPV4,
               ipv4_src="10.0.0.1", ipv4_dst="10.0.0.2", ip_proto=IP_TCP, nw_ttl=64,
               tcp_src=33000, tcp_dst=22)
    got = packets.parse(packets.build(p))
    assert got is not None and (got.tcp_src, got.tcp_dst, got.ip_frag) == (33000, 22, "no")
    assert got.l4_head[:4] == struct.pack("!HH", 33000, 22)


@contextmanager
def _within(seconds: float) -> Iterator[None]:
    """Fail instead of hanging when the block takes longer than ``seconds``."""
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError("parsing did not finish")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _tcp_frame(tag: bytes, dport: int, options: bytes, payload: bytes = b"") -> bytes:
    segment = struct.pack("!HHIIBBHHH", 40000, dport, 0, 0, (5 + len(options) // 4) << 4,
                          0x18, 1000, 0, 0) + options + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(segment), 0, 0, 64, IP_TCP, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return bytes.fromhex("020000000002020000000001") + tag + b"\x08\x00" + ip + segment


@pytest.mark.parametrize("tag", [b"", bytes.fromhex("81000005"),
                                 bytes.fromhex("88a8000981000005")])
@pytest.mark.parametrize("dport", [80, 179, 6653])
@pytest.mark.parametrize("option", [bytes([99, 0, 0, 0]), bytes([5, 0, 0, 0]),
                                    bytes([99, 1, 1, 1])])
def test_crafted_tcp_options_never_stop_the_parser(tag: bytes, dport: int,
                                                   option: bytes) -> None:
    """A TCP option of length 0 or 1 made os-ken's parser loop forever (for tagged frames,
    and for ports whose payload it parses): the agent would have stopped handling misses."""
    with _within(5):
        got = packets.parse(_tcp_frame(tag, dport, option, b"garbage that is not BGP"))
    assert got is not None
    assert (got.tcp_src, got.tcp_dst, got.ipv4_dst) == (40000, dport, "10.0.0.2")
    assert got.vlan_vid == (5 if tag else None)


def test_other_ethertypes_are_read_no_further_than_ethernet() -> None:
    """An IPv6 frame carrying a crafted TCP segment: only its Ethernet header is read."""
    segment = struct.pack("!HHIIBBHHH", 1, 2, 0, 0, 6 << 4, 2, 0, 0, 0) + bytes([99, 0, 0, 0])
    ip6 = struct.pack("!IHBB16s16s", 6 << 28, len(segment), IP_TCP, 64, bytes(16), bytes(16))
    frame = bytes.fromhex("020000000002020000000001") + b"\x86\xdd" + ip6 + segment
    with _within(5):
        got = packets.parse(frame)
    assert got is not None and (got.eth_type, got.tcp_src) == (0x86DD, None)
