"""Network address translation by rule chains: dnat, snat, rev_dnat and rev_snat.

Static NAT: a dnat/snat rule whose only target is one address with no ports (a floating IP)
rewrites the destination/source address of any IPv4 packet to it, statelessly: the flow stays
as generic as the rule's condition, and the other direction needs its own static rule.

Dynamic NAT (an address range or ports) applies to TCP, UDP and ICMP echo, and records the
translation as flow state (:mod:`.flowstate`), keyed by the device doing it:

- ``nat:<dnat|snat>:<scope>:<5-tuple before>`` -> ``ip:port`` chosen, so every packet of the
  connection gets the same translation (whichever host simulates it);
- ``nat:<rev_dnat|rev_snat>:<scope>:<5-tuple of the return packet>`` -> ``ip:port`` it had
  before, which the reverse rules restore (source for rev_dnat, destination for rev_snat).

The scope is the device, unless the port the packet leaves or enters the device by is in a
stateful port group: then the group (written under the first of: the egress port's group, the
ingress port's group, the device; looked up in the same order), so return traffic through
another member of the group, on another device, finds it. DNAT picks the target address and
port from a hash of the 5-tuple; SNAT picks a free (address, port) towards the destination,
ports 1 and up from the blocks this host leases (:mod:`.leases`) -- the reverse entry is
written only if absent, which makes the pair unique. A target without ports keeps the
packet's port; ICMP echo keeps its identifier (the "port" of its 5-tuple). No free pair: the
packet is dropped. Entries written for a packet that then leaves the topology nowhere are
deleted at the end of the simulation.

ICMP errors quoting a translated connection are translated back: the outer address when it
is the translated one, and the quoted datagram's address and port. The rewritten quote is
payload, which no flow action can set: such decisions are not cacheable, and the packet leaves
the topology as an ``Emit`` of the rewritten packet (see :mod:`ryu_midonet.sim.core.walk`).

With NAT in the datapath (``State.nat_ranges``), a dynamic SNAT of TCP or UDP to one address
is not translated here: the frame leaves with its source address translated and a
:class:`~ryu_midonet.sim.core.model.DatapathSnat` saying the datapath picks the port, in this
host's range, per connection (the newest block this host leased of the address; the agent
moves the flows to a new block it leases later), tracked in the zone of the scope: a stateful
port group too, the agents steering its replies, whichever member they enter by, to this
host's tracker. A reply the datapath translated back
(``Session.datapath_reply``) is what ``rev_snat`` applies. Neither reads the ports. ICMP echo
stays here: Open vSwitch 3.1's userspace tracker translates the address of an echo but not
its identifier, and sends an echo whose identifier another VM's echo to the same address
already uses on untranslated (the VM's own address leaks out, no reply comes back).

A decision that looked flow state up is tagged with the keys it found or missed (not with
those it wrote itself); keys it found or wrote go to ``Result.state_keys``. Dynamic NAT reads
the 5-tuple, so its flows are per connection.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import struct
import zlib
from collections.abc import Iterator
from typing import Any, NamedTuple

from ryu_midonet.sim.core.context import Context, Frame, Where
from ryu_midonet.sim.core.model import ETH_IPV4, IP_ICMP, DatapathSnat
from ryu_midonet.sim.rules.conntrack import stateful_group
from ryu_midonet.sim.rules.tuples import ICMP_ERRORS, PORTS, Conn, Flow, Quote, flow_of, parse_quote
from ryu_midonet.types import Obj

APPLIED, SKIPPED, FAILED = "applied", "skipped", "failed"
NAT_TYPES = ("dnat", "snat")
REVERSE_TYPES = ("rev_dnat", "rev_snat")


class Binding(NamedTuple):
    ip: str
    port: int

    def __str__(self) -> str:
        return f"{self.ip}:{self.port}"

    @classmethod
    def parse(cls, text: str) -> Binding:
        ip, _, port = text.rpartition(":")
        return cls(ip, int(port))


class Target(NamedTuple):
    first: int  # addresses as integers
    last: int
    port_from: int
    port_to: int

    @property
    def keeps_port(self) -> bool:
        return self.port_from == 0 and self.port_to == 0

    def ips(self) -> Iterator[str]:
        for n in range(self.first, self.last + 1):
            yield str(ipaddress.IPv4Address(n))


def targets(rule: Obj) -> list[Target]:
    out = []
    for t in rule.get("natTargets") or ():
        first = int(ipaddress.IPv4Address(t["addressFrom"]))
        last = int(ipaddress.IPv4Address(t.get("addressTo") or t["addressFrom"]))
        port_from = t.get("portFrom") or 0
        out.append(Target(first, last, port_from, t.get("portTo") or port_from))
    return out


def is_static(rule: Obj) -> bool:
    """Every target one address with no ports (as :mod:`ryu_midonet.nsdb.rules` decides); the
    first target is used."""
    found = targets(rule)
    return all(t.first == t.last and t.keeps_port for t in found)


def translate(ctx: Context, rule: Obj, where: Where, frame: Frame) -> tuple[str, Frame]:
    """Apply a NAT rule whose condition matched: (APPLIED, new frame), (SKIPPED, frame) when
    it does not apply (no state for a reverse rule, a packet NAT ignores) or (FAILED, frame)
    when no translation is free."""
    kind = rule["type"]
    if kind in NAT_TYPES and not targets(rule):
        return SKIPPED, frame  # the store refuses such a rule
    if kind in NAT_TYPES and is_static(rule):
        return _static(ctx, rule, where, frame)
    if kind == "snat" and ctx.state.nat_ranges is not None:
        done = _datapath_forward(ctx, rule, where, frame)
        if done is not None:
            return done
    if kind == "rev_snat" and ctx.session.datapath_reply is not None:
        done = _datapath_reverse(ctx, rule, where, frame)
        if done is not None:
            return done
    flow = flow_of(ctx, frame)
    if flow is None or flow.kind == "plain":
        return SKIPPED, frame
    if kind in NAT_TYPES:
        return _forward(ctx, rule, where, frame, flow)
    return _reverse(ctx, rule, where, frame, flow)


def scopes(ctx: Context, where: Where) -> list[str]:
    out: list[str] = []
    for port in (where.out_port, where.in_port):
        group = None if port is None else stateful_group(ctx, port)
        if group is not None and group not in out:
            out.append(group)
    if where.device["id"] not in out:
        out.append(str(where.device["id"]))
    return out


def rollback(ctx: Context) -> None:
    """Delete the entries this simulation wrote (its packet left the topology nowhere)."""
    for key in ctx.session.created:
        ctx.state.flows.delete(key)
    ctx.session.created.clear()


# -- static ----------------------------------------------------------------------------------

def _static(ctx: Context, rule: Obj, where: Where, frame: Frame) -> tuple[str, Frame]:
    p = frame.packet
    ctx.read(frame, "eth_type")
    if p.eth_type != ETH_IPV4 or p.ipv4_src is None or p.ipv4_dst is None:
        return SKIPPED, frame
    ctx.read(frame, "ip_proto")
    quote = None
    if p.ip_proto == IP_ICMP:
        ctx.read(frame, "icmpv4_type")
        if p.icmpv4_type in ICMP_ERRORS:
            ctx.uncacheable()
            quote = parse_quote(p.payload)
    ip = next(targets(rule)[0].ips())
    dnat = rule["type"] == "dnat"
    side = "dst" if dnat else "src"
    if quote is not None:
        conn = quote.conn().reverse()
        old = conn.dst if dnat else conn.src
    else:
        old = p.ipv4_dst if dnat else p.ipv4_src
    ctx.trace(frame, f"static {rule['type']}: {side} {old} -> {ip}", stage=where.stage,
              rule=rule["id"])
    return APPLIED, rewrite(frame, side, old, Binding(ip, 0), quote, ports=False)


# -- in the datapath ------------------------------------------------------------------------

def _datapath_forward(ctx: Context, rule: Obj, where: Where,
                      frame: Frame) -> tuple[str, Frame] | None:
    """Leave a dynamic SNAT of TCP or UDP to one address to the datapath's connection tracker,
    within this host's port range (None: it cannot be, translate as usual). The decision
    reads no port: the datapath picks one per connection and reverses it for the replies."""
    ranges = ctx.state.nat_ranges
    found = targets(rule)
    if (ranges is None or where.out_port is None or len(found) != 1
            or found[0].first != found[0].last or found[0].keeps_port):
        return None
    p = frame.packet
    ctx.read(frame, "eth_type")
    if p.eth_type != ETH_IPV4 or p.ipv4_src is None:
        return None
    ctx.read(frame, "ip_proto", "ip_frag")
    if p.ip_proto not in PORTS or p.ip_frag == "later":
        return None
    if frame.datapath_snat is not None:  # translated twice: only the agent can
        ctx.uncacheable()
        return None
    target = found[0]
    ip = next(target.ips())
    scope = scopes(ctx, where)[0]  # a stateful port group: its replies enter by any member
    ports = ranges.range_for(ip, target.port_from, target.port_to, where.out_port, scope)
    if ports is None:
        return None
    ctx.trace(frame, f"snat: src {p.ipv4_src} -> {ip}:{ports[0]}-{ports[1]}, per connection"
              " by the datapath", stage=where.stage, rule=rule["id"])
    out = frame.set(ipv4_src=ip)
    return APPLIED, dataclasses.replace(out, datapath_snat=DatapathSnat(scope, ip, *ports))


def _datapath_reverse(ctx: Context, rule: Obj, where: Where,
                      frame: Frame) -> tuple[str, Frame] | None:
    """The reverse SNAT the datapath already did to this reply: the destination becomes the
    connection's original source. The translated fields count as read from the packet (a flow
    matches the reply as the datapath gives it back)."""
    reply = ctx.session.datapath_reply
    p = frame.packet
    ctx.read(frame, "eth_type")
    if reply is None or p.eth_type != ETH_IPV4:
        return None
    ctx.read(frame, "ip_proto")
    if p.ip_proto == IP_ICMP:
        ctx.read(frame, "icmpv4_type")
        if p.icmpv4_type not in ICMP_ERRORS:
            return None
        # an ICMP error about a translated connection: the datapath translated its quote too
        ctx.session.datapath_reply = None
        ctx.uncacheable()
        ctx.trace(frame, f"rev_snat: dst {p.ipv4_dst} -> {reply.ip} and the quote, done by"
                  " the datapath", stage=where.stage, rule=rule["id"])
        return APPLIED, dataclasses.replace(frame, packet=p.replace(ipv4_dst=reply.ip))
    if p.ip_proto not in PORTS:
        return None
    ctx.session.datapath_reply = None  # one reverse translation per reply
    ctx.trace(frame, f"rev_snat: dst {p.ipv4_dst} -> {reply.ip}:{reply.port}, done by the"
              " datapath", stage=where.stage, rule=rule["id"])
    packet = p.replace(ipv4_dst=reply.ip, **{PORTS[p.ip_proto][1]: reply.port})
    return APPLIED, dataclasses.replace(frame, packet=packet)


# -- dynamic ---------------------------------------------------------------------------------

def _forward(ctx: Context, rule: Obj, where: Where, frame: Frame,
             flow: Flow) -> tuple[str, Frame]:
    kind, conn = rule["type"], flow.conn
    places = scopes(ctx, where)
    keys = [f"nat:{kind}:{s}:{conn}" for s in places]
    binding, misses = None, list(keys)
    for place, key in zip(places, keys, strict=True):
        value = ctx.state.flows.get(key)
        if value is not None:
            misses = keys[:keys.index(key)]
            ctx.tag(key)
            binding = Binding.parse(value)
            ctx.keep(key, _reverse_entry(kind, place, conn, binding)[0])
            break
    if binding is None and flow.kind != "error":
        binding = _allocate(ctx, kind, targets(rule), places[0], conn, flow)
        misses = keys[1:]  # the first is written (or, lost to a race, tagged) by _allocate
    ctx.tag(*misses)
    if binding is None:
        if flow.kind == "error":
            return SKIPPED, frame
        ctx.trace(frame, f"{kind}: no free translation for {conn}", stage=where.stage,
                  rule=rule["id"])
        return FAILED, frame
    dnat = kind == "dnat"
    side, old = ("dst", conn.dst) if dnat else ("src", conn.src)
    ctx.trace(frame, f"{kind}: {side} {old}:{conn.dport if dnat else conn.sport} -> {binding}",
              stage=where.stage, rule=rule["id"])
    return APPLIED, rewrite(frame, side, old, binding, _quote(flow, frame),
                            ports=flow.kind != "echo")


def _reverse(ctx: Context, rule: Obj, where: Where, frame: Frame,
             flow: Flow) -> tuple[str, Frame]:
    kind, conn = rule["type"], flow.conn
    for place in scopes(ctx, where):
        key = f"nat:{kind}:{place}:{conn}"
        ctx.tag(key)
        value = ctx.state.flows.get(key)
        if value is None:
            continue
        original = Binding.parse(value)
        ctx.keep(key, _forward_key(kind, place, conn, original))
        side, old = ("src", conn.src) if kind == "rev_dnat" else ("dst", conn.dst)
        ctx.trace(frame, f"{kind}: {side} {old} -> {original}", stage=where.stage,
                  rule=rule["id"])
        return APPLIED, rewrite(frame, side, old, original, _quote(flow, frame),
                                ports=flow.kind != "echo")
    ctx.trace(frame, f"{kind}: no translation recorded for {conn}", stage=where.stage,
              rule=rule["id"])
    return SKIPPED, frame


def _allocate(ctx: Context, kind: str, found: list[Target], place: str, conn: Conn,
              flow: Flow) -> Binding | None:
    flows, leases = ctx.state.flows, ctx.state.leases
    key = f"nat:{kind}:{place}:{conn}"
    if kind == "dnat":
        binding = _pick(found, conn, flow)
        if binding is None or not flows.put_new(key, str(binding)):
            return _existing(ctx, kind, place, conn, key)
        reverse_key, original = _reverse_entry(kind, place, conn, binding)
        flows.put(reverse_key, original)
        _created(ctx, key, reverse_key)
        return binding
    for binding, leased in _snat_choices(ctx, found, conn, flow):
        reverse_key, original = _reverse_entry(kind, place, conn, binding)
        if leased and leases.in_use(reverse_key):
            continue
        taken = not flows.put_new(reverse_key, original)
        if leased:
            leases.used(binding.ip, binding.port, reverse_key)
        if taken:
            continue
        if not flows.put_new(key, str(binding)):  # another simulation of this connection won
            flows.delete(reverse_key)
            return _existing(ctx, kind, place, conn, key)
        _created(ctx, key, reverse_key)
        return binding
    return None


def _existing(ctx: Context, kind: str, place: str, conn: Conn, key: str) -> Binding | None:
    value = ctx.state.flows.get(key)
    if value is None:
        return None
    binding = Binding.parse(value)
    ctx.tag(key)
    ctx.keep(key, _reverse_entry(kind, place, conn, binding)[0])
    return binding


def _created(ctx: Context, *keys: str) -> None:
    ctx.session.created.extend(keys)
    ctx.keep(*keys)


def _pick(found: list[Target], conn: Conn, flow: Flow) -> Binding | None:
    """A DNAT target from a hash of the connection (the same on every host)."""
    total = sum(t.last - t.first + 1 for t in found)
    if total == 0:
        return None
    h = zlib.crc32(str(conn).encode())
    index = h % total
    for t in found:
        size = t.last - t.first + 1
        if index >= size:
            index -= size
            continue
        ip = str(ipaddress.IPv4Address(t.first + index))
        if flow.kind == "echo" or t.keeps_port:
            return Binding(ip, conn.dport)
        return Binding(ip, t.port_from + (h // total) % (t.port_to - t.port_from + 1))
    return None


def _snat_choices(ctx: Context, found: list[Target], conn: Conn,
                  flow: Flow) -> Iterator[tuple[Binding, bool]]:
    """Candidate translations, and whether their port comes from a leased block."""
    for t in found:
        for ip in t.ips():
            if flow.kind == "echo" or t.keeps_port:
                yield Binding(ip, conn.sport), False
                continue
            for port in ctx.state.leases.candidates(ip, t.port_from, t.port_to):
                yield Binding(ip, port), True


def _reverse_entry(kind: str, place: str, conn: Conn, binding: Binding) -> tuple[str, str]:
    """The reverse key a forward translation records, and its value."""
    if kind == "dnat":
        back = Conn(conn.proto, binding.ip, binding.port, conn.src, conn.sport)
        return f"nat:rev_dnat:{place}:{back}", f"{conn.dst}:{conn.dport}"
    back = Conn(conn.proto, conn.dst, conn.dport, binding.ip, binding.port)
    return f"nat:rev_snat:{place}:{back}", f"{conn.src}:{conn.sport}"


def _forward_key(kind: str, place: str, conn: Conn, original: Binding) -> str:
    """The forward key behind a reverse entry (``conn`` is the return packet's 5-tuple)."""
    if kind == "rev_dnat":
        return f"nat:dnat:{place}:{Conn(conn.proto, conn.dst, conn.dport, *original)}"
    return f"nat:snat:{place}:{Conn(conn.proto, *original, conn.src, conn.sport)}"


def _quote(flow: Flow, frame: Frame) -> Quote | None:
    return parse_quote(frame.packet.payload) if flow.kind == "error" else None


# -- rewriting -------------------------------------------------------------------------------

def rewrite(frame: Frame, side: str, old: str, binding: Binding, quote: Quote | None,
            ports: bool = True) -> Frame:
    """Translate the ``side`` ("src"/"dst") address ``old`` of the packet to ``binding`` (and
    its TCP/UDP port when ``ports``); for an ICMP error, the outer address if it is ``old``
    and the quoted datagram, which travelled the other way."""
    p = frame.packet
    changes: dict[str, Any] = {}
    port = binding.port if ports else None
    if quote is None:
        changes[f"ipv4_{side}"] = binding.ip
        if port is not None and p.ip_proto in PORTS:
            changes[PORTS[p.ip_proto][0 if side == "src" else 1]] = port
            if len(p.l4_head) >= 4:  # what an ICMP error about the packet will quote
                at = 0 if side == "src" else 2
                changes["l4_head"] = p.l4_head[:at] + struct.pack("!H", port) + p.l4_head[at + 2:]
    else:
        if getattr(p, f"ipv4_{side}") == old:
            changes[f"ipv4_{side}"] = binding.ip
        quoted = (quote.rewrite(src=binding.ip, sport=port) if side == "dst"
                  else quote.rewrite(dst=binding.ip, dport=port))
        changes["payload"] = quoted.data
    out = frame.set(**changes)
    if side == "dst" and "ipv4_dst" in changes:
        out = dataclasses.replace(out, dnat=True)
    return out
