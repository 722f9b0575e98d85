"""What a device sees while it handles a packet: the packet so far, and the simulation it is in.

A :class:`Frame` is the packet as it travels: its headers as rewritten so far, which fields were
overwritten (a field a device sets no longer depends on the packet that entered the topology,
so reading it later adds nothing to ``fields_read``), the TTL decrements, how many devices it
crossed and which, the port it entered the current device through and its headers there (what
answers such as ICMP errors quote), and whether NAT rewrote its destination. Frames are
immutable; a flood forks one frame into many.

:class:`Context` is the simulation as devices use it: the topology view and state tables, the
rule-chain hook, the recording of what the decision depended on, and the way out of a device
(:meth:`Context.leave`) or back into the topology for a generated packet (:meth:`Context.emit`).
Its :class:`Session` holds what rule chains keep for the whole simulation (the ingress port,
the connection-tracking verdict, the flow state written).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ryu_midonet.sim.core.model import (
    ArpWait,
    DatapathCt,
    DatapathReply,
    DatapathSnat,
    MacLearning,
    Packet,
)
from ryu_midonet.sim.core.stages import Stage
from ryu_midonet.sim.core.topology import TopologyView
from ryu_midonet.sim.core.verdicts import Verdict
from ryu_midonet.sim.state import State
from ryu_midonet.types import Obj


@dataclass(frozen=True)
class Frame:
    packet: Packet
    written: frozenset[str] = frozenset()
    ttl_decrements: int = 0
    hops: int = 0  # devices entered so far on this path
    devices: tuple[str, ...] = ()  # ids of the devices entered so far on this path
    in_port: str | None = None  # the port the current device was entered through
    entered: Packet | None = None  # the packet as it entered the current device
    dnat: bool = False  # NAT rewrote the destination earlier on this path
    datapath_snat: DatapathSnat | None = None  # the datapath translates the source here

    def set(self, **fields: Any) -> Frame:
        """The frame with header fields overwritten by a device."""
        return _replace(self, packet=self.packet.replace(**fields),
                        written=self.written | fields.keys())

    def dec_ttl(self) -> Frame:
        ttl = self.packet.nw_ttl
        packet = self.packet if ttl is None else self.packet.replace(nw_ttl=ttl - 1)
        return _replace(self, packet=packet, ttl_decrements=self.ttl_decrements + 1)

    def hop(self, device_id: str | None = None, port_id: str | None = None) -> Frame:
        """The frame entering device ``device_id`` through port ``port_id``."""
        if device_id is None:
            return _replace(self, hops=self.hops + 1)
        return _replace(self, hops=self.hops + 1, devices=(*self.devices, device_id),
                        in_port=port_id, entered=self.packet)


def _replace(frame: Frame, **changes: Any) -> Frame:
    """``dataclasses.replace(frame, **changes)`` for this module's own (valid) changes,
    without calling ``__init__`` field by field (it runs several times per packet)."""
    new = object.__new__(Frame)
    new.__dict__.update(frame.__dict__)
    new.__dict__.update(changes)
    return new


@dataclass
class Session:
    """What rule chains keep for a whole simulation."""

    original: Packet  # the packet as it entered the topology
    ingress: Obj | None = None  # the exterior port it entered through
    generated: bool = False  # a packet the topology generated (an answer)
    forward: bool | None = None  # connection tracking: starts a connection? None: not asked
    track: bool = False  # record the connection where the packet leaves the topology
    created: list[str] = field(default_factory=list)  # NAT entries written by this simulation
    left: bool = False  # the packet left the topology somewhere
    scopes: dict[str, str] = field(default_factory=dict)  # port id -> flow-state scope
    datapath_reply: DatapathReply | None = None  # the datapath reversed the source NAT
    datapath_ct: DatapathCt | None = None  # connection tracking by the datapath's tracker
    commits: dict[str, str] = field(default_factory=dict)  # port id -> scope to commit in
    copies: set[str] = field(default_factory=set)  # ports whose commit is copied
    ct_scope: str | None = None  # the tracker's answer used: in this scope's zone
    ct_return: bool | None = None  # and what it was


class TrackerNeeded(Exception):  # noqa: N818 - a request, not an error
    """The decision needs the datapath's connection tracker's answer about the packet (looked
    up in the zone of flow-state scope ``scope``) before it can go on."""

    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = scope


class Context(Protocol):
    view: TopologyView
    state: State
    filters: Filters
    session: Session

    def read(self, frame: Frame, *fields: str) -> None:
        """The decision depends on these header fields of ``frame``."""
        ...

    def tag(self, *tags: str) -> None:
        """The decision depends on these objects or state entries."""
        ...

    def trace(self, frame: Frame, line: str, *, stage: Stage | None = None,
              rule: str | None = None, port: str | None = None) -> None:
        """One step, for the operator reading the packet's trace: what was decided, in which
        stage (default: forwarding, inside a device), by which rule, at which port (default:
        the one the frame entered its device by)."""
        ...

    def keep(self, *keys: str) -> None:
        """Flow-state entries the decision created or relies on (kept alive with its flow)."""
        ...

    def uncacheable(self) -> None:
        """No flow may be built from this decision: every such packet must be simulated."""
        ...

    def learned(self, entry: MacLearning) -> None:
        """A MAC table entry was learned (a side effect the agent refreshes)."""
        ...

    def decrements(self, frame: Frame) -> Frame:
        """``frame`` after a router's TTL decrement (its TTL checked and found > 1), counted
        in ``Result.ttl_decrements`` whatever happens to it next."""
        ...

    def leave(self, port: Obj, frame: Frame) -> None:
        """The packet leaves its device through ``port``."""
        ...

    def enter(self, port: Obj, frame: Frame) -> None:
        """The packet enters ``port``'s device through ``port`` (a service function hands a
        packet back to the port it inspects)."""
        ...

    def hold(self, frame: Frame, wait: ArpWait) -> None:
        """The packet waits for a next hop's ARP resolution (the request is on its way)."""
        ...

    def emit(self, frame: Frame, port: Obj, packet: Packet) -> None:
        """A packet the device generates (while handling ``frame``) leaves it through ``port``."""
        ...

    def answer_arp(self, frame: Frame, port: Obj, mac: str) -> None:
        """The device answers ARP request ``frame`` (``arp_tpa`` is at ``mac``) out of
        ``port``: in place, as the request's own output, when the answer goes straight back
        to where the request entered the topology; generated (:meth:`emit`) otherwise."""
        ...


@dataclass(frozen=True)
class Filtered:
    """What filters decided, and the frame as they left it (they may rewrite it)."""

    verdict: Verdict
    frame: Frame


class Filters(Protocol):
    """The hook where rule chains are evaluated (see :mod:`.filters`)."""

    def pre(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> Filtered:
        """Stages ``PORT_IN`` and ``PRE``: the packet enters ``device`` by ``in_port``."""
        ...

    def post(self, ctx: Context, device: Obj, out_port: Obj, frame: Frame) -> Filtered:
        """Stages ``POST`` and ``PORT_OUT``: the device sends the packet out of ``out_port``."""
        ...


class Device(Protocol):
    """The simulation of one device type: what it does with a packet entering at ``in_port``."""

    kind: str  # the object kind: "bridge", "router"

    def process(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> None:
        ...


@dataclass(frozen=True)
class Where:
    """Where a rule chain runs: the device, the port the packet entered it through, and (after
    the forwarding decision) the port it leaves by."""

    device: Obj
    in_port: Obj | None
    out_port: Obj | None = None
    stage: Stage = Stage.PRE


def _no_exit(ctx: Context, port: Obj, frame: Frame) -> None:
    return None


def _no_loss(ctx: Context) -> None:
    return None


@dataclass(frozen=True)
class Semantics:
    """What the layers above the walk give it: the device simulations by port type, what
    happens when a packet leaves the topology (connection tracking records it) and when it
    leaves it nowhere (NAT entries written for it are undone)."""

    devices: Mapping[str, Device] = field(default_factory=dict)
    on_exit: Callable[[Context, Obj, Frame], None] = _no_exit
    on_lost: Callable[[Context], None] = _no_loss
