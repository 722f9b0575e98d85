"""Connection tracking in the datapath (agent option ``conntrack_in_datapath``): the flows.

A decision that depends on connection tracking and lacks the tracker's answer
(``Result.ct_scope`` without ``ct_return``) becomes a flow-cache flow that sends the packet
through the tracker in the zone of the ingress port's flow-state scope, no commit, on to the
ct-lookup table (:func:`lookup_flow`); there, decisions that know the answer match it
(:func:`answered_flow`): a packet travelling back is ``+trk+rpl`` (an ICMP error about a
connection ``+trk+rel``), anything else (new, the originator's later packets, invalid) is
the forward side. :func:`returning` reads a packet-in's ``ct_state`` the same way.

A new connection is committed where it leaves (``Output.commit``, see
:func:`~.translator.output_actions`): on this host by ``ct(commit, zone)`` before the output;
through a tunnel with :data:`~.pipeline.CT_COMMIT_BIT` in the key, which the egress host's
tunnel-delivery flow for that key commits, in the zone of its port's scope
(:class:`CommitDelivery`). In a scope whose ports are bound on several hosts, the commit
also copies a new connection's first packets to the scope's other hosts
(:mod:`~.ctcopy`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath.ctcopy import copy_commit
from ryu_midonet.datapath.flows import (
    CT_REL,
    CT_RPL,
    CT_TRK,
    Action,
    FlowSpec,
    Message,
    ct,
    ct_state,
    meter,
    output,
)
from ryu_midonet.datapath.translator import (
    Locate,
    cacheable,
    match_for,
    output_actions,
    with_ttl_checks,
    zone_of,
)
from ryu_midonet.sim.core.model import ETH_IPV4, IP_ICMP, Packet, Result
from ryu_midonet.sim.rules.tuples import ICMP_ERRORS
from ryu_midonet.types import Obj


def _is_error(packet: Packet) -> bool:
    return packet.ip_proto == IP_ICMP and packet.icmpv4_type in ICMP_ERRORS


def returning(packet: Packet, state: int) -> bool:
    """Whether the tracker's ``ct_state`` says ``packet`` travels back on a known
    connection: a reply, or an ICMP error related to a connection."""
    bit = CT_REL if _is_error(packet) else CT_RPL
    return bool(state & CT_TRK) and bool(state & bit)


def state_match(packet: Packet, back: bool) -> tuple[int, int]:
    """The ``ct_state`` match of the packets like ``packet`` the tracker answers ``back``
    for (exactly those :func:`returning` says it of)."""
    if _is_error(packet):
        return ct_state(trk=True, rel=back)
    return ct_state(trk=True, rpl=back)


def commits(result: Result) -> bool:
    """Whether some output of ``result`` commits a new connection."""
    return any(out.commit is not None for out in result.outputs)


def without_commits(actions: tuple[Action, ...]) -> tuple[Action, ...]:
    """``actions`` without the ``ct(commit)`` of :attr:`Output.commit` (a packet sent
    without a flow; the commit bit of a tunnel key stays)."""
    return tuple(a for a in actions
                 if not (a.kind == p.CT and a.args[0].commit and a.args[0].nat is None))


def lookup_flow(result: Result, packet: Packet, in_port: int, cookie: int,
                idle_timeout: int = 60) -> FlowSpec | None:
    """The flow-cache entry of a decision that needs the tracker's answer first."""
    if result.ct_scope is None or not cacheable(result):
        return None
    zone = zone_of(result.ct_scope)
    return FlowSpec(p.TABLE_FLOWS, p.PRIORITY_FLOW, match_for(packet, in_port, _read(result)),
                    (ct(zone=zone, table=p.TABLE_CT_LOOKUP),), cookie=cookie,
                    idle_timeout=idle_timeout)


def answered_flow(result: Result, packet: Packet, in_port: int, locate: Locate, cookie: int,
                  idle_timeout: int = 60) -> FlowSpec | None:
    """The ct-lookup entry for ``result``, the decision for a packet that came back from the
    tracker (matching the tracker's answer when the decision used it); like a flow-cache
    entry, it decrements the TTL for every router crossed, also on a path that drops."""
    if not cacheable(result):
        return None
    match = match_for(packet, in_port, _read(result))
    if result.ct_scope is not None and result.ct_return is not None:
        match["ct_zone"] = zone_of(result.ct_scope)
        match["ct_state"] = state_match(packet, result.ct_return)
    return FlowSpec(p.TABLE_CT_LOOKUP, p.PRIORITY_FLOW, match,
                    with_ttl_checks(result, output_actions(result, locate, in_port)),
                    cookie=cookie, idle_timeout=idle_timeout)


def _read(result: Result) -> set[str]:
    """The fields a flow of ``result`` matches: those read, and the source MAC when the
    simulation learned it (as :func:`~.translator.flow_for` does)."""
    return result.fields_read | ({"eth_src"} if result.learned else set())


def miss_flow() -> FlowSpec:
    """The ct-lookup table's misses go to the agent (with the tracker's answer)."""
    return FlowSpec(p.TABLE_CT_LOOKUP, p.PRIORITY_MISS, {}, (output("controller"),),
                    cookie=p.cookie(p.COOKIE_MISS))


def commit_key(tunnel_key: int) -> int:
    """The tunnel key that asks the egress host to commit the connection (see module)."""
    if not 0 < tunnel_key < p.NAT_TUNNEL_FLAG:
        raise ValueError(f"tunnel key {tunnel_key} leaves no room for the commit bit")
    return tunnel_key | p.CT_COMMIT_BIT


def commit_delivery(ofport: int, tunnel_key: int, scope: str, copy: bool = False
                    ) -> FlowSpec:
    """The delivery flow that commits a new connection tunnelled to the local port at
    ``ofport`` (in the zone of its flow-state scope ``scope``) and outputs it there; with
    ``copy`` (the scope is bound on several hosts), its first packets also go to the
    ct-copy table (:mod:`~.ctcopy`)."""
    return FlowSpec(p.TABLE_TUNNEL_DELIVERY, p.PRIORITY_PORT,
                    {"tunnel_id": commit_key(tunnel_key), "eth_type": ETH_IPV4},
                    (ct(commit=True, zone=zone_of(scope),
                        table=p.TABLE_CT_COPY if copy else None), output(ofport)),
                    cookie=p.cookie(p.COOKIE_DELIVERY, tunnel_key))


def port_miss(ofport: int, tunnel_key: int) -> FlowSpec:
    """The ct-lookup misses of the local port at ``ofport`` go to the agent through the
    port's meter (created with its flow-cache miss flow), as its flow-cache misses do."""
    return FlowSpec(p.TABLE_CT_LOOKUP, p.PRIORITY_PORT_MISS, {"in_port": ofport},
                    (meter(p.meter_id(tunnel_key)), output("controller")),
                    cookie=p.cookie(p.COOKIE_MISS, tunnel_key))


class CommitDelivery:
    """The committing delivery flows of this host's bound ports (and, when misses are
    ``metered``, their ct-lookup miss flows), sent again when a port's scope (its stateful
    port group, its device) or binding changes."""

    def __init__(self, metered: bool = False) -> None:
        self.metered = metered
        self.sent: dict[str, tuple[FlowSpec, ...]] = {}

    def reset(self) -> None:
        """The switch lost its flows: every flow is sent again."""
        self.sent.clear()

    def forget(self, port_ids: Iterable[str]) -> None:
        """Ports whose delivery flows were removed or replaced (a binding changed)."""
        for port_id in port_ids:
            self.sent.pop(port_id, None)

    def flows(self, ofports: Mapping[str, int], port: Callable[[str], Obj | None],
              scope: Callable[[Obj], str], copying: Collection[str] = ()) -> list[Message]:
        """The flows to send for the bound ports ``ofports`` (port id -> OpenFlow port):
        the new and changed ones. ``port`` reads a port, ``scope`` gives its scope;
        ``copying``: the scopes bound on several hosts (their commits copy new connections,
        and copies for their ports are committed here)."""
        messages: list[Message] = []
        current: dict[str, tuple[FlowSpec, ...]] = {}
        for port_id, ofport in sorted(ofports.items()):
            obj = port(port_id)
            key = (obj or {}).get("tunnelKey")
            if obj is None or not isinstance(key, int) or not 0 < key < p.NAT_TUNNEL_FLAG:
                continue
            where = scope(obj)
            copy = where in copying
            flows = (commit_delivery(ofport, key, where, copy),
                     *([copy_commit(key, where)] if copy else []),
                     *([port_miss(ofport, key)] if self.metered else []))
            current[port_id] = flows
            messages += [f for f in flows if f not in self.sent.get(port_id, ())]
        self.sent = current
        return messages
