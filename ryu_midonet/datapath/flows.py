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
    before any other action), ``ct`` (arg: a :class:`Ct`: through the connection tracker),
    ``ct_clear`` (forget what the connection tracker said), ``group`` (arg: group id: the
    packet goes through that group).
    """

    kind: str
    args: tuple[Any, ...] = ()

    def __str__(self) -> str:
        if self.kind == "set_field":
            return f"set_field:{self.args[1]}->{self.args[0]}"
        if self.kind == "ct":
            return str(self.args[0])
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


def group(group_id: int) -> Action:
    """Pass the packet to group ``group_id`` (a :class:`GroupSpec`)."""
    return Action("group", (group_id,))


def push_vlan(vid: int) -> Action:
    """Add an 802.1Q header carrying VLAN ``vid``."""
    return Action("push_vlan", (vid,))


DEC_TTL = Action("dec_ttl")
POP_VLAN = Action("pop_vlan")
TO_CONTROLLER = output("controller")
CT_CLEAR = Action("ct_clear")

# Open vSwitch's ct_state bits (ovs-fields(7)).
CT_NEW, CT_EST, CT_REL, CT_RPL, CT_INV, CT_TRK, CT_SNAT, CT_DNAT = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)
CT_STATE_BITS = {"new": CT_NEW, "est": CT_EST, "rel": CT_REL, "rpl": CT_RPL, "inv": CT_INV,
                 "trk": CT_TRK, "snat": CT_SNAT, "dnat": CT_DNAT}
REGISTERS = tuple(f"reg{i}" for i in range(16))
MAX_ZONE = 0xFFFF


def ct_state(**bits: bool) -> tuple[int, int]:
    """A ``ct_state`` match as (value, mask): ``ct_state(trk=True, est=False)`` is
    ``+trk-est``; flags not named are not looked at."""
    value = mask = 0
    for name, wanted in bits.items():
        bit = CT_STATE_BITS[name]
        mask |= bit
        value |= bit if wanted else 0
    return value, mask


@dataclass(frozen=True)
class Nat:
    """The ``nat`` of a ``ct`` action. ``kind`` ``src``/``dst`` sets up a translation for a
    new connection to an address of ``addresses`` (first, last) and, when given, a port of
    ``ports`` (first, last); ``kind`` None (a bare ``nat``) applies the translation the
    connection already has."""

    kind: str | None = None
    addresses: tuple[str, str] | None = None
    ports: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.kind not in (None, "src", "dst"):
            raise ValueError(f"nat kind {self.kind!r}")
        if self.kind is None and (self.addresses or self.ports):
            raise ValueError("a bare nat takes no addresses or ports")
        if self.ports is not None and (
                self.addresses is None or not 0 < self.ports[0] <= self.ports[1] <= 0xFFFF):
            raise ValueError(f"nat ports {self.ports} (ports need addresses)")

    def __str__(self) -> str:
        if self.kind is None:
            return "nat"
        text = self.kind
        if self.addresses is not None:
            first, last = self.addresses
            text += "=" + (first if first == last else f"{first}-{last}")
            if self.ports is not None:
                low, high = self.ports
                text += f":{low}" if low == high else f":{low}-{high}"
        return f"nat({text})"


@dataclass(frozen=True)
class Ct:
    """The arguments of a ``ct`` action (see ovs-actions(7)). ``zone`` is a number or a
    register (``"reg6"``: its low 16 bits); ``table`` the table the tracked packet is
    resubmitted to (None: it is not); ``mark`` a ``ct_mark`` stored with the connection
    (needs ``commit``)."""

    commit: bool = False
    zone: int | str = 0
    table: int | None = None
    nat: Nat | None = None
    mark: int | None = None
    force: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.zone, str):
            if self.zone not in REGISTERS:
                raise ValueError(f"ct zone from {self.zone!r}: only registers")
        elif not 0 <= self.zone <= MAX_ZONE:
            raise ValueError(f"ct zone {self.zone}")
        if self.table is not None and not 0 <= self.table <= 254:
            raise ValueError(f"ct table {self.table}")
        if not self.commit and (self.force or self.mark is not None
                                or (self.nat is not None and self.nat.kind is not None)):
            raise ValueError("force, a mark and nat(src|dst) need commit")

    def __str__(self) -> str:
        parts = ["commit"] if self.commit else []
        parts += ["force"] if self.force else []
        if isinstance(self.zone, str):
            parts.append(f"zone=NXM_NX_{self.zone.upper()}[0..15]")
        elif self.zone:
            parts.append(f"zone={self.zone}")
        if self.table is not None:
            parts.append(f"table={self.table}")
        if self.nat is not None:
            parts.append(str(self.nat))
        if self.mark is not None:
            parts.append(f"exec(set_field:{self.mark:#x}->ct_mark)")
        return f"ct({','.join(parts)})"


def ct(commit: bool = False, zone: int | str = 0, table: int | None = None,
       nat: Nat | None = None, mark: int | None = None, force: bool = False) -> Action:
    """Send the packet through the connection tracker (see :class:`Ct`)."""
    return Action("ct", (Ct(commit, zone, table, nat, mark, force),))


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


MAX_GROUP_ID = 0xFFFFFF00  # OpenFlow 1.3's OFPG_MAX


@dataclass(frozen=True)
class Bucket:
    """One bucket of a select group: its share ``weight`` and the actions it applies."""

    weight: int
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class GroupSpec:
    """A select group: each packet takes one of the ``buckets``, in proportion to their
    weights, by a hash of its headers (Open vSwitch: of its addresses and ports, so every
    packet of a connection takes the same bucket while the buckets stay the same)."""

    group_id: int
    buckets: tuple[Bucket, ...]

    def __post_init__(self) -> None:
        if not 0 <= self.group_id <= MAX_GROUP_ID:
            raise ValueError(f"group id {self.group_id}")
        if not self.buckets or any(b.weight <= 0 for b in self.buckets):
            raise ValueError("a select group needs buckets of positive weight")


@dataclass(frozen=True)
class GroupDelete:
    """Remove group ``group_id`` (``None``: every group) and every flow that uses it."""

    group_id: int | None = None


Message = (FlowSpec | FlowDelete | PacketOut | SwitchConfig | MeterSpec | MeterDelete
           | GroupSpec | GroupDelete)
