"""What a device sees while it handles a packet: the packet so far, and the simulation it is in.

A :class:`Frame` is the packet as it travels: its headers as rewritten so far, which fields were
overwritten (a field a device sets no longer depends on the packet that entered the topology,
so reading it later adds nothing to ``fields_read``), the TTL decrements, and how many devices
it crossed. Frames are immutable; a flood forks one frame into many.

:class:`Context` is the simulation as devices use it: the topology view and state tables, the
rule-chain hook, the recording of what the decision depended on, and the way out of a device
(:meth:`Context.leave`) or back into the topology for a generated packet (:meth:`Context.emit`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ryu_midonet.sim.model import MacLearning, Packet
from ryu_midonet.sim.state import State
from ryu_midonet.sim.topology import Obj, TopologyView

if TYPE_CHECKING:
    from ryu_midonet.sim.filters import Filters


@dataclass(frozen=True)
class Frame:
    packet: Packet
    written: frozenset[str] = frozenset()
    ttl_decrements: int = 0
    hops: int = 0  # devices entered so far on this path

    def set(self, **fields: Any) -> Frame:
        """The frame with header fields overwritten by a device."""
        return dataclasses.replace(self, packet=self.packet.replace(**fields),
                                   written=self.written | fields.keys())

    def dec_ttl(self) -> Frame:
        ttl = self.packet.nw_ttl
        packet = self.packet if ttl is None else self.packet.replace(nw_ttl=ttl - 1)
        return dataclasses.replace(self, packet=packet, ttl_decrements=self.ttl_decrements + 1)

    def hop(self) -> Frame:
        return dataclasses.replace(self, hops=self.hops + 1)


class Context(Protocol):
    view: TopologyView
    state: State
    filters: Filters

    def read(self, frame: Frame, *fields: str) -> None:
        """The decision depends on these header fields of ``frame``."""
        ...

    def tag(self, *tags: str) -> None:
        """The decision depends on these objects or state entries."""
        ...

    def trace(self, frame: Frame, line: str) -> None:
        """One step, for the operator reading the packet's trace."""
        ...

    def uncacheable(self) -> None:
        """No flow may be built from this decision: every such packet must be simulated."""
        ...

    def learned(self, entry: MacLearning) -> None:
        """A MAC table entry was learned (a side effect the agent refreshes)."""
        ...

    def leave(self, port: Obj, frame: Frame) -> None:
        """The packet leaves its device through ``port``."""
        ...

    def emit(self, frame: Frame, port: Obj, packet: Packet) -> None:
        """A packet the device generates (while handling ``frame``) leaves it through ``port``."""
        ...


class Device(Protocol):
    """The simulation of one device type: what it does with a packet entering at ``in_port``."""

    kind: str  # the object kind: "bridge", "router"

    def process(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> None:
        ...
