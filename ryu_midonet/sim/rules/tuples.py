"""Connection 5-tuples: of a packet, and of the datagram an ICMP error quotes.

A connection is (protocol, source address and port, destination address and port). TCP and
UDP use their ports; ICMP echo requests and replies use the echo identifier as both ports (so
a reply is the reverse of its request); other IPv4 packets use port 0. An ICMP error
(destination unreachable, time exceeded, parameter problem) belongs to the connection of the
datagram it quotes, in the direction the error travels: the quoted datagram reversed.

Reading a tuple records the header fields it depends on. The echo identifier and the quoted
datagram are not header fields a flow can match, so a decision that depends on them is not
cacheable.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import NamedTuple

from ryu_midonet.sim.core.context import Context, Frame
from ryu_midonet.sim.core.model import ETH_IPV4, IP_ICMP, IP_TCP, IP_UDP, Packet
from ryu_midonet.sim.core.packets import checksum

ICMP_ECHO_TYPES = frozenset({0, 8})
ICMP_ERRORS = frozenset({3, 11, 12})
PORTS = {IP_TCP: ("tcp_src", "tcp_dst"), IP_UDP: ("udp_src", "udp_dst")}


class Conn(NamedTuple):
    proto: int
    src: str
    sport: int
    dst: str
    dport: int

    def reverse(self) -> Conn:
        return Conn(self.proto, self.dst, self.dport, self.src, self.sport)

    def __str__(self) -> str:
        return f"{self.proto}:{self.src}:{self.sport}:{self.dst}:{self.dport}"


class Flow(NamedTuple):
    """A packet's connection and what kind of packet of it: ``ports`` (TCP/UDP), ``echo``,
    ``error`` (an ICMP error about the connection) or ``plain`` (no ports)."""

    conn: Conn
    kind: str


@dataclass(frozen=True)
class Quote:
    """The datagram an ICMP error quotes: its IPv4 header and first 8 payload bytes."""

    data: bytes

    @property
    def header_length(self) -> int:
        return (self.data[0] & 0x0F) * 4

    @property
    def proto(self) -> int:
        return self.data[9]

    @property
    def src(self) -> str:
        return str(ipaddress.IPv4Address(self.data[12:16]))

    @property
    def dst(self) -> str:
        return str(ipaddress.IPv4Address(self.data[16:20]))

    def ports(self) -> tuple[int, int]:
        l4 = self.data[self.header_length:]
        if self.proto in PORTS and len(l4) >= 4:
            return struct.unpack("!HH", l4[:4])
        if self.proto == IP_ICMP and len(l4) >= 6 and l4[0] in ICMP_ECHO_TYPES:
            ident = struct.unpack("!H", l4[4:6])[0]
            return ident, ident
        return 0, 0

    def conn(self) -> Conn:
        sport, dport = self.ports()
        return Conn(self.proto, self.src, sport, self.dst, dport)

    def rewrite(self, src: str | None = None, sport: int | None = None,
                dst: str | None = None, dport: int | None = None) -> Quote:
        """The quote with addresses (and TCP/UDP ports) replaced; header checksum redone."""
        head = bytearray(self.data[:self.header_length])
        if src is not None:
            head[12:16] = ipaddress.IPv4Address(src).packed
        if dst is not None:
            head[16:20] = ipaddress.IPv4Address(dst).packed
        head[10:12] = b"\0\0"
        head[10:12] = struct.pack("!H", checksum(bytes(head)))
        l4 = bytearray(self.data[self.header_length:])
        if self.proto in PORTS and len(l4) >= 4:
            if sport is not None:
                l4[0:2] = struct.pack("!H", sport)
            if dport is not None:
                l4[2:4] = struct.pack("!H", dport)
        return Quote(bytes(head) + bytes(l4))


def parse_quote(payload: bytes) -> Quote | None:
    if len(payload) < 20 or payload[0] >> 4 != 4 or len(payload) < (payload[0] & 0x0F) * 4:
        return None
    return Quote(payload)


def is_error(packet: Packet) -> bool:
    return packet.ip_proto == IP_ICMP and packet.icmpv4_type in ICMP_ERRORS


def flow_of(ctx: Context, frame: Frame) -> Flow | None:
    """The connection of ``frame``'s packet, recording what was read; None when it has none
    (not IPv4, a non-first fragment, an ICMP error quoting nothing readable)."""
    p = frame.packet
    ctx.read(frame, "eth_type")
    if p.eth_type != ETH_IPV4 or p.ipv4_src is None or p.ipv4_dst is None:
        return None
    ctx.read(frame, "ip_proto", "ipv4_src", "ipv4_dst")
    proto = p.ip_proto or 0
    if proto in PORTS:
        names = PORTS[proto]
        ctx.read(frame, *names)
        sport, dport = (getattr(p, name) for name in names)
        if sport is None or dport is None:
            ctx.read(frame, "ip_frag")
            return None
        return Flow(Conn(proto, p.ipv4_src, sport, p.ipv4_dst, dport), "ports")
    if proto == IP_ICMP:
        ctx.read(frame, "icmpv4_type")
        if p.icmpv4_type in ICMP_ECHO_TYPES:
            ctx.uncacheable()
            ident = struct.unpack("!H", (p.payload + b"\0\0")[:2])[0]
            return Flow(Conn(proto, p.ipv4_src, ident, p.ipv4_dst, ident), "echo")
        if p.icmpv4_type in ICMP_ERRORS:
            ctx.uncacheable()
            quote = parse_quote(p.payload)
            return None if quote is None else Flow(quote.conn().reverse(), "error")
    return Flow(Conn(proto, p.ipv4_src, 0, p.ipv4_dst, 0), "plain")


def conn_of(packet: Packet) -> Conn | None:
    """The connection of a packet as it is, reading nothing (see :func:`flow_of`)."""
    if packet.eth_type != ETH_IPV4 or packet.ipv4_src is None or packet.ipv4_dst is None:
        return None
    proto = packet.ip_proto or 0
    if proto in PORTS:
        sport, dport = (getattr(packet, name) for name in PORTS[proto])
        if sport is None or dport is None:
            return None
        return Conn(proto, packet.ipv4_src, sport, packet.ipv4_dst, dport)
    if proto == IP_ICMP and packet.icmpv4_type in ICMP_ECHO_TYPES:
        ident = struct.unpack("!H", (packet.payload + b"\0\0")[:2])[0]
        return Conn(proto, packet.ipv4_src, ident, packet.ipv4_dst, ident)
    if proto == IP_ICMP and packet.icmpv4_type in ICMP_ERRORS:
        return None
    return Conn(proto, packet.ipv4_src, 0, packet.ipv4_dst, 0)
