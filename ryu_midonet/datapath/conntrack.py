"""Open vSwitch's userspace connection tracker (lib/conntrack.c), as the fake switch models it.

Connections are kept per zone, keyed as Open vSwitch keys them: protocol, addresses and TCP/UDP
ports, or an ICMP echo's identifier and types. A ``ct`` action looks the packet up and tells
the pipeline (``ct_state``) whether it is new, part of a connection seen both ways (``est``),
travelling in the reply direction (``rpl``), an ICMP error about a tracked connection
(``rel``) or not acceptable (``inv``). ``commit`` keeps a new connection, with its NAT.

What is modelled, as Open vSwitch 3.1 does it:

- the state of UDP (first, several, both ways), ICMP echo (request, reply) and TCP (a SYN,
  alone, opens; a SYN+ACK never does; flags Open vSwitch calls invalid make the packet
  ``inv``; a SYN again before the peer answered is still ``new``; RST and FIN close);
- NAT set up at commit: the address from the range by a hash of the connection; without a
  port range the packet's own port when that leaves the connection unique (else the next
  one, in 1-511, 600-1023 or 1024-65535 after the class of the original port); with a port
  range, the first port from a hash-chosen start in the range that makes it unique; ICMP
  keeps its identifier and fails when the address alone is not unique. When nothing is
  free the connection is not committed and the packet goes on untranslated (``+new``);
- ``nat`` on packets of a known connection: forward packets get the translation, replies the
  reverse, and ICMP errors ``+rel`` have their outer address and the quoted packet (address,
  ports, IP checksum, UDP checksum) translated back; ``+snat``/``+dnat`` say what was done;
- a packet already translated in the zone is looked up by its reverse (a second ``ct`` on
  the same packet); a packet's ``ct_state`` is reset when it enters another zone; a second
  ``ct`` in the same zone right after one without ``nat`` reuses the connection found
  (Open vSwitch's cached connection: no state update);
- ``force`` (a connection met in the reply direction is ended and started anew) and
  ``ct_mark`` set by ``exec``.

What is not (:class:`~.ofcheck.NotUnderstood` when a packet needs it): IPv6, fragments
(reassembly), protocols other than TCP, UDP and ICMP, ICMP types other than echo and errors,
TCP sequence numbers and windows (every packet is taken as in window: a TCP packet must carry
``tcp_flags``), a SYN reopening a closed connection, ALGs, labels, zone limits, timeouts
(connections live until :meth:`ConnTracker.flush`), and a port search of more than 128 tries
(where Open vSwitch goes on from random points). Open vSwitch salts the hash that picks the
NAT address and the start of a port range at random when it starts, so only the ports a
range gives in every case (one port, every port of the range in use) are predictable; the
model uses a hash of its own.
"""

from __future__ import annotations

import ipaddress
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ryu_midonet.datapath.flows import (
    CT_DNAT,
    CT_EST,
    CT_INV,
    CT_NEW,
    CT_REL,
    CT_RPL,
    CT_SNAT,
    CT_TRK,
)
from ryu_midonet.datapath.ofcheck import NotUnderstood

Headers = dict[str, Any]
META = "_ct"  # where a packet carries the tracker's metadata (see :class:`PacketCt`)

IP_ICMP, IP_TCP, IP_UDP = 1, 6, 17
ETH_IPV4 = 0x0800
ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST = 0, 8
ICMP_ERRORS = frozenset({3, 4, 5, 11, 12})
_ICMP_QUERIES = frozenset({13, 14, 15, 16})  # timestamp, information
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
MAX_ATTEMPTS = 128  # ports Open vSwitch tries in order before trying random ones
_PORT_CLASSES = ((1, 511), (600, 1023), (1024, 65535))

# TCP peer states (CT_DPIF_TCPS_*), in Open vSwitch's order.
CLOSED, SYN_SENT, ESTABLISHED, CLOSING, FIN_WAIT_2, TIME_WAIT = 0, 2, 4, 7, 9, 10
# Outcomes of a packet on a known connection (CT_UPDATE_*).
VALID, VALID_NEW, INVALID = "valid", "valid-new", "invalid"


class Key(NamedTuple):
    """A connection as seen in one direction. ICMP echo: both ports are the identifier and the
    types say request/reply."""

    zone: int
    proto: int
    src: int
    sport: int
    dst: int
    dport: int
    stype: int = 0
    dtype: int = 0

    def reverse(self) -> Key:
        return Key(self.zone, self.proto, self.dst, self.dport, self.src, self.sport,
                   self.dtype, self.stype)

    def __str__(self) -> str:
        src, dst = ipaddress.IPv4Address(self.src), ipaddress.IPv4Address(self.dst)
        return f"zone={self.zone} proto={self.proto} {src}:{self.sport} -> {dst}:{self.dport}"


@dataclass(frozen=True)
class NatRequest:
    """The ``nat`` of a ``ct`` action: ``kind`` src/dst (None: apply what the connection
    has), addresses and ports as integers (None: not given)."""

    kind: str | None = None
    addresses: tuple[int, int] | None = None
    ports: tuple[int, int] | None = None


@dataclass(eq=False)
class Conn:
    """One committed connection: its key both ways (``rev_key`` after NAT), the NAT it
    does, its mark and protocol state."""

    key: Key
    rev_key: Key
    nat: str | None = None
    mark: int = 0
    state: str = "first"  # UDP: first, multiple, bidir; ICMP: first, reply
    peers: list[int] = field(default_factory=lambda: [SYN_SENT, CLOSED])  # TCP


@dataclass(frozen=True)
class PacketCt:
    """What the tracker left on a packet (Open vSwitch's packet metadata): the state, zone
    and mark the pipeline reads after a resubmit, and the connection found by a ``ct``
    without ``nat``, which a following ``ct`` in the same zone reuses."""

    state: int = 0
    zone: int = 0
    mark: int = 0
    conn: Conn | None = None
    reply: bool = False
    related: bool = False


@dataclass
class _Lookup:
    key: Key
    related: bool
    conn: Conn | None = None
    reply: bool = False


class ConnTracker:
    """The connection table of one switch, shared by every zone."""

    def __init__(self) -> None:
        self._table: dict[Key, tuple[Conn, bool]] = {}

    # -- inspection ------------------------------------------------------------------------
    def connections(self, zone: int | None = None) -> list[Conn]:
        """The committed connections (of ``zone``, or of all)."""
        found = {id(c): c for c, reply in self._table.values() if not reply}
        return [c for c in found.values() if zone is None or c.key.zone == zone]

    def flush(self) -> None:
        self._table.clear()

    # -- the ct action ---------------------------------------------------------------------
    def execute(self, pkt: Headers, zone: int, *, commit: bool = False, force: bool = False,
                nat: NatRequest | None = None, mark: int | None = None) -> None:
        """Run a wire-form packet through the tracker: its headers are translated in place
        and :data:`META` says what the tracker found."""
        md: PacketCt = pkt.get(META) or PacketCt()
        if md.conn is not None and md.conn.key.zone == zone and not force:
            self._fast(pkt, md, zone, nat, mark)
            return
        found = _extract(pkt, zone)
        if found is None:
            pkt[META] = PacketCt(CT_INV | CT_TRK, zone)
            return
        self._process(pkt, md, found, zone, commit, force, nat, mark)

    def _fast(self, pkt: Headers, md: PacketCt, zone: int, nat: NatRequest | None,
              mark: int | None) -> None:
        """A connection found by the previous ``ct`` (without nat) in this zone."""
        conn = md.conn
        assert conn is not None
        state = md.state
        if nat is not None:
            state = _handle_nat(pkt, conn, state, md.zone, zone, md.reply, md.related)
        if mark is not None:
            conn.mark = mark
        pkt[META] = PacketCt(state, zone, conn.mark,
                             None if nat is not None else conn, md.reply, md.related)

    def _process(self, pkt: Headers, md: PacketCt, look: _Lookup, zone: int, commit: bool,
                 force: bool, nat: NatRequest | None, mark: int | None) -> None:
        state = md.state if not md.state or md.zone == zone else 0
        self._lookup(look, natted=bool(state & (CT_SNAT | CT_DNAT)))
        conn = look.conn
        if conn is not None and force and look.reply:
            self._forget(conn)
            conn = None
        create = False
        if conn is not None:
            state, create = _update(pkt, conn, look, state)
            if nat is not None and not create:
                state = _handle_nat(pkt, conn, state, md.zone, zone, look.reply, look.related)
        elif look.related:
            state = CT_INV  # an error about no known connection starts none
        else:
            create = True
        if create:
            conn = None
            if look.key not in self._table:
                state, conn = self._not_found(pkt, look, commit, nat)
        state |= CT_TRK
        if conn is not None and mark is not None:
            conn.mark = mark
        cached = conn if nat is None else None
        pkt[META] = PacketCt(state, zone, conn.mark if conn else 0, cached, look.reply,
                             look.related)

    def _lookup(self, look: _Lookup, natted: bool) -> None:
        key = look.key.reverse() if natted else look.key
        hit = self._table.get(key)
        if hit is None:
            if natted:
                raise NotUnderstood(f"a translated packet of no connection ({look.key})")
            return
        look.conn, look.reply = hit
        if natted:
            look.reply = not look.reply
            look.key = look.conn.rev_key if look.reply else look.conn.key

    def _not_found(self, pkt: Headers, look: _Lookup, commit: bool,
                   nat: NatRequest | None) -> tuple[int, Conn | None]:
        """A packet of no connection: new when it may open one, kept when committed."""
        if not _valid_new(pkt, look.key):
            return CT_INV, None
        if not commit:
            return CT_NEW, None
        conn = Conn(look.key, look.key.reverse())
        if nat is not None and nat.kind is not None:
            rev = self._unique(conn.key, nat)
            if rev is None:
                return CT_NEW, None  # no translation free: not committed
            conn.rev_key, conn.nat = rev, nat.kind
        state = CT_NEW
        if conn.nat is not None:
            state = _nat_packet(pkt, conn, state, reply=False, related=False)
        self._table[conn.key] = (conn, False)
        self._table[conn.rev_key] = (conn, True)
        return state, conn

    def _forget(self, conn: Conn) -> None:
        self._table.pop(conn.key, None)
        self._table.pop(conn.rev_key, None)

    def _taken(self, key: Key) -> bool:
        return key in self._table

    def _unique(self, key: Key, nat: NatRequest) -> Key | None:
        """The reply key of ``key`` translated by ``nat`` that no connection has, if any
        (nat_get_unique_tuple)."""
        start = _nat_hash(key, nat)
        snat = nat.kind == "src"
        if nat.addresses is None:
            addr = key.src if snat else key.dst
        else:
            low, high = nat.addresses
            addr = low + start % (high - low + 1)
        rev = key.reverse()
        rev = rev._replace(dst=addr) if snat else rev._replace(src=addr)
        if key.proto not in (IP_TCP, IP_UDP):
            return None if self._taken(rev) else rev
        if snat and nat.ports is not None:
            sport_range = nat.ports
            rev = rev._replace(dport=nat.ports[0] + start % (nat.ports[1] - nat.ports[0] + 1))
        else:
            sport_range = next(c for c in _PORT_CLASSES if key.sport <= c[1])
        if not snat and nat.ports is not None:
            rev = rev._replace(sport=nat.ports[0] + start % (nat.ports[1] - nat.ports[0] + 1))
            found = self._port(rev, "sport", rev.sport, nat.ports)  # the reply's source
            if found is not None:
                return found
        return self._port(rev, "dport", rev.dport, sport_range)  # the reply's destination

    def _port(self, rev: Key, side: str, curr: int, limits: tuple[int, int]) -> Key | None:
        low, high = limits
        attempts = min(high - low + 1, MAX_ATTEMPTS)
        tries = (high - low + 2) if not low <= curr <= high else (high - low + 1)
        for _ in range(min(tries, attempts)):
            candidate = rev._replace(**{side: curr})
            if not self._taken(candidate):
                return candidate
            curr = low if not low <= curr <= high or curr == high else curr + 1
        if attempts < high - low + 1 and attempts >= 16:
            raise NotUnderstood(f"no free port in {MAX_ATTEMPTS} tries from {rev}: Open "
                                "vSwitch goes on from random points")
        return None


# -- packets ----------------------------------------------------------------------------------

def _extract(pkt: Headers, zone: int) -> _Lookup | None:
    """The key a packet is looked up by; None when Open vSwitch finds it invalid."""
    if pkt.get("eth_type") != ETH_IPV4:
        raise NotUnderstood("connection tracking of a packet that is not IPv4")
    if pkt.get("ip_frag", 0):
        raise NotUnderstood("connection tracking of a fragment (reassembly)")
    src, dst = _addr(pkt["ipv4_src"]), _addr(pkt["ipv4_dst"])
    proto = pkt.get("ip_proto")
    if proto == IP_TCP:
        if "tcp_flags" not in pkt:
            raise NotUnderstood("a TCP packet without tcp_flags reached ct")
        return _Lookup(Key(zone, proto, src, pkt["tcp_src"], dst, pkt["tcp_dst"]), False)
    if proto == IP_UDP:
        return _Lookup(Key(zone, proto, src, pkt["udp_src"], dst, pkt["udp_dst"]), False)
    if proto != IP_ICMP:
        raise NotUnderstood(f"connection tracking of IP protocol {proto}")
    kind, code, body = pkt["icmpv4_type"], pkt.get("icmpv4_code", 0), pkt.get("payload", b"")
    if kind in (ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY):
        if len(body) < 4:
            raise NotUnderstood("an ICMP echo without its identifier (payload)")
        if code != 0:
            return None
        return _Lookup(_echo_key(zone, src, dst, kind, _u16(body, 0)), False)
    if kind in _ICMP_QUERIES:
        raise NotUnderstood(f"connection tracking of ICMP type {kind}")
    if kind not in ICMP_ERRORS:
        return None
    inner = _quoted_key(body, zone)
    if inner is None or inner.src != dst:
        return None
    return _Lookup(inner.reverse(), True)


def _echo_key(zone: int, src: int, dst: int, kind: int, ident: int) -> Key:
    other = ICMP_ECHO_REPLY if kind == ICMP_ECHO_REQUEST else ICMP_ECHO_REQUEST
    return Key(zone, IP_ICMP, src, ident, dst, ident, kind, other)


def _quoted_key(body: bytes, zone: int) -> Key | None:
    """The key of the packet an ICMP error quotes (None: not one Open vSwitch accepts)."""
    if len(body) < 20 or body[0] >> 4 != 4:
        return None
    ihl = (body[0] & 0x0F) * 4
    frag = _u16(body, 6) & 0x3FFF
    if ihl < 20 or frag or len(body) < ihl + 8:
        return None
    proto = body[9]
    src, dst = _u32(body, 12), _u32(body, 16)
    l4 = body[ihl:]
    if proto in (IP_TCP, IP_UDP):
        return Key(zone, proto, src, _u16(l4, 0), dst, _u16(l4, 2))
    if proto == IP_ICMP and l4[0] in (ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY) and l4[1] == 0:
        return _echo_key(zone, src, dst, l4[0], _u16(l4, 4))
    if proto == IP_ICMP:
        return None
    raise NotUnderstood(f"an ICMP error quoting IP protocol {proto}")


def _valid_new(pkt: Headers, key: Key) -> bool:
    if key.proto == IP_TCP:
        flags = pkt["tcp_flags"]
        return not _tcp_invalid(flags) and not (flags & TCP_SYN and flags & TCP_ACK)
    if key.proto == IP_ICMP:
        return key.stype == ICMP_ECHO_REQUEST
    return True


def _tcp_invalid(flags: int) -> bool:
    if flags & TCP_SYN:
        if flags & (TCP_RST | TCP_FIN):
            return True
    elif not flags & (TCP_ACK | TCP_RST):
        return True
    return not flags & TCP_ACK and bool(flags & (TCP_FIN | TCP_PSH | TCP_URG))


def _update(pkt: Headers, conn: Conn, look: _Lookup, state: int) -> tuple[int, bool]:
    """The state of a packet of a known connection, and whether it starts a new one."""
    if look.related:
        return state | CT_REL | (CT_RPL if look.reply else 0), False
    outcome = _conn_update(pkt, conn, look.reply)
    if outcome == VALID:
        return (state | CT_EST | (CT_RPL if look.reply else 0)) & ~CT_NEW, False
    if outcome == VALID_NEW:
        return state | CT_NEW, False
    return CT_INV, False


def _conn_update(pkt: Headers, conn: Conn, reply: bool) -> str:
    proto = conn.key.proto
    if proto == IP_UDP:
        if reply and conn.state != "bidir":
            conn.state = "bidir"
        elif conn.state == "first":
            conn.state = "multiple"
        return VALID if conn.state == "bidir" else VALID_NEW
    if proto == IP_ICMP:
        if reply and conn.state == "first":
            conn.state = "reply"
            return VALID
        return VALID_NEW if conn.state == "first" else VALID
    return _tcp_update(pkt["tcp_flags"], conn.peers, reply)


def _tcp_update(flags: int, peers: list[int], reply: bool) -> str:
    src, dst = (1, 0) if reply else (0, 1)
    if _tcp_invalid(flags):
        return INVALID
    if flags & (TCP_SYN | TCP_ACK) == TCP_SYN:
        if peers[dst] >= FIN_WAIT_2 and peers[src] >= FIN_WAIT_2:
            raise NotUnderstood("a SYN reopening a closed TCP connection")
        if peers[src] <= SYN_SENT:
            peers[src] = SYN_SENT
            return VALID_NEW
        raise NotUnderstood("a SYN on an open TCP connection (sequence checks)")
    if flags & TCP_SYN and peers[src] < SYN_SENT:
        peers[src] = SYN_SENT
    if flags & TCP_FIN and peers[src] < CLOSING:
        peers[src] = CLOSING
    if flags & TCP_ACK:
        if peers[dst] == SYN_SENT:
            peers[dst] = ESTABLISHED
        elif peers[dst] == CLOSING:
            peers[dst] = FIN_WAIT_2
    if flags & TCP_RST:
        peers[src] = peers[dst] = TIME_WAIT
    return VALID


# -- NAT --------------------------------------------------------------------------------------

def _handle_nat(pkt: Headers, conn: Conn, state: int, md_zone: int, zone: int, reply: bool,
                related: bool) -> int:
    """Translate a packet of a known connection, unless already translated in this zone."""
    natted = state & (CT_SNAT | CT_DNAT)
    if conn.nat is None or (natted and md_zone == zone):
        return state
    return _nat_packet(pkt, conn, state & ~(CT_SNAT | CT_DNAT), reply, related)


def _nat_packet(pkt: Headers, conn: Conn, state: int, reply: bool, related: bool) -> int:
    key = conn.key if reply else conn.rev_key
    src_side = (conn.nat == "src") != reply  # reverse in the reply direction
    state |= CT_SNAT if src_side else CT_DNAT
    if src_side:
        pkt["ipv4_src"] = _ip(key.dst)
    else:
        pkt["ipv4_dst"] = _ip(key.src)
    if related:
        pkt["payload"] = _nat_quote(pkt.get("payload", b""), key.reverse(), not src_side)
    else:
        _set_ports(pkt, key.proto, key.dport, key.sport)
    return state


def _set_ports(pkt: Headers, proto: int, src: int, dst: int) -> None:
    if proto == IP_TCP:
        pkt["tcp_src"], pkt["tcp_dst"] = src, dst
    elif proto == IP_UDP:
        pkt["udp_src"], pkt["udp_dst"] = src, dst


def _nat_quote(body: bytes, key: Key, src_side: bool) -> bytes:
    """The quoted packet of an ICMP error with the ports of ``key`` (as the quoted packet
    travelled, reversed) and its source (or destination) address (nat_inner_packet)."""
    ihl = (body[0] & 0x0F) * 4
    head, l4 = bytearray(body[:ihl]), bytearray(body[ihl:])
    proto = head[9]
    at = 12 if src_side else 16
    new_addr = struct.pack("!I", key.dst if src_side else key.src)
    old_addr = bytes(head[at:at + 4])
    head[at:at + 4] = new_addr
    head[10:12] = struct.pack("!H", _csum_replace(_u16(head, 10), old_addr, new_addr))
    if proto not in (IP_TCP, IP_UDP):
        return bytes(head + l4)
    old_ports = bytes(l4[0:4])
    l4[0:4] = new_ports = struct.pack("!HH", key.dport, key.sport)
    # the quoted L4 checksum, where the quote holds it (TCP: once the ports and, with a whole
    # header, the addresses; UDP: unless zero, "none")
    at = 16 if proto == IP_TCP else 6
    if len(l4) < at + 2 or (proto == IP_UDP and not _u16(l4, at)):
        return bytes(head + l4)
    old, new = old_ports, new_ports
    if proto == IP_UDP or len(l4) >= 20:
        old, new = old_addr + old, new_addr + new
    csum = _csum_replace(_u16(l4, at), old, new)
    l4[at:at + 2] = struct.pack("!H", (csum or 0xFFFF) if proto == IP_UDP else csum)
    return bytes(head + l4)


def _nat_hash(key: Key, nat: NatRequest) -> int:
    """The model's stand-in for Open vSwitch's salted nat_range_hash."""
    return zlib.crc32(repr((nat.addresses, nat.ports, key.src, key.sport, key.dst, key.dport,
                            key.proto, key.zone)).encode())


def translate_request(kind: str | None, first: str, last: str, low: int | None,
                      high: int | None) -> NatRequest:
    """A :class:`NatRequest` from the fields of a Nicira NAT action."""
    addresses = (_addr(first), _addr(last or first)) if first else None
    ports = None if low is None else (low, high if high is not None else low)
    return NatRequest(kind, addresses, ports)


# -- bytes ------------------------------------------------------------------------------------

def _addr(value: Any) -> int:
    return int(ipaddress.IPv4Address(value))


def _ip(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


def _u16(data: bytes | bytearray, at: int) -> int:
    return int.from_bytes(data[at:at + 2], "big")


def _u32(data: bytes | bytearray, at: int) -> int:
    return int.from_bytes(data[at:at + 4], "big")


def _fold(total: int) -> int:
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _csum_replace(csum: int, old: bytes, new: bytes) -> int:
    """A checksum updated for 16-bit words changing from ``old`` to ``new`` (RFC 1624)."""
    total = ~csum & 0xFFFF
    for i in range(0, len(old), 2):
        total += (~_u16(old, i) & 0xFFFF) + _u16(new, i)
    return ~_fold(total) & 0xFFFF


def strip(pkt: Headers) -> Headers:
    """A packet without the tracker's metadata."""
    return {k: v for k, v in pkt.items() if k != META}


def visible(pkt: Headers) -> Headers:
    """The packet as the pipeline sees it after a resubmit: the ``ct_state``, ``ct_zone``
    and ``ct_mark`` fields from the tracker's metadata (absent: zero)."""
    md: PacketCt = pkt.get(META) or PacketCt()
    out = {k: v for k, v in pkt.items() if k not in ("ct_state", "ct_zone", "ct_mark")}
    for name, value in (("ct_state", md.state), ("ct_zone", md.zone), ("ct_mark", md.mark)):
        if value:
            out[name] = value
    return out


def cleared(pkt: Headers) -> Headers:
    """The packet as the actions after a ``ct`` see it: no connection tracking fields."""
    return {k: v for k, v in pkt.items() if k not in ("ct_state", "ct_zone", "ct_mark")}


def forget(pkt: Headers) -> Headers:
    """``ct_clear``: neither fields nor metadata."""
    return strip(cleared(pkt))

