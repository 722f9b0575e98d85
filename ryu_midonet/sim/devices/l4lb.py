"""A router's L4 load balancer: TCP to a VIP is translated to one of its pool's members.

The load balancer of a router (``router.loadBalancerId``, or a load balancer whose
``routerId`` is the router) sees every IPv4 packet entering the router, before the inbound
filters:

- To a VIP: a TCP packet whose destination is a VIP's ``address`` and ``protocolPort``, the
  VIP, its pool and the load balancer administratively up. A new connection gets a member
  among the pool's *eligible* ones (admin up, ``status`` ACTIVE, ``weight`` > 0), chosen by
  weight: without persistence from a hash of the connection (connections spread in
  proportion to the weights); with ``sessionPersistence`` SOURCE_IP, the source's sticky
  entry (``lb:sticky:<vip id>:<source address>`` in the flow state) names its member while
  that member stays eligible; a source without one (new, or idle for a day: the entry's
  life, :data:`~ryu_midonet.sim.state.flowstate.STICKY_TTL`, runs from the last flow that
  used it) gets one by weighted rendezvous hashing of its address, the same on every host.
  So every connection of a source reaches the same member, and a member that comes moves
  no active source. The destination becomes
  the member's address and port; the source is kept.
- From a member: a TCP packet from a member's address and port that is the reply of a
  balanced connection gets its source translated back to the VIP.

Both are recorded as flow state (:mod:`ryu_midonet.sim.rules.nat`'s entries,
``nat:dnat:<scope>:<5-tuple>`` and its ``nat:rev_dnat`` reverse) in the scope
``lb:<vip id>:<persistence>``, so every packet of a connection gets the same member whichever
host simulates it, and the reply is found on the member's host. Changing the VIP's
persistence changes the scope: packets of connections translated under the other one drop.
A known connection to a member that is no longer eligible: with persistence it drops, without
it goes on (it finishes; new connections avoid the member); a member no longer in the pool:
drops. No eligible member: the packet drops.

Balanced packets (both ways) skip the router's inbound and outbound filters; any other packet
goes through them as usual. The decision is tagged with the load balancer, its pools, the VIP
and the pool's members, so a change to any of them removes the flows built on it.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from ryu_midonet.sim.core.context import Context, Frame
from ryu_midonet.sim.core.model import ETH_IPV4, IP_TCP
from ryu_midonet.sim.core.topology import TopologyView
from ryu_midonet.sim.rules.nat import Binding, rewrite
from ryu_midonet.sim.rules.tuples import Conn, flow_of
from ryu_midonet.sim.state.flowstate import STICKY_PREFIX
from ryu_midonet.types import Obj

SOURCE_IP = "SOURCE_IP"


@dataclass(frozen=True)
class Vip:
    """A VIP as the load balancer serves it."""

    obj: Obj
    pool: Obj
    members: tuple[Obj, ...]  # the pool's members, by id

    @property
    def id(self) -> str:
        return str(self.obj["id"])

    @property
    def sticky(self) -> bool:
        return self.obj.get("sessionPersistence") == SOURCE_IP

    @property
    def scope(self) -> str:
        """The flow-state scope of its connections (changes with the persistence)."""
        return self.scope_for(self.sticky)

    def scope_for(self, sticky: bool) -> str:
        return f"lb:{self.id}:{'source-ip' if sticky else 'none'}"

    @property
    def old_scope(self) -> str:
        """The scope of its connections from before its persistence last changed."""
        return self.scope_for(not self.sticky)

    @property
    def address(self) -> Binding:
        return Binding(str(self.obj["address"]), int(self.obj["protocolPort"]))

    def eligible(self) -> list[Obj]:
        """The members new connections may go to."""
        return [m for m in self.members if is_eligible(m)]

    def member_at(self, binding: Binding) -> Obj | None:
        return next((m for m in self.members if _endpoint(m) == tuple(binding)), None)


@dataclass(frozen=True)
class Balancer:
    """What a router's load balancer serves, built once per topology version."""

    lb: Obj
    pool_ids: tuple[str, ...]
    vips: Mapping[tuple[str, int], Vip]  # (address, port) -> active VIP
    vip_addresses: frozenset[str]
    serving: Mapping[tuple[str, int], tuple[Vip, ...]]  # member endpoint -> VIPs it serves
    member_addresses: frozenset[str]

    @property
    def tags(self) -> tuple[str, ...]:
        return (str(self.lb["id"]), *self.pool_ids)


def is_eligible(member: Obj) -> bool:
    """Admin up, ACTIVE, with a weight (and an address and port)."""
    return (member.get("adminStateUp", True) is not False
            and (member.get("status") or "ACTIVE") == "ACTIVE"
            and _weight(member) > 0 and _endpoint(member) is not None)


def _endpoint(member: Obj) -> tuple[str, int] | None:
    address, port = member.get("address"), member.get("protocolPort")
    if not isinstance(address, str) or not isinstance(port, int) or isinstance(port, bool):
        return None
    return address, port


def _weight(member: Obj) -> int:
    weight = member.get("weight", 1)
    return weight if isinstance(weight, int) and not isinstance(weight, bool) else 0


def _up(obj: Obj | None) -> bool:
    return obj is not None and obj.get("adminStateUp", True) is not False


def build(view: TopologyView, router: Obj) -> Balancer | None:
    """The load balancer of ``router`` (None: it has none)."""
    lb = view.get("loadBalancer", router.get("loadBalancerId"))
    if lb is None:
        lb = next((x for _, x in sorted(view.all_of("loadBalancer").items())
                   if x.get("routerId") == router["id"]), None)
    if lb is None:
        return None
    pools = {pid: p for pid, p in sorted(view.all_of("pool").items())
             if p.get("loadBalancerId") == lb["id"]}
    members: dict[str, list[Obj]] = {}
    for _, m in sorted(view.all_of("poolMember").items()):
        if m.get("poolId") in pools:
            members.setdefault(str(m["poolId"]), []).append(m)
    vips: dict[tuple[str, int], Vip] = {}
    serving: dict[tuple[str, int], list[Vip]] = {}
    for _, v in sorted(view.all_of("vip").items()):
        pool = pools.get(v.get("poolId") or "")
        if pool is None or _endpoint(v) is None:
            continue
        vip = Vip(v, pool, tuple(members.get(str(pool["id"]), ())))
        if not (_up(lb) and _up(pool) and _up(v)) or vip.address in vips:
            continue
        vips[vip.address] = vip
        for m in vip.members:
            endpoint = _endpoint(m)
            if endpoint is not None:
                serving.setdefault(endpoint, []).append(vip)
    return Balancer(lb, tuple(pools), vips, frozenset(ip for ip, _ in vips),
                    {k: tuple(v) for k, v in serving.items()},
                    frozenset(ip for ip, _ in serving))


def balancer_of(view: TopologyView, router: Obj) -> Balancer | None:
    """:func:`build`, kept until the topology changes."""
    return view.derived("l4lb", str(router["id"]), lambda: build(view, router))


def choose(vip: Vip, conn: Conn) -> Obj | None:
    """The member a new connection goes to (None: no eligible member)."""
    eligible = vip.eligible()
    if not eligible:
        return None
    if vip.sticky:
        return max(eligible, key=lambda m: _score(f"{vip.id}:{conn.src}:{m['id']}", _weight(m)))
    total = sum(_weight(m) for m in eligible)
    index = zlib.crc32(str(conn).encode()) % total
    for m in eligible:
        index -= _weight(m)
        if index < 0:
            return m
    return eligible[-1]


def _score(key: str, weight: int) -> float:
    """Weighted rendezvous hashing: the highest score wins, in proportion to the weight."""
    u = (zlib.crc32(key.encode()) + 0.5) / 2**32
    return -weight / math.log(u)


class Outcome:
    """What the load balancer did with a packet."""

    NOT_MINE = "not-mine"  # not balanced traffic: the router goes on as usual
    DROP = "drop"


def balance(ctx: Context, router: Obj, frame: Frame) -> Frame | str:
    """The frame translated (to a member, or back from one) when it is balanced traffic, which
    skips the router's filters; :attr:`Outcome.NOT_MINE` or :attr:`Outcome.DROP` otherwise."""
    found = balancer_of(ctx.view, router)
    if found is None:
        return Outcome.NOT_MINE
    ctx.tag(*found.tags)
    packet = frame.packet
    ctx.read(frame, "eth_type")
    if packet.eth_type != ETH_IPV4:
        return Outcome.NOT_MINE
    ctx.read(frame, "ipv4_dst")
    if packet.ipv4_dst in found.vip_addresses:
        ctx.read(frame, "ip_proto")
        if packet.ip_proto == IP_TCP:
            ctx.read(frame, "tcp_dst")
            vip = found.vips.get((packet.ipv4_dst, packet.tcp_dst or 0))
            if vip is not None:
                return _to_member(ctx, vip, frame)
    ctx.read(frame, "ipv4_src")
    if packet.ipv4_src in found.member_addresses:
        ctx.read(frame, "ip_proto")
        if packet.ip_proto == IP_TCP:
            ctx.read(frame, "tcp_src")
            vips = found.serving.get((packet.ipv4_src, packet.tcp_src or 0), ())
            if vips:
                return _from_member(ctx, vips, frame)
    return Outcome.NOT_MINE


def _to_member(ctx: Context, vip: Vip, frame: Frame) -> Frame | str:
    ctx.tag(vip.id, str(vip.pool["id"]), *(str(m["id"]) for m in vip.members))
    flow = flow_of(ctx, frame)
    if flow is None or flow.kind != "ports":
        ctx.trace(frame, f"to VIP {vip.address}: not a TCP packet with ports, dropping")
        return Outcome.DROP
    conn = flow.conn
    key = f"nat:dnat:{vip.scope}:{conn}"
    known = ctx.state.flows.get(key)
    if known is not None:
        ctx.tag(key)
        binding = Binding.parse(known)
        member = vip.member_at(binding)
        if member is None or (vip.sticky and not is_eligible(member)):
            ctx.trace(frame, f"VIP {vip.address}: member {binding} of this connection is gone"
                      " or disabled: dropping")
            return Outcome.DROP
        ctx.keep(key, _reverse_key(vip, conn, binding))
        ctx.trace(frame, f"VIP {vip.address}: connection to member {binding}")
        return rewrite(frame, "dst", conn.dst, binding, None)
    if _from_before(ctx, f"nat:dnat:{vip.old_scope}:{conn}"):
        ctx.trace(frame, f"VIP {vip.address}: connection from before its persistence changed:"
                  " dropping")
        return Outcome.DROP
    member = _stuck(ctx, vip, conn) if vip.sticky else None
    how = "sticky source" if member is not None else "source" if vip.sticky else "weight"
    member = member or choose(vip, conn)
    if member is None:
        ctx.trace(frame, f"VIP {vip.address}: no member is up: dropping")
        return Outcome.DROP
    binding = Binding(*_endpoint(member) or ("0.0.0.0", 0))  # eligible: it has one
    if vip.sticky:
        sticky = sticky_key(vip, conn.src)
        ctx.state.flows.put(sticky, str(binding))
        ctx.keep(sticky)
    reverse = _reverse_key(vip, conn, binding)
    if ctx.state.flows.put_new(key, str(binding)):
        ctx.state.flows.put(reverse, str(vip.address))
        ctx.session.created.extend((key, reverse))
    else:  # another simulation of this connection won
        ctx.tag(key)
        binding = Binding.parse(ctx.state.flows.get(key) or str(binding))
        reverse = _reverse_key(vip, conn, binding)
    ctx.keep(key, reverse)
    ctx.trace(frame, f"VIP {vip.address}: new connection to member {binding} (by {how})")
    return rewrite(frame, "dst", conn.dst, binding, None)


def sticky_key(vip: Vip, source: str) -> str:
    """The flow-state key of a source's member at a VIP with SOURCE_IP persistence."""
    return f"{STICKY_PREFIX}{vip.id}:{source}"


def _stuck(ctx: Context, vip: Vip, conn: Conn) -> Obj | None:
    """The eligible member the source's sticky entry names, if any."""
    key = sticky_key(vip, conn.src)
    value = ctx.state.flows.get(key)
    if value is None:
        return None
    ctx.tag(key)
    member = vip.member_at(Binding.parse(value))
    return member if member is not None and is_eligible(member) else None


def _from_member(ctx: Context, vips: tuple[Vip, ...], frame: Frame) -> Frame | str:
    flow = flow_of(ctx, frame)
    if flow is None or flow.kind != "ports":
        return Outcome.NOT_MINE
    conn = flow.conn
    for vip in vips:
        ctx.tag(vip.id, str(vip.pool["id"]), *(str(m["id"]) for m in vip.members))
        key = f"nat:rev_dnat:{vip.scope}:{conn}"
        ctx.tag(key)
        original = ctx.state.flows.get(key)
        if original is None:
            if _from_before(ctx, f"nat:rev_dnat:{vip.old_scope}:{conn}"):
                ctx.trace(frame, f"reply of a connection to VIP {vip.address} from before its"
                          " persistence changed: dropping")
                return Outcome.DROP
            continue
        member = vip.member_at(Binding(conn.src, conn.sport))
        if member is None or (vip.sticky and not is_eligible(member)):
            ctx.trace(frame, f"reply from member {conn.src}:{conn.sport}, gone or disabled:"
                      " dropping")
            return Outcome.DROP
        back = Binding.parse(original)
        forward = Conn(conn.proto, conn.dst, conn.dport, back.ip, back.port)
        ctx.keep(key, f"nat:dnat:{vip.scope}:{forward}")
        ctx.trace(frame, f"reply from member {conn.src}:{conn.sport}: source -> VIP {back}")
        return rewrite(frame, "src", conn.src, back, None)
    return Outcome.NOT_MINE


def _from_before(ctx: Context, key: str) -> bool:
    """Whether the connection was translated under the VIP's previous persistence (it
    drops, rather than being balanced again or leaving untranslated)."""
    ctx.tag(key)
    return ctx.state.flows.get(key) is not None


def _reverse_key(vip: Vip, conn: Conn, binding: Binding) -> str:
    back = Conn(conn.proto, binding.ip, binding.port, conn.src, conn.sport)
    return f"nat:rev_dnat:{vip.scope}:{back}"
