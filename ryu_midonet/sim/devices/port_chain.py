"""networking-sfc port chains: which packets a chain takes, and where each goes next.

The chain's forwarder (the ingress host, and each host a function returns a packet to) asks
two questions:

- :func:`classify`: a packet enters the topology at port ``in_port`` and would leave at
  ``out_port`` (None: not known, or not one port). It is *classified* when a classifier of a
  chain matches it: the packet enters at the classifier's ``logical_source_port`` (and leaves
  at its ``logical_destination_port``, when the classifier names one) and its headers match
  the ethertype, protocol, prefixes and port ranges. For a symmetric chain, a packet entering
  at a classifier's ``logical_destination_port`` (bound for its source port) that matches
  with sources and destinations swapped is a reply: it takes the chain's *reverse path*, the
  groups in reverse order, entering each function at its pair's egress and leaving at its
  ingress. Chains are tried by ``chain_id``, a chain's classifiers in the order it lists them.
- :func:`returned`: a packet comes back from a function at ``port`` (its pair's egress
  forward, its ingress on the reverse path), with the service header it was sent with or,
  when the function is header-unaware, without one (the forwarder restores it: the port names
  the pair, whose group is in one chain).

Both answer a :class:`Hop`: the next function (its group in path order, the pair within the
group chosen by a hash of the group's ``lb_fields``, weighted by the pairs' weights; the same
pair for a connection's replies on a symmetric chain), or, past the last group, the packet's
own destination (the header removed). Every packet between hops carries the chain and its
place in the path in the service header (:class:`ServiceHeader`); a header-unaware function
(``correlation`` null) is served by proxy: the header is stripped before it and restored when
the packet comes back. A group with no usable pair (none, or every pair's port down or of
weight 0) drops the packet: a chain is not bypassed.

Each answer carries its trace steps, the header fields it read and the ids of the objects it
depended on (tags). IPv6 classifiers match IPv6 packets only, which this simulator does not
model; they never match.
"""

from __future__ import annotations

import ipaddress
import math
import zlib
from dataclasses import dataclass, field
from typing import Any

from ryu_midonet.sim.core.model import ETH_IPV4, ETH_IPV6, IP_ICMP, IP_TCP, IP_UDP, Packet
from ryu_midonet.sim.core.topology import TopologyView
from ryu_midonet.sim.core.trace import TraceStep
from ryu_midonet.types import Obj

PROTOCOLS = {"tcp": IP_TCP, "udp": IP_UDP, "icmp": IP_ICMP}
ETHERTYPES = {"IPv4": ETH_IPV4, "IPv6": ETH_IPV6}
# networking-sfc's lb_fields -> the packet's header fields
LB_FIELDS = {"eth_src": "eth_src", "eth_dst": "eth_dst", "ip_src": "ipv4_src",
             "ip_dst": "ipv4_dst", "tcp_src": "tcp_src", "tcp_dst": "tcp_dst",
             "udp_src": "udp_src", "udp_dst": "udp_dst"}
DEFAULT_LB = ("ipv4_src", "ipv4_dst", "ip_proto", "tcp_src", "tcp_dst", "udp_src", "udp_dst")
SWAPPED = {"eth_src": "eth_dst", "eth_dst": "eth_src", "ipv4_src": "ipv4_dst",
           "ipv4_dst": "ipv4_src", "tcp_src": "tcp_dst", "tcp_dst": "tcp_src",
           "udp_src": "udp_dst", "udp_dst": "udp_src"}
MAX_SI = 255
REVERSE_MPLS = 1 << 11  # the reverse path's bit in an MPLS label's 12-bit path id
REVERSE_NSH = 1 << 23  # the reverse path's bit in an NSH service path id (24 bits)
MAX_MPLS_CHAIN = REVERSE_MPLS - 1


@dataclass(frozen=True)
class ServiceHeader:
    """The service header between hops: the chain, the direction and the index of the group
    the packet is going to (0: the first group of its path)."""

    correlation: str  # mpls or nsh
    chain_id: int
    hop: int
    reverse: bool = False

    @property
    def path_id(self) -> int:
        """The service path: the chain id, with a direction bit for the reverse path."""
        bit = REVERSE_MPLS if self.correlation == "mpls" else REVERSE_NSH
        return self.chain_id | (bit if self.reverse else 0)

    @property
    def si(self) -> int:
        """The service index: 255 at the first group, one less at each next group."""
        return MAX_SI - self.hop

    @property
    def value(self) -> int:
        """The header's number: the MPLS label (path id << 8 | si, 20 bits) or the NSH
        service path header (SPI << 8 | SI, 32 bits)."""
        return self.path_id << 8 | self.si

    def __str__(self) -> str:
        what = "label" if self.correlation == "mpls" else "spi/si"
        shown = str(self.value) if self.correlation == "mpls" else f"{self.path_id}/{self.si}"
        way = " reverse" if self.reverse else ""
        return f"{self.correlation} {what} {shown} (chain {self.chain_id}{way} hop {self.hop})"


def decode(correlation: str, value: int) -> ServiceHeader | None:
    """The header a number stands for (None: not a header this module writes)."""
    bit = REVERSE_MPLS if correlation == "mpls" else REVERSE_NSH
    path, si = value >> 8, value & 0xFF
    if correlation not in ("mpls", "nsh") or si > MAX_SI or path <= 0:
        return None
    return ServiceHeader(correlation, path & ~bit, MAX_SI - si, bool(path & bit))


@dataclass(frozen=True)
class Hop:
    """Where a classified packet goes next.

    To a function: out of ``port_id`` (the pair's ingress, its egress on the reverse path),
    carrying ``header`` unless ``proxied`` (the function is header-unaware: the packet goes
    bare and the header is restored when it comes back at ``back_port``). Past the last group
    (``port_id`` None): on to the packet's own destination, ``header`` removed.
    """

    chain: str
    header: ServiceHeader
    port_id: str | None = None
    back_port: str | None = None
    pair: str | None = None
    group: str | None = None
    proxied: bool = False
    dropped: bool = False

    @property
    def done(self) -> bool:
        """The path is over: the packet goes on to its destination."""
        return self.port_id is None and not self.dropped


@dataclass
class Answer:
    """A decision with what it depended on: trace steps, header fields read, object ids."""

    hop: Hop | None = None
    steps: list[TraceStep] = field(default_factory=list)
    fields_read: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)

    def note(self, text: str, port: str | None = None) -> None:
        self.steps.append(TraceStep(f"port chain: {text}", port=port))


def classify(view: TopologyView, packet: Packet, in_port: str,
             out_port: str | None = None) -> Answer:
    """Whether a chain takes ``packet`` entering at ``in_port``; its first hop if so."""
    ans = Answer()
    for chain in _chains(view):
        ans.tags.add(chain["id"])
        symmetric = bool(chain["chain_parameters"].get("symmetric"))
        for fc_id in chain.get("flow_classifiers") or []:
            fc = view.get("flowClassifier", fc_id)
            if fc is None:
                continue
            ans.tags.add(fc_id)
            reverse = None
            if in_port == fc.get("logical_source_port"):
                reverse = False
            elif symmetric and in_port == fc.get("logical_destination_port"):
                reverse = True
            if reverse is None or not _matches(fc, packet, out_port, reverse, ans):
                continue
            way = "a reply, on the reverse path" if reverse else "classified"
            ans.note(f"flow classifier {fc_id} of chain {chain['id']} matches: {way}",
                     in_port)
            header = ServiceHeader(chain["chain_parameters"]["correlation"],
                                   chain["chain_id"], 0, reverse)
            ans.hop = _to_group(view, chain, header, packet, ans)
            return ans
    ans.note("no flow classifier matches: the packet goes direct", in_port)
    return ans


def returned(view: TopologyView, packet: Packet, port: str,
             header: ServiceHeader | None = None) -> Answer:
    """The next hop of a packet coming back from a function at ``port``, with ``header``
    (None: none, from a header-unaware function)."""
    ans = Answer(tags={port})
    found = _served_at(view, port, packet, header, ans)
    if found is None:
        ans.note(f"port {port} returns no packet of any chain: dropped", port)
        ans.hop = Hop("", header or ServiceHeader("mpls", 0, 0), dropped=True)
        return ans
    chain, header = found
    if header.hop + 1 >= len(_path(chain, header.reverse)):
        ans.note(f"chain {chain['id']}: last group passed; header {header} removed, on to "
                 "the destination", port)
        ans.hop = Hop(chain["id"], header)
        return ans
    nxt = ServiceHeader(header.correlation, header.chain_id, header.hop + 1, header.reverse)
    ans.hop = _to_group(view, chain, nxt, packet, ans)
    return ans


# -- classification -----------------------------------------------------------------------------


def _chains(view: TopologyView) -> list[Obj]:
    chains = view.all_of("portChain")
    return view.derived("sfc-chains", "", lambda: sorted(
        chains.values(), key=lambda c: (c.get("chain_id") or 0, c["id"])))


def _matches(fc: Obj, packet: Packet, out_port: str | None, reverse: bool,
             ans: Answer, ports: bool = True) -> bool:
    """Whether the classifier matches (``reverse``: a reply, sources and destinations
    swapped; ``ports``: the packet leaves at ``out_port``, which must be the classifier's)."""
    want_out = fc.get("logical_source_port" if reverse else "logical_destination_port")
    if ports and want_out and out_port != want_out:
        return False
    ans.fields_read.add("eth_type")
    if packet.eth_type != ETHERTYPES.get(fc.get("ethertype") or "IPv4"):
        return False
    src, dst = ("destination", "source") if reverse else ("source", "destination")
    proto = fc.get("protocol")
    if proto is not None:
        ans.fields_read.add("ip_proto")
        if packet.ip_proto != PROTOCOLS.get(proto):
            return False
    for side, addr in ((src, "ipv4_src"), (dst, "ipv4_dst")):
        prefix = fc.get(f"{side}_ip_prefix")
        if prefix is None:
            continue
        ans.fields_read.add(addr)
        value = getattr(packet, addr)
        net = ipaddress.ip_network(prefix)
        if value is None or net.version != 4 or ipaddress.IPv4Address(value) not in net:
            return False
    if proto in ("tcp", "udp"):
        for side, end in ((src, "src"), (dst, "dst")):
            lo, hi = fc.get(f"{side}_port_range_min"), fc.get(f"{side}_port_range_max")
            if lo is None and hi is None:
                continue
            name = f"{proto}_{end}"
            ans.fields_read.add(name)
            value = getattr(packet, name)
            if value is None or not (lo or 0) <= value <= (65535 if hi is None else hi):
                return False
    return True


# -- forwarding ---------------------------------------------------------------------------------


def _path(chain: Obj, reverse: bool) -> list[str]:
    groups = list(chain.get("port_pair_groups") or [])
    return groups[::-1] if reverse else groups


def _to_group(view: TopologyView, chain: Obj, header: ServiceHeader, packet: Packet,
              ans: Answer) -> Hop:
    group_id = _path(chain, header.reverse)[header.hop]
    ans.tags.add(group_id)
    group = view.get("portPairGroup", group_id)
    pairs = _usable(view, group, ans) if group is not None else []
    if group is None or not pairs:
        ans.note(f"group {group_id} (hop {header.hop}) has no usable port pair: dropped")
        return Hop(chain["id"], header, group=group_id, dropped=True)
    pair = _pick(pairs, _lb_key(group, packet, header.reverse, ans)) if len(pairs) > 1 \
        else pairs[0]
    proxied = pair["service_function_parameters"].get("correlation") is None
    to_port, back = ((pair["egress"], pair["ingress"]) if header.reverse
                     else (pair["ingress"], pair["egress"]))
    how = f"header {header} stripped (proxy)" if proxied else f"header {header}"
    ans.note(f"hop {header.hop}: group {group_id}, port pair {pair['id']} of {len(pairs)}: "
             f"to port {to_port}, {how}", to_port)
    return Hop(chain["id"], header, to_port, back, pair["id"], group_id, proxied)


def _usable(view: TopologyView, group: Obj, ans: Answer) -> list[Obj]:
    out = []
    for pair_id in group.get("port_pairs") or []:
        pair = view.get("portPair", pair_id)
        if pair is None:
            continue
        ans.tags.update((pair_id, pair["ingress"], pair["egress"]))
        ports = [view.get("port", pair[end]) for end in ("ingress", "egress")]
        weight = pair["service_function_parameters"].get("weight", 1)
        if weight > 0 and all(p is not None and p.get("adminStateUp", True) for p in ports):
            out.append(pair)
    return out


def _lb_key(group: Obj, packet: Packet, reverse: bool, ans: Answer) -> str:
    """The group's hash input: its lb_fields (none: the 5-tuple), read as the forward packet
    has them, so a reply hashes as its request did."""
    params = group.get("port_pair_group_parameters") or {}
    names = [LB_FIELDS[f] for f in params.get("lb_fields") or [] if f in LB_FIELDS] \
        or list(DEFAULT_LB)
    values: list[Any] = []
    for name in names:
        read = SWAPPED.get(name, name) if reverse else name
        if getattr(packet, read) is not None:
            ans.fields_read.add(read)
        values.append(getattr(packet, read))
    return repr(values)


def _pick(pairs: list[Obj], key: str) -> Obj:
    """Weighted rendezvous hashing: stable for a key, each pair's share its weight's, and only
    the keys of a pair that goes or comes move."""

    def score(pair: Obj) -> float:
        h = zlib.crc32(f"{key}|{pair['id']}".encode()) or 1
        return float(pair["service_function_parameters"].get("weight", 1)) / \
            -math.log(h / 2 ** 32)

    return max(pairs, key=lambda p: (score(p), p["id"]))


def _served_at(view: TopologyView, port: str, packet: Packet, header: ServiceHeader | None,
               ans: Answer) -> tuple[Obj, ServiceHeader] | None:
    """The chain and header of a packet coming back at ``port``: the header it carries, or
    the one the proxy restores (the pair at ``port``, its group's place in its chain)."""
    if header is not None:
        for chain in _chains(view):
            if chain.get("chain_id") == header.chain_id and \
                    chain["chain_parameters"]["correlation"] == header.correlation:
                ans.tags.add(chain["id"])
                if header.hop < len(_path(chain, header.reverse)):
                    ans.note(f"back from a function at port {port} with header {header}",
                             port)
                    return chain, header
        return None
    for chain in _chains(view):
        for reverse in (False, True):
            if reverse and not chain["chain_parameters"].get("symmetric"):
                continue
            for hop, group_id in enumerate(_path(chain, reverse)):
                group = view.get("portPairGroup", group_id) or {}
                for pair_id in group.get("port_pairs") or []:
                    pair = view.get("portPair", pair_id) or {}
                    if pair.get("ingress" if reverse else "egress") != port:
                        continue
                    if pair.get("ingress") == pair.get("egress") and \
                            _one_arm_reverse(view, chain, packet) != reverse:
                        continue
                    ans.tags.update((chain["id"], group_id, pair_id))
                    restored = ServiceHeader(chain["chain_parameters"]["correlation"],
                                             chain["chain_id"], hop, reverse)
                    ans.note(f"back from header-unaware port pair {pair_id} at port {port}: "
                             f"header {restored} restored (proxy)", port)
                    return chain, restored
    return None


def _one_arm_reverse(view: TopologyView, chain: Obj, packet: Packet) -> bool:
    """Which way a packet back from a one-armed function goes: a reply when it matches a
    classifier of the chain with sources and destinations swapped but not as it is."""
    if not chain["chain_parameters"].get("symmetric"):
        return False
    scratch = Answer()
    for fc_id in chain.get("flow_classifiers") or []:
        fc = view.get("flowClassifier", fc_id)
        if fc is None:
            continue
        if _matches(fc, packet, None, False, scratch, ports=False):
            return False
        if _matches(fc, packet, None, True, scratch, ports=False):
            return True
    return False
