"""Connection tracking in the datapath across hosts: a new connection's first packets copied.

A router or stateful port group whose exterior ports are bound on several hosts is one
flow-state scope, and the replies of a connection that left by its port on host A may enter
by its port on host B. Where A commits the connection, the commit recirculates to the
ct-copy table (``ct(commit, zone, table=6)``: :func:`~.translator.output_actions_to` on the
ingress host, :func:`~.ctlookup.commit_delivery` on an egress host), whose flows
(:func:`copy_flows`) send what the tracker calls new -- a TCP SYN (and its retransmissions),
UDP and ICMP echo until A's tracker sees a reply -- through the tunnel to every other host
with a bound port of the scope, with key :data:`~.pipeline.CT_COPY_KEY` | that port's tunnel
key. That host's tunnel-delivery table commits the copy in the zone of the port's scope and
drops it (:func:`copy_commit`), so a reply entering there is ``+trk+rpl`` in its own tracker
and takes the ct-lookup flows of the one-host case: no agent sees the connection.

The copy leaves A with the packet it copies, well before a reply can come back. A copy that
is lost costs a retransmission (the retransmitted SYN or datagram is new again, and copied
again); a reply that enters before the connection was committed there is a packet the
tracker does not know, handled as any such packet (a return-only chain drops it). B's
tracker sees one direction of a TCP connection only: Open vSwitch checks TCP sequence
numbers against windows it never saw, so the agents of such hosts turn that check off
(:mod:`~ryu_midonet.agent.seqcheck`).

A connection whose source the datapath translates (source NAT in the datapath) is not
copied: its flow commits it once, with its translation, by a ``ct`` that does not go to the
ct-copy table (the simulator gives such an output no commit of its own), and the replies
entering by any port of the scope are steered to A's tracker instead
(:mod:`~ryu_midonet.agent.natsteer`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath.flows import (
    Action,
    FlowDelete,
    FlowSpec,
    Message,
    ct,
    ct_state,
    output,
    set_field,
)
from ryu_midonet.datapath.translator import Locate, Remote, zone_of
from ryu_midonet.sim.core.model import ETH_IPV4
from ryu_midonet.sim.core.topology import TopologyView, is_bound
from ryu_midonet.sim.rules.conntrack import scope_hosts, scope_of, scope_ports

NEW = ct_state(trk=True, new=True)


def copy_key(tunnel_key: int) -> int:
    """The tunnel key of a copy for the tracker of the port whose key is ``tunnel_key``."""
    if not 0 < tunnel_key < p.NAT_TUNNEL_FLAG:
        raise ValueError(f"tunnel key {tunnel_key} leaves no room for the copy bits")
    return p.CT_COPY_KEY | tunnel_key


def copy_commit(tunnel_key: int, scope: str) -> FlowSpec:
    """The delivery flow that commits a copy sent for the local port whose tunnel key is
    ``tunnel_key`` in the zone of its scope ``scope``, and drops it."""
    return FlowSpec(p.TABLE_TUNNEL_DELIVERY, p.PRIORITY_PORT,
                    {"tunnel_id": copy_key(tunnel_key), "eth_type": ETH_IPV4},
                    (ct(commit=True, zone=zone_of(scope)),),
                    cookie=p.cookie(p.COOKIE_DELIVERY, tunnel_key))


def copy_flows(scope: str, copies: Sequence[Remote], tunnel_ofports: Iterable[int]
               ) -> list[FlowSpec]:
    """The ct-copy flows of ``scope``: its new connections' packets go to each of
    ``copies`` (a port of the scope on each other host). A packet that came in by a tunnel
    port goes back out of it as ``in_port`` (a switch never outputs to the ingress port by
    its number): one flow per tunnel port, and one for packets from local ports."""
    zone = zone_of(scope)
    match = {"ct_zone": zone, "ct_state": NEW}

    def actions(came_in: int | None) -> tuple[Action, ...]:
        done: list[Action] = []
        for where in copies:
            done += [set_field("tunnel_id", copy_key(where.key)),
                     set_field("tun_ipv4_dst", where.ip),
                     output("in_port" if where.tunnel_ofport == came_in else where.tunnel_ofport)]
        return tuple(done)

    cookie = p.cookie(p.COOKIE_CT_COPY, zone)
    flows = [FlowSpec(p.TABLE_CT_COPY, p.PRIORITY_FLOW, match, actions(None), cookie=cookie)]
    for tunnel in sorted({w.tunnel_ofport for w in copies} & set(tunnel_ofports)):
        flows.append(FlowSpec(p.TABLE_CT_COPY, p.PRIORITY_PORT + 1,
                              {**match, "in_port": tunnel}, actions(tunnel), cookie=cookie))
    return flows


def plan(view: TopologyView, host_id: str, ports: Iterable[str], locate: Locate
         ) -> dict[str, list[Remote]]:
    """For each scope of this host's bound ``ports`` that is bound on other hosts too: where
    its copies go (on each other host, its bound port of the scope with the lowest tunnel
    key; a host this one has no tunnel to gets none)."""
    copies: dict[str, list[Remote]] = {}
    for port_id in sorted(ports):
        port = view.get("port", port_id)
        if port is None:
            continue
        where = scope_of(view, port)
        if where in copies or len(scope_hosts(view, port, where)) < 2:
            continue
        chosen: dict[str, Remote] = {}
        for member in sorted(scope_ports(view, port, where),
                             key=lambda m: (int(m.get("tunnelKey") or 0), str(m["id"]))):
            key = member.get("tunnelKey")
            host = member.get("hostId")
            if (not is_bound(member) or host == host_id or host in chosen
                    or not isinstance(key, int) or not 0 < key < p.NAT_TUNNEL_FLAG
                    or scope_of(view, member) != where):
                continue
            found = locate(str(member["id"]))
            if isinstance(found, Remote):
                chosen[str(host)] = found
        copies[where] = [chosen[h] for h in sorted(chosen)]
    return copies


class CopyFlows:
    """The ct-copy flows this host has sent, by scope: sent again when a scope's copies
    change (a port of it bound, unbound, added or removed, a tunnel changed), removed when
    the scope no longer has ports on several hosts."""

    def __init__(self) -> None:
        self.sent: dict[str, tuple[FlowSpec, ...]] = {}

    def reset(self) -> None:
        """The switch lost its flows: every flow is sent again."""
        self.sent.clear()

    def flows(self, copies: Mapping[str, Sequence[Remote]], tunnel_ofports: Iterable[int]
              ) -> list[Message]:
        """What to send for the scopes and their copies ``copies`` (see :func:`plan`)."""
        tunnels = list(tunnel_ofports)
        current = {scope: tuple(copy_flows(scope, remotes, tunnels))
                   for scope, remotes in copies.items() if remotes}
        messages: list[Message] = []
        for scope, flows in self.sent.items():
            if current.get(scope) != flows:
                messages.append(FlowDelete(flows[0].cookie))
        for scope, flows in current.items():
            if self.sent.get(scope) != flows:
                messages += flows
        self.sent = current
        return messages
