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

Invalidation. The decision is tagged with the key it looked up (found or not): the key
appearing (the other side's forward packet recorded it) or expiring removes the flow. The
lookup reads the 5-tuple, so flows are per connection, including the forward flow that
records the connection. Keys found or recorded go to ``Result.state_keys``: the agent
refreshes them while the flow lives.
"""

from __future__ import annotations

from ryu_midonet.sim.core.context import Context, Frame
from ryu_midonet.sim.core.stages import Stage
from ryu_midonet.sim.rules.tuples import Conn, conn_of, flow_of
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


def record(ctx: Context, port: Obj, frame: Frame) -> None:
    """The packet of a new connection leaves the topology through ``port``: remember it."""
    if not ctx.session.track:
        return
    conn = conn_of(frame.packet)
    if conn is None:
        return
    key = ct_key(scope(ctx, port), conn.reverse())
    ctx.state.flows.put(key, RECORDED)
    ctx.keep(key)
    ctx.trace(frame, f"connection tracking: recorded {key}", stage=Stage.PORT_OUT,
              port=port["id"])
