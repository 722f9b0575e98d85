"""Packet factories: the headers of the packets scenario tests send into the simulator.

Every factory takes the addresses first and the rest as keywords; ``ttl`` None leaves the
packet without a TTL, and ``more`` sets or overrides any other header field.
"""

from __future__ import annotations

from typing import Any

from ryu_midonet.sim.core.model import ETH_ARP, ETH_IPV4, IP_ICMP, IP_TCP, IP_UDP, Packet

BCAST = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"


def ipv4(src_mac: str, dst_mac: str, src: str, dst: str, proto: int, ttl: int | None = 64,
         **more: Any) -> Packet:
    """An IPv4 packet of protocol ``proto``."""
    fields: dict[str, Any] = {"eth_src": src_mac, "eth_dst": dst_mac, "eth_type": ETH_IPV4,
                              "ipv4_src": src, "ipv4_dst": dst, "ip_proto": proto,
                              "nw_ttl": ttl}
    fields.update(more)
    return Packet(**fields)


def tcp(src_mac: str, dst_mac: str, src: str, dst: str, sport: int = 40000, dport: int = 80,
        ttl: int | None = 64, **more: Any) -> Packet:
    """A TCP segment."""
    return ipv4(src_mac, dst_mac, src, dst, IP_TCP, ttl,
                **{"tcp_src": sport, "tcp_dst": dport, **more})


def udp(src_mac: str, dst_mac: str, src: str, dst: str, sport: int = 5000, dport: int = 53,
        ttl: int | None = 64, **more: Any) -> Packet:
    """A UDP datagram."""
    return ipv4(src_mac, dst_mac, src, dst, IP_UDP, ttl,
                **{"udp_src": sport, "udp_dst": dport, **more})


def icmp(src_mac: str, dst_mac: str, src: str, dst: str, icmp_type: int = 8, code: int = 0,
         ttl: int | None = 64, **more: Any) -> Packet:
    """An ICMP message, by default an echo request."""
    return ipv4(src_mac, dst_mac, src, dst, IP_ICMP, ttl,
                **{"icmpv4_type": icmp_type, "icmpv4_code": code, **more})


def arp(op: int, src_mac: str, spa: str, tpa: str, dst_mac: str = BCAST,
        tha: str = ZERO_MAC) -> Packet:
    """An ARP request (``op`` 1) or reply (2) sent by ``src_mac``."""
    return Packet(eth_src=src_mac, eth_dst=dst_mac, eth_type=ETH_ARP, arp_op=op,
                  arp_sha=src_mac, arp_spa=spa, arp_tha=tha, arp_tpa=tpa)
