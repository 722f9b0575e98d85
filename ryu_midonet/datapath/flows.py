"""OpenFlow flows as plain data, built by the agent's handlers and sent from one place.

A :class:`FlowSpec` is an OpenFlow 1.3 flow entry without any os-ken object in it, so that
handlers can be tested against an in-memory switch (:mod:`fakeswitch`) and the same specs can
be turned into ``OFPFlowMod`` messages (:mod:`ofmsgs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Action:
    """One OpenFlow action or instruction.

    ``kind`` is one of ``output`` (arg: port number, or ``"controller"``/``"in_port"``),
    ``set_field`` (args: field, value), ``dec_ttl``, ``push_vlan`` (arg: vid), ``pop_vlan``,
    ``goto`` (arg: table id), ``meter`` (arg: meter id; the packet goes through that meter
    before any other action).
    """

    kind: str
    args: tuple[Any, ...] = ()

    def __str__(self) -> str:
        if self.kind == "set_field":
            return f"set_field:{self.args[1]}->{self.args[0]}"
        return self.kind + (":" + ",".join(map(str, self.args)) if self.args else "")


def output(port: int | str) -> Action:
    return Action("output", (port,))


def set_field(name: str, value: Any) -> Action:
    return Action("set_field", (name, value))


def goto(table: int) -> Action:
    return Action("goto", (table,))


def meter(meter_id: int) -> Action:
    """Pass the packet through meter ``meter_id`` first (it may drop it there)."""
    return Action("meter", (meter_id,))


def push_vlan(vid: int) -> Action:
    """Add an 802.1Q header carrying VLAN ``vid``."""
    return Action("push_vlan", (vid,))


DEC_TTL = Action("dec_ttl")
POP_VLAN = Action("pop_vlan")
TO_CONTROLLER = output("controller")


@dataclass(frozen=True)
class FlowSpec:
    """One flow entry: ``match`` maps OXM field names to values (or (value, mask) pairs)."""

    table: int
    priority: int
    match: dict[str, Any] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()
    cookie: int = 0
    idle_timeout: int = 0
    hard_timeout: int = 0

    def __hash__(self) -> int:
        return hash((self.table, self.priority, tuple(sorted(self.match.items())),
                     self.actions, self.cookie))

    def __str__(self) -> str:
        match = ",".join(f"{k}={v}" for k, v in self.match.items())
        acts = ",".join(map(str, self.actions)) or "drop"
        return (f"table={self.table} cookie={self.cookie:#x} priority={self.priority} "
                f"{match} actions={acts}")


@dataclass(frozen=True)
class FlowDelete:
    """Remove every flow whose cookie matches ``cookie`` under ``mask`` (in every table)."""

    cookie: int
    mask: int = 0xFFFF_FFFF_FFFF_FFFF


@dataclass(frozen=True)
class PacketOut:
    """Send a packet (raw bytes) through the pipeline or straight out of ports."""

    data: bytes
    actions: tuple[Action, ...]
    in_port: int | str = "controller"


@dataclass(frozen=True)
class SwitchConfig:
    """How the switch treats IP fragments. ``nx-match`` (an Open vSwitch mode) lets flows
    match the L4 ports of first fragments and sees no ports in later ones, which is what
    flows matching ``ip_frag`` are built for; OpenFlow's default, ``normal``, hides the ports
    of first fragments too, so flows for them would never match."""

    fragments: str = "nx-match"


@dataclass(frozen=True)
class MeterSpec:
    """A meter that drops what passes it above ``rate`` packets per second, after a burst of
    ``burst`` packets."""

    meter_id: int
    rate: int
    burst: int


@dataclass(frozen=True)
class MeterDelete:
    """Remove meter ``meter_id`` (``None``: every meter) and every flow that uses it."""

    meter_id: int | None = None


Message = FlowSpec | FlowDelete | PacketOut | SwitchConfig | MeterSpec | MeterDelete
