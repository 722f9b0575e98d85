"""Packets and matches as an OpenFlow 1.3 switch sees them, for the fake switch.

Tests speak of packets as header dicts in the simulator's terms (:meth:`Packet.headers`:
``vlan_vid`` is the VID, ``ip_frag`` is ``"no"``/``"first"``/``"later"``), plus the metadata
``in_port``, ``tunnel_id``, ``tun_ipv4_src`` and ``tun_ipv4_dst`` (and, inside the switch,
registers and the connection tracking fields, zero when absent). The switch works on the
wire form: ``vlan_vid`` carries ``OFPVID_PRESENT`` (absent: untagged), ``ip_frag`` is Open
vSwitch's nw_frag bits, and the L4 fields of fragments read as the switch's fragment handling
makes them read.
"""

from __future__ import annotations

from typing import Any

from os_ken.ofproto import ofproto_v1_3 as ofp

from ryu_midonet.datapath.ofcheck import NotUnderstood

Headers = dict[str, Any]

ETH_IPV4, ETH_ARP = 0x0800, 0x0806
OFPVID_PRESENT = 0x1000
FRAG_ANY, FRAG_LATER = 1, 2  # Open vSwitch's nw_frag bits
_NW_FRAG = {"no": 0, "first": FRAG_ANY, "later": FRAG_ANY | FRAG_LATER}
_L4_FIELDS = {6: ("tcp_src", "tcp_dst"), 17: ("udp_src", "udp_dst"),
              1: ("icmpv4_type", "icmpv4_code")}
# Open vSwitch's fragment handling modes (OFPC_FRAG_* plus its own nx-match).
FRAG_NORMAL, FRAG_DROP, FRAG_REASM, FRAG_NX_MATCH = (
    ofp.OFPC_FRAG_NORMAL, ofp.OFPC_FRAG_DROP, ofp.OFPC_FRAG_REASM, 3)

_IPV4 = {"eth_type": ETH_IPV4}
PREREQUISITES: dict[str, dict[str, int]] = {
    **{f: _IPV4 for f in ("ipv4_src", "ipv4_dst", "ip_proto", "ip_dscp", "ip_ecn", "ip_frag")},
    **{f: {"eth_type": ETH_ARP} for f in ("arp_op", "arp_spa", "arp_tpa", "arp_sha",
                                           "arp_tha")},
    **{f: {**_IPV4, "ip_proto": proto} for proto, fields in _L4_FIELDS.items()
       for f in fields},
}
"""What a match (or the packet a set_field acts on) must fix for a field to be usable."""

METADATA = frozenset({"in_port", "tunnel_id", "tun_ipv4_src", "tun_ipv4_dst"})
REGISTERS = frozenset(f"reg{i}" for i in range(16))
CONNTRACK = frozenset({"ct_state", "ct_zone", "ct_mark"})
SWITCH_ONLY = REGISTERS | CONNTRACK  # never leave the switch; zero when absent
MATCHABLE = METADATA | SWITCH_ONLY | frozenset(PREREQUISITES) | {
    "eth_src", "eth_dst", "eth_type", "vlan_vid"}
WRITABLE = MATCHABLE - CONNTRACK - {"in_port", "eth_type", "ip_proto", "ip_frag"}
_ZERO_WHEN_ABSENT = SWITCH_ONLY | {"vlan_vid", "ip_frag"}  # untagged, not a fragment

Masked = tuple[int, int]


def as_int(value: Any) -> int:
    """A field value (int, MAC or dotted IPv4 string) as an integer."""
    if isinstance(value, bool):
        raise NotUnderstood(f"field value {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and ":" in value:
        return int(value.replace(":", ""), 16)
    if isinstance(value, str) and value.count(".") == 3:
        a, b, c, d = (int(x) for x in value.split("."))
        return (a << 24) | (b << 16) | (c << 8) | d
    raise NotUnderstood(f"field value {value!r}")


def match_entry(name: str, value: Any) -> Masked:
    """One os-ken match field as (value, mask); an exact match has an all-ones mask."""
    if name not in MATCHABLE:
        raise NotUnderstood(f"match field {name}")
    if isinstance(value, tuple):
        want, mask = value
        return as_int(want), as_int(mask)
    return as_int(value), -1


def matches(match: dict[str, Masked], packet: Headers) -> bool:
    """Whether a wire-form packet matches a normalised match."""
    for name, (want, mask) in match.items():
        have = packet.get(name)
        if have is None and name in _ZERO_WHEN_ABSENT:
            have = 0
        if have is None or (as_int(have) & mask) != (want & mask):
            return False
    return True


def vlan_in(match: dict[str, Masked]) -> bool:
    """Whether a match only takes packets that carry a VLAN tag."""
    want, mask = match.get("vlan_vid", (0, 0))
    return bool(want & mask & OFPVID_PRESENT)


def to_wire(headers: Headers, fragments: int) -> Headers | None:
    """The packet the switch sees (None: its fragment handling drops it)."""
    pkt = {k: v for k, v in headers.items() if v is not None}
    if "vlan_vid" in pkt:
        pkt["vlan_vid"] = pkt["vlan_vid"] | OFPVID_PRESENT
    if pkt.get("eth_type") != ETH_IPV4:
        pkt.pop("ip_frag", None)
        return pkt
    if "ip_frag" in pkt:
        pkt["ip_frag"] = _NW_FRAG[pkt["ip_frag"]]
    frag = pkt.get("ip_frag", 0)
    if frag & FRAG_ANY:
        if fragments == FRAG_DROP:
            return None
        if fragments not in (FRAG_NORMAL, FRAG_NX_MATCH):
            raise NotUnderstood(f"fragment handling mode {fragments}")
        # later fragments carry no L4 header; in normal mode first ones hide theirs too
        if frag & FRAG_LATER or fragments == FRAG_NORMAL:
            for name in _L4_FIELDS.get(pkt.get("ip_proto", -1), ()):
                pkt[name] = 0
    return pkt


def to_plain(pkt: Headers) -> Headers:
    """A wire-form packet back in the simulator's terms."""
    out = dict(pkt)
    if "vlan_vid" in out:
        out["vlan_vid"] = out["vlan_vid"] & ~OFPVID_PRESENT
    if "ip_frag" in out:
        out["ip_frag"] = {v: k for k, v in _NW_FRAG.items()}[out["ip_frag"]]
    return out
