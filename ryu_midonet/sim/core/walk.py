"""Walks a packet through the virtual topology.

:func:`simulate` takes the packet in at an exterior port and hands it to the port's device; a
device hands it on through :meth:`Walk.leave`: out of an exterior (bound) port it becomes an
:class:`~ryu_midonet.sim.core.model.Output` whose rewrites turn the packet that entered into the one
that leaves; through an interior port it enters the peer port's device. Packets devices
generate (:meth:`Walk.emit`) are walked the same way from the port they leave by, and become
:class:`~ryu_midonet.sim.core.model.Emit` at the exterior ports they reach; what they depend on is
not part of the decision about the original packet.

Drops: a port or device that is administratively down, a port whose device or peer is missing,
an exterior port bound to no host. Loops: a device that the same packet (same headers) already
entered in this simulation is not entered again -- a bridge reached twice by one frame means
two L2 paths, and a routing loop changes the TTL on every turn until it expires. As backstops,
more than :data:`MAX_HOPS` devices on one path, or more than :data:`MAX_VISITS` device entries
in one simulation (floods and answers included), drop too.

Invalidation contract: results are tagged with the ids of the ports, devices and routes they
used and with the MAC/ARP entries they read. A flood depends on the set of the bridge's ports
and a route choice on the set of the router's routes, so the agent must also invalidate the
device's tag when a port or route of the device is created or deleted.

The walk knows devices, filters and flow state only through the contracts of
:mod:`.context`; :mod:`ryu_midonet.sim.simulator` wires in the real ones. Rule chains add the
chains, rules, port and IP address groups and flow-state keys they used to the tags, and the
flow-state keys to keep alive to ``Result.state_keys``. Where a packet leaves the topology,
``Semantics.on_exit`` runs (connection tracking records a new connection); for a packet that
leaves it nowhere, ``Semantics.on_lost`` undoes the NAT entries written for it. A source NAT
the datapath does per connection is the last rewrite of the output
(:class:`~ryu_midonet.sim.core.model.DatapathSnat`). A packet whose
payload a chain rewrote (an ICMP error translated back by NAT) cannot be sent by flow actions:
it leaves as an :class:`~ryu_midonet.sim.core.model.Emit` of the rewritten packet, not cacheable.
"""

from __future__ import annotations

from collections.abc import Collection

from ryu_midonet.sim.core import packets
from ryu_midonet.sim.core.context import Filters, Frame, Semantics, Session, TrackerNeeded
from ryu_midonet.sim.core.model import (
    FIELDS,
    ArpAnswer,
    ArpWait,
    DatapathCt,
    DatapathReply,
    Emit,
    MacLearning,
    Output,
    Packet,
    Result,
    Rewrite,
    RewriteOp,
)
from ryu_midonet.sim.core.stages import Stage
from ryu_midonet.sim.core.topology import TopologyView, is_bound
from ryu_midonet.sim.core.trace import TraceStep
from ryu_midonet.sim.state import State
from ryu_midonet.types import Obj

MAX_HOPS = 32
MAX_VISITS = 256
# What an ARP reply is made of: a decision answering in place reads all of it.
ANSWER_READS = ("eth_src", "eth_dst", "eth_type", "vlan_vid", "arp_op", "arp_spa", "arp_tpa",
                "arp_sha")



def simulate(view: TopologyView, state: State, ingress_port_id: str, packet: Packet,
             filters: Filters, semantics: Semantics,
             datapath_reply: DatapathReply | None = None,
             datapath_ct: DatapathCt | None = None) -> Result:
    """The decision for ``packet`` entering the topology at exterior port ``ingress_port_id``;
    with ``datapath_reply``, the packet is a reply whose reverse source NAT the datapath did
    (``packet`` as it entered, its destination port already translated); with
    ``datapath_ct``, connection tracking asks the datapath's tracker where it can answer
    (a decision that needs its answer first stops there: ``Result.ct_scope``)."""
    walk = Walk(view, state, filters, packet, semantics=semantics)
    walk.session.datapath_reply = datapath_reply
    walk.session.datapath_ct = datapath_ct
    frame = Frame(packet)
    port = view.get("port", ingress_port_id)
    walk.tag(ingress_port_id)
    if port is None:
        walk.trace(frame, f"ingress port {ingress_port_id} does not exist: dropping")
    elif port.get("peerId"):
        walk.trace(frame, f"ingress port {ingress_port_id} is interior: dropping")
    else:
        walk.session.ingress = port
        try:
            walk.enter(port, frame)
        except TrackerNeeded as need:
            walk.ask_tracker(frame, need.scope)
    walk.result.ct_scope = walk.result.ct_scope or walk.session.ct_scope
    walk.result.ct_return = walk.session.ct_return
    walk.finish()
    walk.summarise()
    return walk.result


class Walk:
    """One simulation in progress (the :class:`~.context.Context` devices see)."""

    def __init__(self, view: TopologyView, state: State, filters: Filters, original: Packet,
                 generated: bool = False, budget: list[int] | None = None,
                 semantics: Semantics | None = None) -> None:
        self.semantics = semantics if semantics is not None else Semantics()
        self.view = view
        self.state = state
        self.filters = filters
        self.original = original
        self.generated = generated
        self.budget = budget if budget is not None else [MAX_VISITS]  # shared with answers
        self.result = Result()
        self.session = Session(original, generated=generated)
        self.crossed: set[tuple[str, Packet]] = set()  # (device id, packet as it entered)

    # -- what the decision depends on ----------------------------------------------------------
    def read(self, frame: Frame, *fields: str) -> None:
        self.result.fields_read.update(f for f in fields if f not in frame.written)
        if frame.datapath_snat is not None and {"tcp_src", "udp_src"} & set(fields):
            self.uncacheable()  # the source port the datapath will choose is not known here

    def tag(self, *tags: str) -> None:
        self.result.tags.update(t for t in tags if t)

    def trace(self, frame: Frame, line: str, *, stage: Stage | None = None,
              rule: str | None = None, port: str | None = None) -> None:
        device = frame.devices[-1] if frame.devices else None
        if stage is None and device is not None:
            stage = Stage.FORWARD
        self.result.steps.append(TraceStep(line, frame.hops, stage, device,
                                           port if port is not None else frame.in_port, rule))

    def keep(self, *keys: str) -> None:
        self.result.state_keys.update(keys)

    def uncacheable(self) -> None:
        self.result.cacheable = False

    def decrements(self, frame: Frame) -> Frame:
        frame = frame.dec_ttl()
        self.result.ttl_decrements = max(self.result.ttl_decrements, frame.ttl_decrements)
        return frame

    def learned(self, entry: MacLearning) -> None:
        if entry not in self.result.learned:
            self.result.learned.append(entry)

    # -- moving between devices ----------------------------------------------------------------
    def enter(self, port: Obj, frame: Frame) -> None:
        """The packet arrives at ``port``'s device through ``port``."""
        self.tag(port["id"])
        if frame.hops >= MAX_HOPS or self.budget[0] <= 0:
            self.trace(frame, f"more than {MAX_HOPS} devices on the path or {MAX_VISITS} in all"
                       f" (a loop?): dropping at port {port['id']}")
            return
        self.budget[0] -= 1
        if not port.get("adminStateUp", True):
            self.trace(frame, f"port {port['id']} is down: dropping")
            return
        handler = self.semantics.devices.get(port.get("type") or "")
        device = None if handler is None else self.view.get(handler.kind, port.get("deviceId"))
        if handler is None or device is None:
            self.trace(frame, f"port {port['id']} has no device: dropping")
            return
        self.tag(device["id"])
        if (device["id"], frame.packet) in self.crossed:
            self.trace(frame, f"{handler.kind} {_label(device)} already had this packet (a loop):"
                       f" dropping at port {port['id']}")
            return
        self.crossed.add((device["id"], frame.packet))
        frame = frame.hop(device["id"], port["id"])
        self.trace(frame, f"{handler.kind} {_label(device)} in at port {port['id']}",
                   stage=Stage.PORT_IN)
        if not device.get("adminStateUp", True):
            self.trace(frame, f"{handler.kind} is down: dropping")
            return
        handler.process(self, device, port, frame)

    def leave(self, port: Obj, frame: Frame) -> None:
        """The packet leaves its device through ``port``."""
        self.tag(port["id"])
        if not port.get("adminStateUp", True):
            self.trace(frame, f"port {port['id']} is down: dropping")
        elif port.get("peerId"):
            peer = self.view.get("port", port["peerId"])
            if peer is None:
                self.trace(frame, f"port {port['id']} links to missing port {port['peerId']}:"
                           " dropping")
            else:
                self.enter(peer, frame)
        elif not is_bound(port):
            self.trace(frame, f"port {port['id']} is not bound to a host: dropping")
        elif self.generated:
            self.session.left = True
            self.trace(frame, f"out of port {port['id']}", stage=Stage.PORT_OUT, port=port["id"])
            self.result.emits.append(Emit(port["id"], frame.packet))
        else:
            self.session.left = True
            self.semantics.on_exit(self, port, frame)
            if "payload" in frame.written:
                self.uncacheable()
                self.trace(frame, f"out of port {port['id']}, rewritten (payload changed)",
                           stage=Stage.PORT_OUT, port=port["id"])
                self.result.emits.append(Emit(port["id"], frame.packet))
                return
            self.trace(frame, f"out of port {port['id']}", stage=Stage.PORT_OUT, port=port["id"])
            out = Output(port["id"], rewrites(self.original, frame, self.result.fields_read),
                         self.session.commits.get(port["id"]),
                         port["id"] in self.session.copies)
            if out not in self.result.outputs:
                self.result.outputs.append(out)

    def hold(self, frame: Frame, wait: ArpWait) -> None:
        """Report that the packet waits for an ARP resolution (answers are not held)."""
        self.uncacheable()
        if self.generated:
            self.trace(frame, f"no ARP entry for {wait.ip}: this generated packet is dropped")
        elif wait not in self.result.waiting:
            self.trace(frame, f"held until {wait.ip} is resolved out of port {wait.port_id}")
            self.result.waiting.append(wait)

    def emit(self, frame: Frame, port: Obj, packet: Packet) -> None:
        """Walk a generated packet from the device it leaves by ``port``."""
        answer = Walk(self.view, self.state, self.filters, packet, True, self.budget,
                      self.semantics)
        answer.leave(port, Frame(packet))
        answer.finish()
        self.result.emits.extend(answer.result.emits)
        self.trace(frame, f"generated {_describe(packet)} out of port {port['id']}:")
        self.result.steps.extend(step.nested(frame.hops) for step in answer.result.steps)

    def answer_arp(self, frame: Frame, port: Obj, mac: str) -> None:
        """Answer ARP request ``frame`` out of ``port``: in place when the reply goes straight
        back out of the ingress port and the decision is cacheable (the request's output, an
        :class:`~ryu_midonet.sim.core.model.ArpAnswer` rewrite; the decision reads every
        field the reply is made of, and depends on what the reply's walk depended on),
        generated otherwise."""
        request = frame.packet
        reply = packets.arp_reply(request, mac)
        ingress = self.session.ingress
        if (self.generated or ingress is None or not self.result.cacheable
                or request != self.original or request.vlan_vid is not None
                or not request.arp_spa or not request.arp_tpa):
            self.uncacheable()
            self.emit(frame, port, reply)
            return
        answer = Walk(self.view, self.state, self.filters, reply, True, self.budget,
                      self.semantics)
        answer.leave(port, Frame(reply))
        answer.finish()
        if (not answer.result.cacheable or answer.result.waiting
                or answer.result.emits != [Emit(ingress["id"], reply)]):
            self.uncacheable()
            self.result.emits.extend(answer.result.emits)
            self.trace(frame, f"generated {_describe(reply)} out of port {port['id']}:")
            self.result.steps.extend(step.nested(frame.hops) for step in answer.result.steps)
            return
        self.read(frame, *ANSWER_READS)
        self.tag(*answer.result.tags)
        self.session.left = True
        rewrite = Rewrite(RewriteOp.ARP_REPLY, value=ArpAnswer(
            mac.lower(), request.arp_tpa, str(reply.eth_dst), request.arp_spa))
        out = Output(ingress["id"], (rewrite,))
        if out not in self.result.outputs:
            self.result.outputs.append(out)
        self.trace(frame, f"answered in place: {_describe(reply)} back out of port"
                   f" {ingress['id']}", stage=Stage.PORT_OUT, port=ingress["id"])

    def ask_tracker(self, frame: Frame, scope: str) -> None:
        """Stop: the decision needs the datapath tracker's answer (in ``scope``'s zone) first;
        what the walk decided so far is dropped (NAT entries written are undone)."""
        self.result.outputs.clear()
        self.result.emits.clear()
        self.result.waiting.clear()
        self.session.left = False
        self.result.ct_scope = scope
        self.trace(frame, f"connection tracking: through the datapath's tracker ({scope}) first")

    def finish(self) -> None:
        """Undo the NAT entries of a packet that left the topology nowhere."""
        if not self.session.left and self.session.created:
            self.result.state_keys.difference_update(self.session.created)
            self.semantics.on_lost(self)

    def summarise(self) -> None:
        outs = ", ".join(o.port_id for o in self.result.outputs) or (
            "held" if self.result.waiting else "dropped")
        emits = f"; {len(self.result.emits)} generated" if self.result.emits else ""
        cache = "" if self.result.cacheable else " (not cacheable)"
        self.result.steps.append(TraceStep(f"result: {outs}{emits}{cache}"))


def rewrites(original: Packet, frame: Frame, read: Collection[str] = ()
             ) -> tuple[Rewrite, ...]:
    """The actions that turn ``original`` into the packet ``frame`` carries, and so every
    packet a flow built from this decision takes: a field a device wrote keeps its ``set``
    even when ``original`` already had that value, unless the decision ``read`` the field
    (then its flows only take packets with that value)."""
    out = [Rewrite(RewriteOp.DEC_TTL)] * frame.ttl_decrements
    for name in FIELDS:
        if name not in frame.written or name == "nw_ttl":
            continue
        if name == "ipv4_src" and frame.datapath_snat is not None:
            continue  # the datapath's translation sets it
        old, new = getattr(original, name), getattr(frame.packet, name)
        if old == new and (name == "vlan_vid" or name in read):
            continue
        if name == "vlan_vid" and new is None:
            out.append(Rewrite(RewriteOp.POP_VLAN))
            continue
        if name == "vlan_pcp" and (new is None or frame.packet.vlan_vid is None):
            continue  # a popped tag takes its priority with it
        if name == "vlan_vid" and old is None:
            out.append(Rewrite(RewriteOp.PUSH_VLAN))
        out.append(Rewrite(RewriteOp.SET, name, new))
    if frame.datapath_snat is not None:
        out.append(Rewrite(RewriteOp.DATAPATH_SNAT, value=frame.datapath_snat))
    return tuple(out)


def _label(device: Obj) -> str:
    return f"{device['name']} ({device['id']})" if device.get("name") else str(device["id"])


def _describe(packet: Packet) -> str:
    if packet.arp_op is not None:
        kind = "ARP request" if packet.arp_op == 1 else "ARP reply"
        return f"{kind} {packet.arp_spa} -> {packet.arp_tpa}"
    return (f"ICMP type {packet.icmpv4_type} code {packet.icmpv4_code} "
            f"{packet.ipv4_src} -> {packet.ipv4_dst}")
