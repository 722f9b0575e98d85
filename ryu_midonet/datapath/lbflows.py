"""Load balancing in the datapath: the flows and groups that give new connections to a VIP a
member without the agent (tables :data:`~.pipeline.TABLE_LB_FORWARD` and
:data:`~.pipeline.TABLE_LB_REPLY`).

The connection is translated on the host where it enters the topology (the client's port,
or the uplink it came in by), in the connection tracker zone of the VIP's flow-state scope
(``lb:<vip>:<persistence>``, :func:`~.translator.zone_of`):

- flow cache: TCP to the VIP from a port -> ``ct(zone, nat, table=lb-forward)``
  (:func:`entry_flow`);
- lb-forward, ``+new-dnat`` (a new connection): to the VIP's select group, whose bucket per
  eligible member (weighted) is ``ct(commit, zone, nat(dst=member), table=lb-forward)``; with
  source-IP persistence, straight to that source's member instead (:func:`new_flow`);
- lb-forward, ``+dnat`` to a member's address and port: on to that member, by the flow the
  simulation of a packet of a connection to that member gives (:func:`member_flow`); a
  member in another host gets it through the tunnel with
  :data:`~.pipeline.CT_COMMIT_BIT`.

The reply is translated back by the same tracker, on the same host: a member's replies
travel the way the simulation sends them (their path from the member's host), and the
translation is done where they leave the topology, which is where the connection entered.
For that, every host has, for each member endpoint of a VIP and each local port
(:func:`member_host_flows`):

- tunnel-delivery, key | ``CT_COMMIT_BIT``, TCP to the member's address and port: committed
  in the VIP's zone (the translated connection: the member's host knows it is balanced),
  then out of the port;
- flow cache, TCP from the member's address and port: ``ct(zone, table=lb-reply)``;
  lb-reply holds the flows of simulations of the balanced reply (``+rpl``, the flow state
  the simulator keys the reverse translation by given as the tracker knows it) and of
  anything else from there (``-rpl``); a balanced reply's flow does the simulated path with
  ``ct(zone, nat)`` before its output instead of the source rewrite (:func:`reply_actions`);
- tunnel-delivery, key of a local port, TCP from the member's address and port:
  ``ct(zone, nat)`` (the translating host's tracker translates its replies back), then out.

So both directions of a connection pass the translating host's tracker (whose TCP state
then follows the connection), and the member's host tracks the translated connection. A
reply must leave the topology on the host where its connection entered (the return path of
a router, as the load balancer needs anyway). A member endpoint serving several VIPs, or a
connection to a member's address and port that entered the member's host with
``CT_COMMIT_BIT`` without being balanced, is outside this: the first is left to the agent
(:func:`~ryu_midonet.agent.lbfast.fast_vips`), the second would be taken for a balanced one.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath.flows import (
    MAX_GROUP_ID,
    Action,
    Bucket,
    FlowSpec,
    GroupSpec,
    Nat,
    ct,
    ct_state,
    group,
    output,
    set_field,
)

ETH_IPV4, IP_TCP = 0x0800, 6
NEW = ct_state(trk=True, new=True, dnat=False)  # a connection the tracker has not seen
TRANSLATED = ct_state(trk=True, dnat=True)  # a connection translated to a member
REPLY = ct_state(trk=True, rpl=True)
NOT_REPLY = ct_state(trk=True, rpl=False)
SOURCE_REWRITES = frozenset({"ipv4_src", "tcp_src"})

Endpoint = tuple[str, int]  # a member's address and port


def entry_flow(match: dict[str, object], zone: int, cookie: int,
               idle_timeout: int) -> FlowSpec:
    """The flow-cache entry of connections to a VIP (``match``: the port they enter by and
    the fields the decision read, but the source port)."""
    return FlowSpec(p.TABLE_FLOWS, p.PRIORITY_LB, match,
                    (ct(zone=zone, nat=Nat(), table=p.TABLE_LB_FORWARD),), cookie=cookie,
                    idle_timeout=idle_timeout)


def _forward(base: dict[str, object], zone: int, state: tuple[int, int]) -> dict[str, object]:
    return {**base, "eth_type": ETH_IPV4, "ip_proto": IP_TCP, "ct_zone": zone,
            "ct_state": state}


def commit_to(zone: int, member: Endpoint) -> Action:
    """Commit a new connection translated to ``member``, back to lb-forward."""
    ip, port = member
    return ct(commit=True, zone=zone, nat=Nat("dst", (ip, ip), (port, port)),
              table=p.TABLE_LB_FORWARD)


def new_flow(base: dict[str, object], vip: Endpoint, zone: int, to: Action, cookie: int,
             idle_timeout: int) -> FlowSpec:
    """lb-forward: a new connection to ``vip`` (``base``: its ingress port, maybe its
    source) goes ``to`` the group or its source's member (:func:`commit_to`)."""
    match = _forward(base, zone, NEW)
    match.update(ipv4_dst=vip[0], tcp_dst=vip[1])
    return FlowSpec(p.TABLE_LB_FORWARD, p.PRIORITY_FLOW, match, (to,), cookie=cookie,
                    idle_timeout=idle_timeout)


def group_id(zone: int, members: Sequence[tuple[str, int, int]]) -> int:
    """The id of the group for ``members`` (address, port, weight) in ``zone``: the same for
    the same buckets (the agent installs one per set), never 0."""
    return 1 + zlib.crc32(repr((zone, tuple(members))).encode()) % (MAX_GROUP_ID - 1)


def vip_group(zone: int, members: Sequence[tuple[str, int, int]]) -> GroupSpec:
    """The select group that gives a new connection one of ``members`` (address, port,
    weight: the eligible ones), by weight."""
    return GroupSpec(group_id(zone, members),
                     tuple(Bucket(weight, (commit_to(zone, (ip, port)),))
                           for ip, port, weight in members))


def to_group(group_spec: GroupSpec) -> Action:
    return group(group_spec.group_id)


def member_flow(base: dict[str, object], member: Endpoint, zone: int,
                actions: tuple[Action, ...], cookie: int, idle_timeout: int) -> FlowSpec:
    """lb-forward: a packet translated to ``member`` goes on with ``actions`` (the simulated
    path to it, :func:`committing` when it leaves by a tunnel)."""
    match = _forward(base, zone, TRANSLATED)
    match.update(ipv4_dst=member[0], tcp_dst=member[1])
    return FlowSpec(p.TABLE_LB_FORWARD, p.PRIORITY_FLOW, match, actions, cookie=cookie,
                    idle_timeout=idle_timeout)


def committing(actions: Iterable[Action]) -> tuple[Action, ...]:
    """``actions`` with every tunnel key carrying :data:`~.pipeline.CT_COMMIT_BIT` (the
    member's host commits the connection)."""
    return tuple(set_field("tunnel_id", a.args[1] | p.CT_COMMIT_BIT)
                 if a.kind == "set_field" and a.args[0] == "tunnel_id" else a
                 for a in actions)


def reply_actions(actions: Iterable[Action], zone: int) -> tuple[Action, ...] | None:
    """The simulated path of a balanced reply with the tracker translating it back: the
    source rewrites left out and ``ct(zone, nat)`` before its one output (None: it has
    several outputs). Through a tunnel the ``ct`` is the translating host's (delivery)."""
    kept = [a for a in actions
            if not (a.kind == "set_field" and a.args[0] in SOURCE_REWRITES)]
    outputs = [i for i, a in enumerate(kept) if a.kind == "output"]
    if len(outputs) != 1:
        return None
    at = outputs[0]
    tunnel = any(a.kind == "set_field" and a.args[0] == "tunnel_id" for a in kept)
    if tunnel:
        return tuple(kept)
    return (*kept[:at], ct(zone=zone, nat=Nat()), *kept[at:])


def reply_flow(match: dict[str, object], zone: int, reply: bool, actions: tuple[Action, ...],
               cookie: int, idle_timeout: int) -> FlowSpec:
    """lb-reply: what the tracker said (``reply``: a balanced reply) and the decision."""
    return FlowSpec(p.TABLE_LB_REPLY, p.PRIORITY_FLOW,
                    {**match, "ct_zone": zone, "ct_state": REPLY if reply else NOT_REPLY},
                    actions, cookie=cookie, idle_timeout=idle_timeout)


def member_host_flows(ports: Iterable[tuple[int, int]], zone: int,
                      members: Iterable[Endpoint], cookie: int) -> list[FlowSpec]:
    """The flows of a VIP (its zone, its members' endpoints) on a host with local ports
    ``ports`` (OpenFlow port, tunnel key): see the module's docstring."""
    flows: list[FlowSpec] = []
    tcp = {"eth_type": ETH_IPV4, "ip_proto": IP_TCP}
    for ofport, key in sorted(ports):
        for ip, port in sorted(set(members)):
            if 0 < key < p.NAT_TUNNEL_FLAG:
                flows.append(FlowSpec(
                    p.TABLE_TUNNEL_DELIVERY, p.PRIORITY_PORT + 1,
                    {"tunnel_id": key | p.CT_COMMIT_BIT, **tcp, "ipv4_dst": ip,
                     "tcp_dst": port},
                    (ct(commit=True, zone=zone), output(ofport)), cookie=cookie))
                flows.append(FlowSpec(
                    p.TABLE_TUNNEL_DELIVERY, p.PRIORITY_PORT + 1,
                    {"tunnel_id": key, **tcp, "ipv4_src": ip, "tcp_src": port},
                    (ct(zone=zone, nat=Nat()), output(ofport)), cookie=cookie))
            flows.append(FlowSpec(
                p.TABLE_FLOWS, p.PRIORITY_LB,
                {"in_port": ofport, **tcp, "ipv4_src": ip, "tcp_src": port},
                (ct(zone=zone, table=p.TABLE_LB_REPLY),), cookie=cookie))
    return flows


def miss_flows() -> list[FlowSpec]:
    """lb-forward's misses drop (a connection to a member no longer in the pool, a packet
    that opens none); lb-reply's go to the agent."""
    return [FlowSpec(p.TABLE_LB_FORWARD, p.PRIORITY_MISS, {}, (),
                     cookie=p.cookie(p.COOKIE_MISS)),
            FlowSpec(p.TABLE_LB_REPLY, p.PRIORITY_MISS, {}, (output("controller"),),
                     cookie=p.cookie(p.COOKIE_MISS))]


def host_cookie(zone: int) -> int:
    """The cookie of a VIP's :func:`member_host_flows` (by its zone)."""
    return p.cookie(p.COOKIE_LB, zone)
