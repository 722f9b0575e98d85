"""Attribute kinds: how one CLI attribute is printed from, and written to, API fields.

An attribute turns an API object (a DTO dict) into the text after its name in a listing, or
``None`` when the listing leaves it out, and turns the word a user typed into API fields.
Attributes that name other objects print aliases and accept aliases, paths or UUIDs through a
:class:`RefContext` (the session).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ryu_midonet.cli import values as v
from ryu_midonet.cli.errors import CliError

Dto = dict[str, Any]
Fields = dict[str, Any]


class RefContext(Protocol):
    """What attributes need from the session to print and parse object references."""

    def ref_name(self, kind: str, obj_id: str) -> str:
        """The alias (or path) that names object ``obj_id`` of ``kind``."""
        ...

    def ref_id(self, kind: str, token: str) -> str:
        """The UUID of the ``kind`` object a user named with ``token``."""
        ...


@dataclass(frozen=True)
class Attr:
    """A single-valued attribute stored in one API field."""

    name: str
    field: str | None = None
    show: bool = True  # printed in listings
    writable: bool = True  # may be given on create and changed with set
    clearable: bool = False  # may be reset with clear
    inv: str | None = None  # API field of the ``!`` inversion flag
    ref: str | None = None  # kind of the object it names, if any

    def display(self, dto: Dto, ctx: RefContext) -> str | None:
        text = self.value(dto, ctx)
        if text is None:
            return None
        if self.inv and dto.get(self.inv):
            return "!" + text
        return text

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        raw = dto.get(self.field) if self.field else None
        return None if raw is None else str(raw)

    def write(self, text: str, ctx: RefContext) -> Fields:
        """API fields for ``text`` (which may start with ``!`` when the attribute inverts)."""
        if not self.writable:
            raise CliError(f"{self.name} is a read-only attribute")
        inverted = False
        if self.inv:
            inverted, text = v.split_inverted(text)
        out = self.parse(text, ctx)
        if self.inv:
            out[self.inv] = inverted
        return out

    def parse(self, text: str, ctx: RefContext) -> Fields:
        return {self.field: text} if self.field else {}

    def api_fields(self) -> tuple[str, ...]:
        """The API fields it writes (to name the attribute in an API error)."""
        return tuple(f for f in (self.field, self.inv) if f)

    def cleared(self) -> Fields:
        if not self.clearable:
            raise CliError(f"{self.name} cannot be cleared")
        out: Fields = {self.field: None} if self.field else {}
        if self.inv:
            out[self.inv] = False
        return out


@dataclass(frozen=True)
class Int(Attr):
    lo: int | None = None
    hi: int | None = None
    hidden: tuple[int, ...] = ()  # values a listing leaves out
    null_as: int | None = None  # what a listing prints for null

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        raw = dto.get(self.field) if self.field else None
        if raw is None:
            raw = self.null_as
        if raw is None or raw in self.hidden:
            return None
        return str(raw)

    def parse(self, text: str, ctx: RefContext) -> Fields:
        return {self.field: v.parse_int(self.name, text, self.lo, self.hi)}


@dataclass(frozen=True)
class Limit(Int):
    """A limit where a negative number means none: printed and typed as ``no-limit``."""

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        raw = dto.get(self.field) if self.field else None
        if raw is None or raw in self.hidden:
            return None
        return "no-limit" if int(raw) < 0 else str(raw)

    def parse(self, text: str, ctx: RefContext) -> Fields:
        if text == "no-limit":
            return {self.field: -1}
        return super().parse(text, ctx)


@dataclass(frozen=True)
class EtherType(Int):
    """EtherTypes print as signed 16-bit numbers: IPv6 (0x86DD) is -31011."""

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        raw = dto.get(self.field) if self.field else None
        return None if raw is None else str(v.fmt_signed16(int(raw)))


@dataclass(frozen=True)
class Bool(Attr):
    show_false: bool = True

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        raw = dto.get(self.field) if self.field else None
        if raw is None or (not raw and not self.show_false):
            return None
        return v.fmt_bool(raw)

    def parse(self, text: str, ctx: RefContext) -> Fields:
        return {self.field: v.parse_bool(self.name, text)}


@dataclass(frozen=True)
class State(Attr):
    """Administrative state: ``up`` / ``down``."""

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        raw = dto.get(self.field) if self.field else None
        return None if raw is None else ("up" if raw else "down")

    def parse(self, text: str, ctx: RefContext) -> Fields:
        if text not in ("up", "down"):
            raise CliError(f"{self.name}: {text!r} is not up or down")
        return {self.field: text == "up"}


@dataclass(frozen=True)
class Enum(Attr):
    choices: tuple[tuple[str, str], ...] = ()  # (CLI word, API value)
    upper: bool = False  # accept the CLI word in any case

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        raw = dto.get(self.field) if self.field else None
        for word, api in self.choices:
            if api == raw:
                return word
        return None if raw is None else str(raw)

    def parse(self, text: str, ctx: RefContext) -> Fields:
        key = text.upper() if self.upper else text
        for word, api in self.choices:
            if word == key:
                return {self.field: api}
        words = ", ".join(w for w, _ in self.choices)
        raise CliError(f"{self.name}: {text!r} is not one of {words}")


@dataclass(frozen=True)
class FragmentPolicy(Enum):
    """Printed only when it differs from the policy the rule would get by default."""

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        raw = dto.get(self.field) if self.field else None
        if raw is None or raw == default_fragment_policy(dto):
            return None
        return str(raw)


def default_fragment_policy(rule: Dto) -> str:
    """unfragmented for dynamic NAT, header for rules on L4 ports, any otherwise."""
    if rule.get("type") in ("dnat", "snat"):
        for t in rule.get("natTargets") or []:
            if (t.get("addressFrom") != t.get("addressTo") or t.get("portFrom")
                    or t.get("portTo")):
                return "unfragmented"
    if rule.get("tpSrc") or rule.get("tpDst"):
        return "header"
    return "any"


@dataclass(frozen=True)
class Ip(Attr):
    version: int | None = None

    def parse(self, text: str, ctx: RefContext) -> Fields:
        return {self.field: v.parse_ip(self.name, text, self.version)}


@dataclass(frozen=True)
class Mac(Attr):
    def parse(self, text: str, ctx: RefContext) -> Fields:
        return {self.field: v.parse_mac(self.name, text)}


@dataclass(frozen=True)
class MacMask(Attr):
    def parse(self, text: str, ctx: RefContext) -> Fields:
        return {self.field: v.parse_mac_mask(self.name, text)}


@dataclass(frozen=True)
class Cidr(Attr):
    """An address and prefix length kept in two fields; a host prefix prints bare."""

    len_field: str = ""

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        return v.fmt_cidr(dto.get(self.field or ""), dto.get(self.len_field))

    def parse(self, text: str, ctx: RefContext) -> Fields:
        addr, length = v.parse_cidr(self.name, text)
        return {self.field: addr, self.len_field: length}

    def api_fields(self) -> tuple[str, ...]:
        return (*super().api_fields(), self.len_field)

    def cleared(self) -> Fields:
        out = super().cleared()
        out[self.len_field] = None
        return out


@dataclass(frozen=True)
class PortRange(Attr):
    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        return v.fmt_port_range(dto.get(self.field or ""))

    def parse(self, text: str, ctx: RefContext) -> Fields:
        return {self.field: v.parse_port_range(self.name, text)}


@dataclass(frozen=True)
class NatTarget(Attr):
    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        return v.fmt_nat_targets(dto.get(self.field or ""))

    def parse(self, text: str, ctx: RefContext) -> Fields:
        return {self.field: v.parse_nat_targets(self.name, text)}


@dataclass(frozen=True)
class Flow(Attr):
    """``flow fwd-flow`` or ``flow return-flow``: the connection-tracking match."""

    FLAGS = (("fwd-flow", "matchForwardFlow"), ("return-flow", "matchReturnFlow"))

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        for word, field in self.FLAGS:
            if dto.get(field):
                return word
        return None

    def parse(self, text: str, ctx: RefContext) -> Fields:
        if text not in (w for w, _ in self.FLAGS):
            raise CliError(f"{self.name}: {text!r} is not fwd-flow or return-flow")
        return {field: word == text for word, field in self.FLAGS}

    def api_fields(self) -> tuple[str, ...]:
        return tuple(field for _, field in self.FLAGS)

    def cleared(self) -> Fields:
        return {field: False for _, field in self.FLAGS}


@dataclass(frozen=True)
class Ref(Attr):
    """A reference to another object, printed as its alias."""

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        raw = dto.get(self.field) if self.field else None
        return None if not raw else ctx.ref_name(self.ref or "", raw)

    def parse(self, text: str, ctx: RefContext) -> Fields:
        return {self.field: ctx.ref_id(self.ref or "", text)}


@dataclass(frozen=True)
class RefList(Attr):
    """Comma-separated references (``in-ports router0:port0,router0:port1``)."""

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        raw = dto.get(self.field) if self.field else None
        if not raw:
            return None
        return ",".join(ctx.ref_name(self.ref or "", i) for i in raw)

    def parse(self, text: str, ctx: RefContext) -> Fields:
        ids = [ctx.ref_id(self.ref or "", t.strip()) for t in text.split(",") if t.strip()]
        return {self.field: ids}

    def cleared(self) -> Fields:
        out = super().cleared()
        out[self.field] = []
        return out


@dataclass(frozen=True)
class Peer(Ref):
    """A port's peer: written by linking the two ports, not by changing a field."""


@dataclass(frozen=True)
class StrList(Attr):
    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        return v.fmt_str_list(dto.get(self.field or ""))


@dataclass(frozen=True)
class PortAddresses(Attr):
    """A router port's ``addresses A.B.C.D/len`` (its address and its subnet's length)."""

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        addr, length = dto.get("portAddress"), dto.get("networkLength")
        return None if addr is None else f"{addr}/{length}"

    def parse(self, text: str, ctx: RefContext) -> Fields:
        items = [t.strip() for t in text.split(",") if t.strip()]
        if len(items) != 1:
            raise CliError(f"{self.name}: a router port takes exactly one address/len")
        if "/" not in items[0]:
            raise CliError(f"{self.name}: {items[0]!r} needs a prefix length (A.B.C.D/len)")
        addr, length = v.parse_cidr(self.name, items[0])
        return {"portAddress": addr, "networkAddress": None, "networkLength": length}

    def api_fields(self) -> tuple[str, ...]:
        return ("portAddress", "networkLength")


@dataclass(frozen=True)
class PortNet(Attr):
    """A router port's ``net A.B.C.D/len`` (the older form, used with ``address``)."""

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        return v.fmt_cidr(dto.get("networkAddress"), dto.get("networkLength"))

    def parse(self, text: str, ctx: RefContext) -> Fields:
        addr, length = v.parse_cidr(self.name, text)
        return {"networkAddress": addr, "networkLength": length}

    def api_fields(self) -> tuple[str, ...]:
        return ("networkAddress",)
