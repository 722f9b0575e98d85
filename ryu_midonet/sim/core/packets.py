"""The packets virtual devices generate: ARP requests and replies, ICMP echo replies and errors.

ICMP ``payload`` follows the convention of the frame codec (:mod:`ryu_midonet.datapath.packets`):
for echo messages the identifier, sequence number and data; for errors the quoted original
datagram -- its IP header and the first 8 bytes of its payload (RFC 792).
"""

from __future__ import annotations

import ipaddress
import struct

from ryu_midonet.sim.core.model import ETH_ARP, ETH_IPV4, IP_ICMP, IP_TCP, IP_UDP, Packet

BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"
ARP_REQUEST, ARP_REPLY = 1, 2
ICMP_ECHO_REPLY, ICMP_UNREACH, ICMP_ECHO_REQUEST, ICMP_TIME_EXCEEDED = 0, 3, 8, 11
UNREACH_NET, UNREACH_FRAG_NEEDED = 0, 4
UNREACH_NET_PROHIBITED, UNREACH_HOST_PROHIBITED = 9, 10
ICMP_ERROR_TYPES = frozenset({3, 4, 5, 11, 12})
TTL = 64


def is_multicast(mac: str) -> bool:
    """Group address (broadcast included): the low bit of the first octet is set."""
    return bool(int(mac.split(":", 1)[0], 16) & 1)


def arp_request(sha: str, spa: str, tpa: str) -> Packet:
    """Who has ``tpa``? Tell ``spa`` (at ``sha``), broadcast."""
    return Packet(eth_src=sha, eth_dst=BROADCAST_MAC, eth_type=ETH_ARP, arp_op=ARP_REQUEST,
                  arp_sha=sha, arp_spa=spa, arp_tha=ZERO_MAC, arp_tpa=tpa)


def arp_reply(request: Packet, mac: str) -> Packet:
    """The answer to ``request``: its target address is at ``mac``."""
    asker = request.arp_sha or request.eth_src
    return Packet(eth_src=mac, eth_dst=asker, eth_type=ETH_ARP, arp_op=ARP_REPLY,
                  arp_sha=mac, arp_spa=request.arp_tpa, arp_tha=asker, arp_tpa=request.arp_spa)


def echo_reply(request: Packet, eth_src: str) -> Packet:
    """The answer to an ICMP echo request, sent back to its previous hop from ``eth_src``."""
    return Packet(eth_src=eth_src, eth_dst=request.eth_src, eth_type=ETH_IPV4,
                  ipv4_src=request.ipv4_dst, ipv4_dst=request.ipv4_src, ip_proto=IP_ICMP,
                  nw_ttl=TTL, icmpv4_type=ICMP_ECHO_REPLY, icmpv4_code=0,
                  payload=request.payload)


def may_answer_with_error(original: Packet) -> bool:
    """RFC 1122 3.2.2: no ICMP error about an ICMP error, a non-first fragment, or a packet
    whose source is not a single host."""
    if original.ipv4_src is None or original.ipv4_dst is None:
        return False
    if original.ip_frag == "later":
        return False
    if original.ip_proto == IP_ICMP and original.icmpv4_type in ICMP_ERROR_TYPES:
        return False
    src = ipaddress.IPv4Address(original.ipv4_src)
    if src.is_multicast or src.is_unspecified or src == ipaddress.IPv4Address("255.255.255.255"):
        return False
    return not is_multicast(original.eth_src)


def icmp_error(original: Packet, icmp_type: int, code: int, src_ip: str,
               eth_src: str) -> Packet:
    """An ICMP error about ``original``, from ``src_ip``, back to the previous hop."""
    return Packet(eth_src=eth_src, eth_dst=original.eth_src, eth_type=ETH_IPV4,
                  ipv4_src=src_ip, ipv4_dst=original.ipv4_src, ip_proto=IP_ICMP, nw_ttl=TTL,
                  icmpv4_type=icmp_type, icmpv4_code=code, payload=ip_quote(original))


def ip_quote(p: Packet) -> bytes:
    """The IPv4 header of ``p`` (no options) and the first 8 bytes of its payload."""
    head = _l4_head(p)
    tos = ((p.ip_dscp or 0) << 2) | (p.ip_ecn or 0)
    length = 20 + {IP_TCP: 20, IP_UDP: 8, IP_ICMP: 4}.get(p.ip_proto or 0, 0) + len(p.payload)
    frag = {"first": 0x2000}.get(p.ip_frag or "no", 0)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, tos, length, 0, frag, p.nw_ttl or 0,
                         p.ip_proto or 0, 0, ipaddress.IPv4Address(p.ipv4_src).packed,
                         ipaddress.IPv4Address(p.ipv4_dst).packed)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + head[:8]


def _l4_head(p: Packet) -> bytes:
    if p.l4_head:
        return p.l4_head
    if p.ip_proto == IP_TCP:
        return struct.pack("!HHI", p.tcp_src or 0, p.tcp_dst or 0, 0)
    if p.ip_proto == IP_UDP:
        return struct.pack("!HHHH", p.udp_src or 0, p.udp_dst or 0, 8 + len(p.payload), 0)
    if p.ip_proto == IP_ICMP:
        body = (p.payload + bytes(4))[:4]
        head = struct.pack("!BBH", p.icmpv4_type or 0, p.icmpv4_code or 0, 0) + body
        total = head + p.payload[4:]
        return head[:2] + struct.pack("!H", checksum(total)) + head[4:]
    return p.payload[:8]


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)
