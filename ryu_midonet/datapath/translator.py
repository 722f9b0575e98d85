"""Simulation results -> flows: the most generic flow that still gives the same decision.

TTL expiry. A decision that depends on the TTL is not cached (OpenFlow 1.3 cannot match it):
a flow does every TTL decrement of its decision with ``dec_ttl``, which stops a packet whose
TTL is 0 or 1 and hands it to the agent (``OFPR_INVALID_TTL``), which simulates it and sends
the router's ICMP time exceeded. Two things keep that exact:

- a flow decrements as often as the longest path of its decision (``Result.ttl_decrements``),
  after its outputs: a flow that routes and then drops (a later filter) still has its
  ``dec_ttl`` s, without which a TTL that runs out at the router would get no answer;
- the packet a ``dec_ttl`` hands over carries the decrements done before it. So the n-th
  ``dec_ttl`` of a flow (n >= 2, several routers) is preceded by loading n - 1 into
  :data:`~.pipeline.TTL_REG`, which the packet-in carries (Open vSwitch sends registers with
  a packet-in); the agent adds it back (:func:`ttl_restored`) and simulates the packet as it
  entered the flow, so the router where the TTL ran out answers. A flow's outputs all cross
  the same routers (a router takes only frames to its own MAC, which a bridge never floods),
  so the packet never went anywhere before such a packet-in.
"""

from __future__ import annotations

import ipaddress
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import assert_never

from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import vlantags
from ryu_midonet.datapath.flows import (
    DEC_TTL,
    POP_VLAN,
    Action,
    FlowDelete,
    FlowSpec,
    Message,
    MeterDelete,
    MeterSpec,
    Nat,
    ct,
    ct_state,
    goto,
    meter,
    output,
    push_vlan,
    set_field,
)
from ryu_midonet.sim.core.model import (
    ETH_ARP,
    ETH_IPV4,
    IP_ICMP,
    IP_TCP,
    IP_UDP,
    ArpAnswer,
    DatapathSnat,
    Packet,
    Result,
    Rewrite,
    RewriteOp,
)
from ryu_midonet.sim.core.packets import checksum

# Fields a match may only name together with these prerequisites (OpenFlow 1.3 §7.2.3.6).
_PREREQ: dict[str, dict[str, int]] = {
    **{f: {"eth_type": ETH_IPV4} for f in ("ipv4_src", "ipv4_dst", "ip_proto", "ip_dscp",
                                            "ip_ecn", "ip_frag")},
    **{f: {"eth_type": ETH_ARP} for f in ("arp_op", "arp_spa", "arp_tpa", "arp_sha",
                                           "arp_tha")},
    **{f: {"eth_type": ETH_IPV4, "ip_proto": IP_TCP} for f in ("tcp_src", "tcp_dst")},
    **{f: {"eth_type": ETH_IPV4, "ip_proto": IP_UDP} for f in ("udp_src", "udp_dst")},
    **{f: {"eth_type": ETH_IPV4, "ip_proto": IP_ICMP} for f in ("icmpv4_type",
                                                                 "icmpv4_code")},
}
# Read by simulations but not matchable in OpenFlow 1.3: a decision that depends on them is
# not cached (TTL expiry is rare; dec_ttl sends expiring packets back to the agent anyway).
UNMATCHABLE = frozenset({"nw_ttl"})
OFPVID_PRESENT = 0x1000
OFPVID_NONE = 0x0000  # matches packets without an 802.1Q tag
# Open vSwitch's nw_frag bits: 1 = a fragment, 2 = not the first one (matched with mask 3).
IP_FRAG_BITS = {"no": 0, "first": 1, "later": 3}
LATER_BIT = 2
# Fields a later fragment does not carry. Open vSwitch sees them as 0 in later fragments
# (ICMP type 0 is an echo reply), so a flow that matches them, or that was built from a later
# fragment that lacked them, must also say whether it is for later fragments.
L4_FIELDS = frozenset({"tcp_src", "tcp_dst", "udp_src", "udp_dst", "icmpv4_type",
                       "icmpv4_code"})


@dataclass(frozen=True)
class Local:
    """An exterior port bound on this host, at OpenFlow port ``ofport``."""

    ofport: int


@dataclass(frozen=True)
class Remote:
    """An exterior port bound on another host: tunnel to ``ip`` with key ``key``."""

    tunnel_ofport: int
    ip: str
    key: int


Location = Local | Remote
Locate = Callable[[str], Location | None]


def match_for(packet: Packet, in_port: int, fields: Iterable[str]) -> dict[str, object]:
    """``in_port`` plus every read field the packet carries, with their prerequisites (and
    whether the packet is a later fragment, when an L4 field was read). A VLAN id read from
    an untagged packet matches untagged packets only."""
    read = set(fields)
    match: dict[str, object] = {"in_port": in_port}
    if "vlan_vid" in read and packet.vlan_vid is None:
        match["vlan_vid"] = OFPVID_NONE
    if "vlan_pcp" in read and packet.vlan_vid is not None:
        match["vlan_pcp"] = packet.vlan_pcp or 0  # a tag without priority has priority 0
    if packet.eth_type == ETH_IPV4 and "ip_frag" not in read and read & L4_FIELDS:
        # later fragments, or not: the decision was not about fragments otherwise
        later = packet.ip_frag == "later"
        match["eth_type"] = ETH_IPV4
        match["ip_frag"] = (LATER_BIT if later else 0, LATER_BIT)
    for name in sorted(read):
        value = getattr(packet, name, None)
        if name == "ip_frag" and packet.eth_type == ETH_IPV4:
            value = (IP_FRAG_BITS[value or "no"], 3)
        if value is None or name in UNMATCHABLE or name == "vlan_pcp":
            continue
        for pre, pre_value in _PREREQ.get(name, {}).items():
            if getattr(packet, pre) != pre_value:
                break
            match[pre] = pre_value
        else:
            match[name] = value | OFPVID_PRESENT if name == "vlan_vid" else value
    return match


def output_actions(result: Result, locate: Locate, in_port: int | None = None
                   ) -> tuple[Action, ...]:
    """The actions that carry out ``result``'s outputs (empty: drop) for a packet that
    entered at OpenFlow port ``in_port``.

    Rewrites are applied in order before each output; outputs of one result share the same
    rewrites except when a router sends to one port, so applying them cumulatively is exact;
    the VLAN tag, which outputs of a VLAN-aware bridge's flood do not share, is handled on
    its own (:mod:`.vlantags`: the outputs are ordered by what they do to it).
    Outputs to ports whose location is unknown (host down, binding not yet seen) are left out.
    The commit of an output the datapath translates the source of is done here, after the
    translation, whatever the port's location: its replies are steered to this host.
    """
    actions: list[Action] = []
    applied: tuple[Rewrite, ...] = ()
    tagged: tuple[Rewrite, ...] = ()  # the tag's own rewrites, see vlantags
    for out in vlantags.ordered(result.outputs):
        where = locate(out.port_id)
        if where is None:
            continue
        here = out.commit is not None and any(rw.op is RewriteOp.DATAPATH_SNAT
                                              for rw in out.rewrites)
        to = output_actions_to(where, in_port, None if here else out.commit, out.copy)
        rest, tag = vlantags.split(out.rewrites)
        if rest != applied or tag != tagged:
            rewriting = rewrite_actions(rest) if rest != applied else []
            rewriting += vlantags.change(tagged, tag)
            tagged = tag
            if isinstance(where, Remote) and any(a.kind == p.CT for a in rewriting):
                # the tunnel's metadata first: after a ct with nat, only outputs see the
                # translated packet
                rewriting, to = [*to[:-1], *rewriting], to[-1:]
            actions += rewriting
            applied = rest
        if here and out.commit is not None:
            to = (*to[:-1], ct(commit=True, zone=zone_of(out.commit)), to[-1])
        actions += to
    return tuple(actions)


def rewrite_actions(rewrites: tuple[Rewrite, ...]) -> list[Action]:
    """The actions that apply ``rewrites`` in order; every rewrite op has its translation.

    A ``push_vlan`` takes its VLAN id from the ``set`` of ``vlan_vid`` that follows it, and
    the two become one push action; a VLAN id set on its own carries the OpenFlow "present"
    bit, as the ``vlan_vid`` field requires.
    """
    actions: list[Action] = []
    pushing = False
    decrements = 0
    for rw in rewrites:
        if pushing and not (rw.op is RewriteOp.SET and rw.field == "vlan_vid"):
            raise ValueError(f"push_vlan not followed by the VLAN id to push: {rewrites}")
        match rw.op:
            case RewriteOp.DEC_TTL:
                actions += dec_ttl(decrements)
                decrements += 1
            case RewriteOp.POP_VLAN:
                actions.append(POP_VLAN)
            case RewriteOp.PUSH_VLAN:
                pushing = True
            case RewriteOp.DATAPATH_SNAT:
                if not isinstance(rw.value, DatapathSnat):
                    raise ValueError(f"datapath_snat without its translation: {rw}")
                actions += snat_actions(rw.value)
            case RewriteOp.ARP_REPLY:
                if not isinstance(rw.value, ArpAnswer):
                    raise ValueError(f"arp_reply without its answer: {rw}")
                actions += arp_reply_actions(rw.value)
            case RewriteOp.SET if rw.field is None:
                raise ValueError(f"set without a field: {rw}")
            case RewriteOp.SET if rw.field == "vlan_vid" and pushing:
                actions.append(push_vlan(int(rw.value)))
                pushing = False
            case RewriteOp.SET if rw.field == "vlan_vid":
                actions.append(set_field("vlan_vid", int(rw.value) | OFPVID_PRESENT))
            case RewriteOp.SET:
                actions.append(set_field(rw.field, rw.value))
            case _:
                assert_never(rw.op)
    if pushing:
        raise ValueError(f"push_vlan not followed by the VLAN id to push: {rewrites}")
    return actions


def arp_reply_actions(answer: ArpAnswer) -> list[Action]:
    """An ARP responder: the request becomes its reply, every field the reply is made of
    set. The decision read all the request's fields the reply comes from, so its flow
    matches them exactly and the values are the same for every packet it takes."""
    return [set_field(name, value) for name, value in answer.headers().items()]


def dec_ttl(done: int) -> list[Action]:
    """A ``dec_ttl`` after ``done`` others, which loads ``done`` into
    :data:`~.pipeline.TTL_REG` first (see the module's docstring)."""
    return [DEC_TTL] if done == 0 else [set_field(p.TTL_REG, done), DEC_TTL]


def with_ttl_checks(result: Result, actions: tuple[Action, ...]) -> tuple[Action, ...]:
    """``actions`` followed by the ``dec_ttl`` s of ``result``'s longest path that they do not
    do (a path that drops after more routers than its outputs crossed)."""
    done = sum(1 for a in actions if a == DEC_TTL)
    extra = [a for n in range(done, result.ttl_decrements) for a in dec_ttl(n)]
    return (*actions, *extra) if extra else actions


def ttl_restored(data: bytes, spent: int) -> bytes:
    """The frame of a packet a flow's ``dec_ttl`` handed over (``OFPR_INVALID_TTL``) as it
    entered the flow: ``spent`` (the packet-in's :data:`~.pipeline.TTL_REG`) added back to its
    IPv4 TTL, the header checksum updated. Anything that is no IPv4 frame is left as it is."""
    at = 14
    while data[at - 2:at] in (b"\x81\x00", b"\x88\xa8"):  # VLAN tags
        at += 4
    if spent <= 0 or data[at - 2:at] != b"\x08\x00" or len(data) < at + 20:
        return data
    end = at + (data[at] & 0x0F) * 4
    if end < at + 20 or len(data) < end:
        return data
    out = bytearray(data)
    out[at + 8] = min(0xFF, out[at + 8] + spent)
    out[at + 10:at + 12] = b"\0\0"
    out[at + 10:at + 12] = checksum(bytes(out[at:end])).to_bytes(2, "big")
    return bytes(out)


# -- source NAT in the datapath ---------------------------------------------------------------

NAT_L4 = {IP_TCP: "tcp_dst", IP_UDP: "udp_dst"}
ICMP_ERRORS = (3, 11, 12)  # destination unreachable, time exceeded, parameter problem
REPLY = ct_state(trk=True, rpl=True, inv=False)  # a reply the tracker translated back


def zone_of(scope: str) -> int:
    """The connection-tracking zone of a flow-state scope (a device or stateful port group):
    the same on every host, never the default zone 0."""
    return 1 + zlib.crc32(scope.encode()) % 0xFFFE


def snat_actions(snat: DatapathSnat) -> list[Action]:
    """Track the connection in its scope's zone and translate its source (new connections
    get a free port of the range; known ones their translation). When the tracker finds no
    free port it passes the packet on untranslated: setting the source address again (a
    no-op for a translated packet) keeps a VM's own address from leaving through the NAT."""
    return [ct(commit=True, zone=zone_of(snat.scope),
               nat=Nat("src", (snat.ip, snat.ip), (snat.port_from, snat.port_to))),
            set_field("ipv4_src", snat.ip)]


def port_mask(first: int, last: int) -> tuple[int, int]:
    """``first..last`` (an aligned power-of-two block) as a masked port match."""
    size = last - first + 1
    if size & (size - 1) or first % size:
        raise ValueError(f"ports {first}-{last} are no aligned block")
    return first, 0xFFFF & ~(size - 1)


def has_datapath_snat(result: Result) -> bool:
    """Whether the datapath translates the source of some output of ``result``."""
    return any(rw.op is RewriteOp.DATAPATH_SNAT for out in result.outputs for rw in out.rewrites)


def nat_steering(in_port: int, scope: str, ip: str, first: int, last: int,
                 cookie: int | None = None, egress: str | None = None) -> list[FlowSpec]:
    """Replies entering at ``in_port`` to ``ip`` on a port of ``first..last`` (a block this
    host translates to), and ICMP errors to ``ip`` (about such connections or not), go back
    through the tracker of ``scope`` and on to the nat-return table, the NAT address in
    :data:`~.pipeline.NAT_REG`. With ``egress`` (the flow-state scope of the port the
    translated packets leave by, when it is not ``scope``), through that scope's zone first
    (:func:`nat_egress_flows`)."""
    zone = zone_of(scope)
    address = int(ipaddress.IPv4Address(ip))
    actions = (set_field(p.NAT_REG, address), _to_nat(scope, egress))
    base = {"in_port": in_port, "eth_type": ETH_IPV4, "ipv4_dst": ip}
    cookie = p.cookie(p.COOKIE_NAT_STEER, zone) if cookie is None else cookie
    flows = [FlowSpec(p.TABLE_FLOWS, p.PRIORITY_NAT_STEER, match, actions, cookie=cookie)
             for match in _steered(base, first, last, errors=True)]
    if egress is not None:
        flows += nat_egress_flows({"in_port": in_port, p.NAT_REG: address}, scope, egress, ip,
                                  first, last, cookie)
    return flows


def _to_nat(scope: str, egress: str | None) -> Action:
    """The ``ct`` that takes a reply to the tracker of its translation's ``scope`` (through
    the zone of ``egress`` first, when the translation is in another scope than the exit)."""
    if egress is None:
        return ct(zone=zone_of(scope), nat=Nat(), table=p.TABLE_NAT_RETURN)
    return ct(zone=zone_of(egress), table=p.TABLE_NAT_EGRESS)


def nat_egress_flows(base: dict[str, object], scope: str, egress: str, ip: str, first: int,
                     last: int, cookie: int) -> list[FlowSpec]:
    """The nat-egress entries of replies (``base``: how their steering flow marks them) that
    went through the zone of ``egress``, the exit port's scope: the tracker's answer there
    (a reply, or an ICMP error related to a connection, adds
    :data:`~.pipeline.CT_EGRESS_RETURNING`) goes into :data:`~.pipeline.EGRESS_REG`, then
    the reply goes through the tracker of ``scope``, which translates it back, to the
    nat-return table."""
    zone = zone_of(egress)
    back = ct(zone=zone_of(scope), nat=Nat(), table=p.TABLE_NAT_RETURN)
    flows: list[FlowSpec] = []
    for match in _steered({**base, "eth_type": ETH_IPV4, "ipv4_dst": ip, "ct_zone": zone},
                          first, last, errors=True):
        state = ct_state(trk=True, rel=True) if match["ip_proto"] == IP_ICMP else ct_state(
            trk=True, rpl=True)
        flows += [FlowSpec(p.TABLE_NAT_EGRESS, p.PRIORITY_NAT_STEER + 1,
                           {**match, "ct_state": state},
                           (set_field(p.EGRESS_REG, zone | p.CT_EGRESS_RETURNING), back),
                           cookie=cookie),
                  FlowSpec(p.TABLE_NAT_EGRESS, p.PRIORITY_NAT_STEER, match,
                           (set_field(p.EGRESS_REG, zone), back), cookie=cookie)]
    return flows


def _steered(base: dict[str, object], first: int, last: int,
             errors: bool) -> list[dict[str, object]]:
    """``base`` with TCP and UDP to a port of ``first..last`` (and ICMP errors)."""
    matches = [{**base, "ip_proto": proto, field: port_mask(first, last)}
               for proto, field in NAT_L4.items()]
    if errors:
        matches += [{**base, "ip_proto": IP_ICMP, "icmpv4_type": kind} for kind in ICMP_ERRORS]
    return matches


def steered_key(entry_key: int) -> int:
    """The tunnel key of a reply steered to the translating host, that entered the topology
    at the port whose tunnel key is ``entry_key``."""
    if not 0 < entry_key < p.NAT_TUNNEL_FLAG:
        raise ValueError(f"tunnel key {entry_key} cannot be steered")
    return p.NAT_TUNNEL_FLAG | entry_key


def nat_steering_to(in_port: int, entry_key: int, ip: str, first: int, last: int,
                    owner: Remote, cookie: int) -> list[FlowSpec]:
    """Replies entering at ``in_port`` (the exterior port whose tunnel key is ``entry_key``)
    to ``ip`` on a port of ``first..last``, a block another host translates to, go to that
    host (``owner``) through the tunnel, with the entry port in the key. ICMP errors are not
    matched (several hosts may translate to ``ip``): the agent sends them on."""
    actions = (set_field("tunnel_id", steered_key(entry_key)),
               set_field("tun_ipv4_dst", owner.ip), output(owner.tunnel_ofport))
    base = {"in_port": in_port, "eth_type": ETH_IPV4, "ipv4_dst": ip}
    return [FlowSpec(p.TABLE_FLOWS, p.PRIORITY_NAT_STEER, match, actions, cookie=cookie)
            for match in _steered(base, first, last, errors=False)]


def nat_tunnel_in(entry_key: int, scope: str, ip: str, first: int, last: int,
                  cookie: int, egress: str | None = None) -> list[FlowSpec]:
    """Replies (and ICMP errors) to ``ip`` on a port of ``first..last`` that another host
    steered here from the exterior port whose tunnel key is ``entry_key``: through the
    tracker of ``scope`` to the nat-return table, the NAT address and the entry port in
    registers (with ``egress``, as :func:`nat_steering`)."""
    address = int(ipaddress.IPv4Address(ip))
    actions = (set_field(p.NAT_REG, address), set_field(p.ENTRY_REG, entry_key),
               _to_nat(scope, egress))
    base = {"tunnel_id": steered_key(entry_key), "eth_type": ETH_IPV4, "ipv4_dst": ip}
    flows = [FlowSpec(p.TABLE_NAT_TUNNEL_IN, p.PRIORITY_NAT_STEER, match, actions,
                      cookie=cookie)
             for match in _steered(base, first, last, errors=True)]
    if egress is not None:
        flows += nat_egress_flows({p.NAT_REG: address, p.ENTRY_REG: entry_key}, scope, egress,
                                  ip, first, last, cookie)
    return flows


def nat_return_flow(result: Result, reply: Packet, in_port: int, nat_ip: str, locate: Locate,
                    cookie: int, idle_timeout: int = 60, entry_key: int = 0,
                    egress_zone: int = 0) -> FlowSpec | None:
    """The nat-return entry for ``result``, the decision for a reply the tracker translated
    back (``reply``: as it left the tracker) that was sent to ``nat_ip`` (``entry_key``: it
    was steered here from the port with that tunnel key; ``egress_zone``: it went through
    the tracker in that zone first, see :func:`nat_egress_flows`)."""
    if not cacheable(result):
        return None
    match = match_for(reply, in_port, result.fields_read)
    match[p.NAT_REG] = int(ipaddress.IPv4Address(nat_ip))
    if entry_key:
        match[p.ENTRY_REG] = entry_key
    match["ct_state"] = REPLY
    if result.ct_scope is not None and result.ct_return is not None:
        zone = zone_of(result.ct_scope)  # the decision used the tracker's answer
        if zone == egress_zone:  # in the exit port's zone, before the reverse translation
            match[p.EGRESS_REG] = zone | (p.CT_EGRESS_RETURNING if result.ct_return else 0)
        else:
            match["ct_zone"] = zone
    return FlowSpec(table=p.TABLE_NAT_RETURN, priority=p.PRIORITY_FLOW, match=match,
                    actions=with_ttl_checks(result, output_actions(result, locate, in_port)),
                    cookie=cookie, idle_timeout=idle_timeout)


def output_actions_to(where: Location, in_port: int | None = None,
                      commit: str | None = None, copy: bool = False) -> tuple[Action, ...]:
    """Actions that send a packet to one location (for packets the topology generates).

    Back out of the port it came in by (``in_port``), a packet must be sent to the
    ``in_port`` port: a switch never outputs to the ingress port by its number. With
    ``commit`` (a flow-state scope), the connection tracker records the packet's connection
    in that scope's zone: here, or on the egress host (the tunnel key's
    :data:`~.pipeline.CT_COMMIT_BIT`); with ``copy``, a new connection's first packets
    are also copied to the scope's other hosts (:data:`~.pipeline.TABLE_CT_COPY`; through
    a tunnel, the egress host's delivery flow does that)."""
    if isinstance(where, Local):
        out = output("in_port" if where.ofport == in_port else where.ofport)
        if commit is None:
            return (out,)
        return (ct(commit=True, zone=zone_of(commit),
                   table=p.TABLE_CT_COPY if copy else None), out)
    key = where.key if commit is None else where.key | p.CT_COMMIT_BIT
    return (set_field("tunnel_id", key), set_field("tun_ipv4_dst", where.ip),
            output(where.tunnel_ofport))


def cacheable(result: Result) -> bool:
    return result.cacheable and not (result.fields_read & UNMATCHABLE)


def flow_for(result: Result, packet: Packet, in_port: int, locate: Locate, cookie: int,
             idle_timeout: int = 60, priority: int = p.PRIORITY_FLOW) -> FlowSpec | None:
    """The flow-cache entry for ``result``, or None when it must not be cached."""
    if not cacheable(result):
        return None
    fields = set(result.fields_read)
    if getattr(result, "learned", None):
        fields.add("eth_src")  # new sources behind the port must reach the agent to be learned
    return FlowSpec(table=p.TABLE_FLOWS, priority=priority,
                    match=match_for(packet, in_port, fields),
                    actions=with_ttl_checks(result, output_actions(result, locate, in_port)),
                    cookie=cookie,
                    idle_timeout=idle_timeout)


@dataclass(frozen=True)
class MissLimit:
    """How many misses per second one local port may send the agent, after a burst."""

    rate: int
    burst: int


def port_flows(ofport: int, tunnel_key: int, miss: MissLimit | None = None
               ) -> list[Message]:
    """What a locally bound port needs: classification and tunnel delivery, and with
    ``miss``, its own miss flow through a meter of its own (created first)."""
    messages: list[Message] = [
        FlowSpec(p.TABLE_CLASSIFY, p.PRIORITY_PORT, {"in_port": ofport}, (goto(p.TABLE_FLOWS),),
                 cookie=p.cookie(p.COOKIE_CLASSIFY, tunnel_key)),
        FlowSpec(p.TABLE_TUNNEL_DELIVERY, p.PRIORITY_PORT, {"tunnel_id": tunnel_key},
                 (output(ofport),), cookie=p.cookie(p.COOKIE_DELIVERY, tunnel_key)),
    ]
    if miss is not None:
        meter_id = p.meter_id(tunnel_key)
        messages = [MeterSpec(meter_id, miss.rate, miss.burst), *messages, FlowSpec(
            p.TABLE_FLOWS, p.PRIORITY_PORT_MISS, {"in_port": ofport},
            (meter(meter_id), output("controller")), cookie=p.cookie(p.COOKIE_MISS, tunnel_key))]
    return messages


def port_deletes(tunnel_key: int) -> list[Message]:
    """What removes :func:`port_flows` of the port whose tunnel key is ``tunnel_key``."""
    return [FlowDelete(p.cookie(p.COOKIE_CLASSIFY, tunnel_key)),
            FlowDelete(p.cookie(p.COOKIE_DELIVERY, tunnel_key)),
            FlowDelete(p.cookie(p.COOKIE_MISS, tunnel_key)),
            MeterDelete(p.meter_id(tunnel_key))]


def base_flows(tunnel_ofports: Iterable[int], nat_return: bool = False) -> list[FlowSpec]:
    """The flows every host has: tunnel classification and the flow table's miss to the agent
    (and, with ``nat_return``, the nat-return table's)."""
    flows = [FlowSpec(p.TABLE_CLASSIFY, p.PRIORITY_PORT, {"in_port": port},
                      (goto(p.TABLE_TUNNEL_DELIVERY),), cookie=p.cookie(p.COOKIE_CLASSIFY))
             for port in tunnel_ofports]
    flows.append(FlowSpec(p.TABLE_FLOWS, p.PRIORITY_MISS, {}, (output("controller"),),
                          cookie=p.cookie(p.COOKIE_MISS)))
    if nat_return:
        flows.append(FlowSpec(p.TABLE_NAT_RETURN, p.PRIORITY_MISS, {}, (output("controller"),),
                              cookie=p.cookie(p.COOKIE_MISS)))
        flows.append(FlowSpec(p.TABLE_TUNNEL_DELIVERY, p.PRIORITY_MISS, {},
                              (goto(p.TABLE_NAT_TUNNEL_IN),),
                              cookie=p.cookie(p.COOKIE_NAT_STEER)))  # no packet to the agent
    return flows
