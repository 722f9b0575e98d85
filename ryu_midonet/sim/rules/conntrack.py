"""Connection tracking: does a packet start a connection, or belong to a known one?

Asked only when a rule condition has ``matchForwardFlow``/``matchReturnFlow``, once per
simulation, about the packet as it entered the topology (:mod:`.tuples` gives its 5-tuple).

Keys. A connection is recorded where its forward packet leaves the topology, as the key its
return packets will look up where they enter: ``ct:<scope>:<reversed 5-tuple of the packet as
it leaves>`` (after any NAT). A packet is a return packet when the key of its own 5-tuple,
with the scope of the port it entered through, exists. The scope of a port is the id of the
stateful port group it belongs to (the first by id, if several), otherwise the id of its
device: state recorded through one member of a stateful group is found by return traffic
entering through any member, even members of other devices (two gateway routers each with an
uplink); without the group, return traffic is only recognised where it enters the device the
forward traffic left (any port of it: the state is shared by every host).

- An ICMP error quoting a packet of a known connection (travelling back) is a return packet
  ("related"); it never starts a connection.
- Packets the topology generates (answers) are treated as return packets and never tracked.
- Non-IPv4 packets and non-first fragments have no 5-tuple: they start a connection each
  time and are never recorded.

In the datapath (``Session.datapath_ct``, agent option ``conntrack_in_datapath``). The
connection tracker of the host a packet enters keeps its scope's connections instead of the
flow-state table: the packet is looked up at ingress in the zone of the ingress port's scope
(its answer, ``DatapathCt.returning``, is whether the tracker knows the packet as one
travelling back: a reply, or an ICMP error related to a connection), and a new connection
is committed as it leaves, in the zone of the egress port's scope (``Output.commit``). The
decision then reads no 5-tuple (the tracker does, per packet), so its flows are megaflows.
A scope qualifies when it is a bridge (return packets enter where their source is), or a
router or stateful port group; when the exterior ports of those are bound on several hosts
(:func:`spread`; replies may enter on another host than the one the connection left by),
the commit is also copied to the trackers of the other hosts with a bound port of the
scope (``Output.copy``; the datapath copies a connection's first packets, see
:mod:`~ryu_midonet.datapath.ctcopy`). The packet must be TCP or UDP or ICMP (echo, or an
error), not a fragment. A connection whose source the datapath translates
(:attr:`Frame.datapath_snat`) is committed by that translation, in the zone of the NAT
rule's scope: when that is the scope of the egress port, nothing more records it, and its
replies, back through that zone to the nat-return table, are simulated with the tracker's
answer for that scope (``DatapathCt.scope``). When the NAT rule's scope is another one (a
tenant router's masquerade leaving by a provider router's uplink), the translated
connection is also committed in the zone of the egress port's scope (``Output.commit``),
on the host that translates it (where its replies are steered), and its replies are looked
up in that zone before the reverse translation (``DatapathCt.egress``). Everything else
(other packets) uses the flow-state table as above; a connection
recorded there reads the 5-tuple even when the tracker answered at ingress, so that every
connection is simulated and recorded. A decision that needs the tracker's answer and does
not have it yet stops (:class:`~ryu_midonet.sim.core.context.TrackerNeeded`): the packet
goes through the tracker and is simulated again with its answer.

Invalidation. The decision is tagged with the key it looked up (found or not): the key
appearing (the other side's forward packet recorded it) or expiring removes the flow. The
lookup reads the 5-tuple, so flows are per connection, including the forward flow that
records the connection. Keys found or recorded go to ``Result.state_keys``: the agent
refreshes them while the flow lives.
"""

from __future__ import annotations

from ryu_midonet.sim.core.context import Context, Frame, TrackerNeeded
from ryu_midonet.sim.core.model import ETH_IPV4, IP_ICMP, IP_TCP, IP_UDP, Packet
from ryu_midonet.sim.core.stages import Stage
from ryu_midonet.sim.core.topology import TopologyView, is_bound
from ryu_midonet.sim.rules.tuples import ICMP_ECHO_TYPES, ICMP_ERRORS, Conn, conn_of, flow_of
from ryu_midonet.types import Obj

PORT_GROUPS_TAG = "portGroups"  # any port group created, changed or deleted
RECORDED = "1"


def ct_key(scope: str, conn: Conn) -> str:
    return f"ct:{scope}:{conn}"


def all_port_groups(ctx: Context) -> list[Obj]:
    """Every port group (the view must be able to list objects; else none)."""
    objects = getattr(ctx.view, "objects", None)
    if objects is None:
        return []
    return [objects().get("portGroup", {})[k] for k in sorted(objects().get("portGroup", {}))]


def stateful_group(ctx: Context, port: Obj) -> str | None:
    """The stateful port group ``port`` belongs to (the first by id), if any."""
    ctx.tag(PORT_GROUPS_TAG)
    for group in all_port_groups(ctx):
        if group.get("stateful") and port["id"] in (group.get("portIds") or ()):
            ctx.tag(group["id"])
            return str(group["id"])
    return None


def scope_of(view: TopologyView, port: Obj) -> str:
    """The flow-state scope of ``port``, recording nothing (see :func:`scope`)."""
    objects = getattr(view, "objects", None)
    groups = objects().get("portGroup", {}) if objects is not None else {}
    for group_id in sorted(groups):
        group = groups[group_id]
        if group.get("stateful") and port["id"] in (group.get("portIds") or ()):
            return str(group_id)
    return str(port.get("deviceId"))


def scope(ctx: Context, port: Obj) -> str:
    """Where flow state recorded through ``port`` is kept (see the module docstring)."""
    known = ctx.session.scopes.get(port["id"])
    if known is None:
        known = stateful_group(ctx, port) or str(port.get("deviceId"))
        ctx.session.scopes[port["id"]] = known
    return known


def is_forward(ctx: Context, frame: Frame, stage: Stage) -> bool:
    """Whether the packet of this simulation starts a connection (looked up once; ``frame``
    and ``stage`` are where the question is asked, for the trace)."""
    s = ctx.session
    if s.forward is not None:
        return s.forward
    if s.generated or s.ingress is None:
        s.forward = False
        return False
    entry = Frame(s.original)
    if s.datapath_ct is not None:
        answered = _ask_tracker(ctx, entry, frame, stage)
        if answered is not None:
            return answered
    flow = flow_of(ctx, entry)
    if flow is None:
        s.forward = True
        ctx.trace(frame, "connection tracking: no 5-tuple, a new connection", stage=stage)
        return True
    key = ct_key(scope(ctx, s.ingress), flow.conn)
    ctx.tag(key)
    known = ctx.state.flows.get(key) is not None
    if known:
        ctx.keep(key)
    s.forward = not known
    s.track = not known and flow.kind != "error"
    ctx.trace(frame, f"connection tracking: {key} {'known: return' if known else 'unknown: new'}"
                     " flow", stage=stage)
    return s.forward


def _ask_tracker(ctx: Context, entry: Frame, frame: Frame, stage: Stage) -> bool | None:
    """Whether the packet starts a connection, as the datapath's tracker says (None: the
    tracker cannot say, see the module docstring)."""
    s = ctx.session
    assert s.ingress is not None and s.datapath_ct is not None
    kind = trackable(ctx, entry)
    if kind is None:
        return None
    where = scope(ctx, s.ingress)
    returning = s.datapath_ct.returning
    if s.datapath_ct.scope is not None and s.datapath_ct.scope != where:
        egress = s.datapath_ct.egress
        if egress is None or egress[0] != where:
            return None  # the tracker answered in another scope's zone
        returning = egress[1]  # in this scope's zone, before the reverse translation
    if returning is None:
        raise TrackerNeeded(where)
    s.ct_scope, s.ct_return = where, returning
    s.forward = not returning
    s.track = not returning and kind != "error"
    ctx.trace(frame, f"connection tracking: the datapath's tracker ({where}) says "
                     f"{'return' if returning else 'new'} flow", stage=stage)
    return s.forward


def trackable(ctx: Context, frame: Frame) -> str | None:
    """What the datapath's tracker can track ``frame``'s packet as: ``ports`` (TCP, UDP),
    ``echo``, ``error`` (an ICMP error), or None (anything else, or a fragment)."""
    p = frame.packet
    ctx.read(frame, "eth_type")
    if p.eth_type != ETH_IPV4:
        return None
    ctx.read(frame, "ip_proto", "ip_frag")
    if p.ip_frag not in (None, "no"):
        return None
    if p.ip_proto in (IP_TCP, IP_UDP):
        return "ports"
    if p.ip_proto == IP_ICMP:
        ctx.read(frame, "icmpv4_type")
        if p.icmpv4_type in ICMP_ECHO_TYPES:
            return "echo"
        if p.icmpv4_type in ICMP_ERRORS:
            return "error"
    return None


def scope_ports(view: TopologyView, port: Obj, where: str) -> list[Obj]:
    """The exterior ports whose packets scope ``where`` (of ``port``) tracks: a stateful
    port group's members, a router's ports; none for a bridge (its state is per host: return
    packets enter where their source is)."""
    if where != str(port.get("deviceId")):
        group = view.get("portGroup", where) or {}
        members = [view.get("port", pid) for pid in group.get("portIds") or ()]
    elif port.get("type") == "Bridge":
        return []
    else:
        members = list(view.ports_of(where))
    return [m for m in members if m is not None]


def scope_hosts(view: TopologyView, port: Obj, where: str) -> set[str]:
    """The hosts where ports of scope ``where`` (of ``port``) are bound."""
    return {str(m["hostId"]) for m in scope_ports(view, port, where) if is_bound(m)}


def spread(ctx: Context, port: Obj, where: str) -> bool:
    """Whether the ports of scope ``where`` (of ``port``) are bound on several hosts, so a
    connection's replies may enter on another host than the one it left by (each member's
    binding is a tag: the decision changes with it)."""
    for member in scope_ports(ctx.view, port, where):
        ctx.tag(member["id"])
    return len(scope_hosts(ctx.view, port, where)) > 1


def committable(packet: Packet) -> bool:
    """Whether the datapath's tracker can record the connection of ``packet`` as it leaves."""
    if packet.eth_type != ETH_IPV4 or packet.ip_frag not in (None, "no"):
        return False
    return packet.ip_proto in (IP_TCP, IP_UDP) or (
        packet.ip_proto == IP_ICMP and packet.icmpv4_type in ICMP_ECHO_TYPES)


def record(ctx: Context, port: Obj, frame: Frame) -> None:
    """The packet of a new connection leaves the topology through ``port``: remember it."""
    s = ctx.session
    if not s.track:
        return
    conn = conn_of(frame.packet)
    if conn is None:
        return
    if s.datapath_ct is not None and frame.datapath_snat is not None:
        where = scope(ctx, port)
        if frame.datapath_snat.scope == where and committable(frame.packet):
            ctx.trace(frame, f"connection tracking: the datapath's source NAT records it "
                             f"({where})", stage=Stage.PORT_OUT, port=port["id"])
            return
        ctx.read(frame, "eth_type", "ip_proto", "ip_frag")
        if committable(frame.packet):
            s.commits[port["id"]] = where
            ctx.trace(frame, f"connection tracking: the datapath's tracker ({where}) records "
                             f"it after its source NAT ({frame.datapath_snat.scope}), where "
                             "it translates", stage=Stage.PORT_OUT, port=port["id"])
            return
    if s.datapath_ct is not None and frame.datapath_snat is None:
        ctx.read(frame, "eth_type", "ip_proto", "ip_frag")
        if frame.packet.ip_proto == IP_ICMP:
            ctx.read(frame, "icmpv4_type")
        where = scope(ctx, port)
        if committable(frame.packet):
            s.commits[port["id"]] = where
            copied = spread(ctx, port, where)
            if copied:
                s.copies.add(port["id"])
            ctx.trace(frame, f"connection tracking: the datapath's tracker ({where}) records "
                             f"it{', copied to its other hosts' if copied else ''}",
                      stage=Stage.PORT_OUT, port=port["id"])
            return
    if s.ct_scope is not None:
        # the tracker answered without the 5-tuple being read; a record in the table is per
        # connection: so must the decision's flows be (each connection simulated, recorded)
        flow_of(ctx, Frame(s.original))
    key = ct_key(scope(ctx, port), conn.reverse())
    ctx.state.flows.put(key, RECORDED)
    ctx.keep(key)
    ctx.trace(frame, f"connection tracking: recorded {key}", stage=Stage.PORT_OUT,
              port=port["id"])
