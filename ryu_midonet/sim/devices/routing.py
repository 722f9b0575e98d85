"""Route selection: which of a router's routes a packet takes.

1. Longest prefix: the routes whose destination prefix holds the packet's destination, longest
   prefix first.
2. Source: of the routes with that prefix, keep those whose source prefix holds the packet's
   source. When none does, fall back to the next shorter matching destination prefix -- a
   source-restricted route does not hide the shorter routes from other sources.
3. Weight: keep the routes with the LOWEST weight. The catalogue's architecture summary says
   "highest weight", but MidoNet's own routing documentation ("lower weight values identify
   preferred paths", default 100; port routes carry 0) and its routing table, which keeps the
   minimum weight, agree on lowest -- and the store's defaults (100 for an operator's route, 0
   for a port's own routes) only make sense that way: with highest-wins, any default route
   would beat the port routes of the same prefix.
4. ECMP: several routes left -> pick one by a hash of the flow's 5-tuple (source and
   destination address, protocol, L4 source and destination port) modulo their number, with the
   routes ordered by id. The hash is a fixed function of the packet (not Python's salted
   ``hash``), so every agent picks the same route for the same flow.

   Fragments: only the first fragment of a datagram carries the L4 ports, so every fragment
   -- first and later alike -- hashes its addresses and protocol with ports 0 (the kernel's
   L3 hash for fragments does the same). All fragments of a datagram thus take one path and
   can be reassembled at its end. A TCP or UDP decision therefore also reads ``ip_frag``: its
   flow matches unfragmented packets (5-tuple) or fragments (addresses and protocol) only, so
   a first fragment never follows the flow of an unfragmented packet with the same ports.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections.abc import Iterable

from ryu_midonet.sim.core.model import IP_TCP, IP_UDP, Packet
from ryu_midonet.types import Obj

ECMP_FIELDS = {IP_TCP: ("tcp_src", "tcp_dst"), IP_UDP: ("udp_src", "udp_dst")}


@functools.lru_cache(maxsize=8192)
def _prefix(addr: str, length: int) -> tuple[int, int]:
    """A route prefix as (network, netmask) integers (host bits cleared)."""
    net = ipaddress.IPv4Network(f"{addr}/{length}", strict=False)
    return int(net.network_address), int(net.netmask)


@functools.lru_cache(maxsize=65536)
def _ip(text: str) -> ipaddress.IPv4Address:
    """A packet's address, parsed once (it comes back with every flow of that host)."""
    return ipaddress.IPv4Address(text)


def _holds(addr: str, length: int, ip: ipaddress.IPv4Address) -> bool:
    network, mask = _prefix(addr, length)
    return int(ip) & mask == network


def matching_dst(routes: Iterable[Obj], dst: str) -> list[Obj]:
    """The routes whose destination prefix holds ``dst``."""
    ip = _ip(dst)
    return [r for r in routes if _holds(r["dstNetworkAddr"], r["dstNetworkLength"], ip)]


def source_matters(candidates: Iterable[Obj]) -> bool:
    """Whether any candidate route restricts the source (then the source is read)."""
    return any(r.get("srcNetworkLength") for r in candidates)


def lookup(candidates: Iterable[Obj], src: str) -> list[Obj]:
    """The best routes among ``candidates`` (routes matching the destination) for ``src``.

    Several routes mean ECMP; they come ordered by id. Empty: no route.
    """
    ip = _ip(src)
    by_length: dict[int, list[Obj]] = {}
    for route in candidates:
        by_length.setdefault(route["dstNetworkLength"], []).append(route)
    for length in sorted(by_length, reverse=True):
        usable = [r for r in by_length[length]
                  if _holds(r.get("srcNetworkAddr") or "0.0.0.0", r.get("srcNetworkLength") or 0,
                            ip)]
        if usable:
            best = min(r["weight"] for r in usable)
            return sorted((r for r in usable if r["weight"] == best), key=lambda r: r["id"])
    return []


def ecmp_fields(packet: Packet) -> tuple[str, ...]:
    """The header fields the ECMP choice hashes (and whether the packet is a fragment)."""
    names = ECMP_FIELDS.get(packet.ip_proto or 0)
    if names is None:
        return ("ipv4_src", "ipv4_dst", "ip_proto")
    if is_fragment(packet):
        return ("ipv4_src", "ipv4_dst", "ip_proto", "ip_frag")
    return ("ipv4_src", "ipv4_dst", "ip_proto", "ip_frag", *names)


def is_fragment(packet: Packet) -> bool:
    return packet.ip_frag in ("first", "later")


def ecmp_pick(routes: list[Obj], packet: Packet) -> Obj:
    """One of ``routes`` (ordered by id) for this flow; one for every fragment of a datagram."""
    if len(routes) == 1:
        return routes[0]
    names = ECMP_FIELDS.get(packet.ip_proto or 0)
    sport, dport = 0, 0
    if names and not is_fragment(packet):
        sport, dport = getattr(packet, names[0]), getattr(packet, names[1])
    key = f"{packet.ipv4_src}|{packet.ipv4_dst}|{packet.ip_proto or 0}|{sport or 0}|{dport or 0}"
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return routes[int.from_bytes(digest, "big") % len(routes)]
