"""networking-sfc: port pairs, port pair groups, flow classifiers and port chains.

Four collections at the root, in the guide's style (``sfc`` may lead a command)::

    sfc port-pair add ingress bridge0:port1 egress bridge0:port2 correlation mpls   -> pp0
    sfc port-pair-group add pairs pp0,pp1 lb-fields ip_src,tcp_dst                   -> ppg0
    sfc flow-classifier add protocol tcp dst-port 80 src-prefix 10.0.0.0/24 \\
        logical-source-port bridge0:port0                                           -> fc0
    sfc port-chain add groups ppg0,ppg1 classifiers fc0 symmetric true               -> pc0
    sfc port-chain list
    port-chain pc0 set groups ppg1,ppg0

Attributes kept in networking-sfc's parameter objects (``correlation`` and ``weight`` of a
pair, ``lb-fields`` of a group, ``correlation`` and ``symmetric`` of a chain) are given on
create; the API keeps them from then on. ``correlation none`` makes a header-unaware pair.
"""

from __future__ import annotations

from dataclasses import dataclass

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli import values as v
from ryu_midonet.cli.errors import CliError
from ryu_midonet.cli.kinds.common import ID
from ryu_midonet.cli.objtype import CliKind, ObjType, same, top

WORD = "sfc"  # may lead any command on these collections


@dataclass(frozen=True)
class Param(a.Attr):
    """One key of a parameter object (``field`` names the object): ``kind`` says how its
    value is typed (word, int, bool, list)."""

    key: str = ""
    kind: str = "word"
    choices: tuple[str, ...] = ()

    def value(self, dto: a.Dto, ctx: a.RefContext) -> str | None:
        params = dto.get(self.field or "") or {}
        raw = params.get(self.key)
        if self.kind == "word" and raw is None and "none" in self.choices:
            return "none" if self.key in params else None
        if raw is None or raw == []:
            return None
        if self.kind == "bool":
            return v.fmt_bool(raw)
        if self.kind == "list":
            return ",".join(str(x) for x in raw)
        return str(raw)

    def parse(self, text: str, ctx: a.RefContext) -> a.Fields:
        value: object
        if self.kind == "int":
            value = v.parse_int(self.name, text, 0)
        elif self.kind == "bool":
            value = v.parse_bool(self.name, text)
        elif self.kind == "list":
            value = [t.strip() for t in text.split(",") if t.strip()]
        else:
            if self.choices and text not in self.choices:
                raise CliError(f"{self.name}: {text!r} is not one of {', '.join(self.choices)}")
            value = None if text == "none" else text
        return {self.field: {self.key: value}}

    def api_fields(self) -> tuple[str, ...]:
        return (f"{self.field}.{self.key}", self.field or "")


@dataclass(frozen=True)
class Ports(a.Attr):
    """A port range kept in ``<field>_min`` and ``<field>_max``: ``80`` or ``1024-2047``."""

    def value(self, dto: a.Dto, ctx: a.RefContext) -> str | None:
        lo, hi = dto.get(f"{self.field}_min"), dto.get(f"{self.field}_max")
        if lo is None and hi is None:
            return None
        return v.fmt_port_range({"start": lo if lo is not None else 0,
                                 "end": hi if hi is not None else 65535})

    def parse(self, text: str, ctx: a.RefContext) -> a.Fields:
        span = v.parse_port_range(self.name, text)
        return {f"{self.field}_min": span["start"], f"{self.field}_max": span["end"]}

    def api_fields(self) -> tuple[str, ...]:
        return (f"{self.field}_min", f"{self.field}_max")


@dataclass(frozen=True)
class Name(a.Attr):
    """networking-sfc's names default to "": left out of listings while empty."""

    def value(self, dto: a.Dto, ctx: a.RefContext) -> str | None:
        return dto.get("name") or None


NAME = Name("name", "name")
SF = "service_function_parameters"
CHAIN = "chain_parameters"

PORT_PAIR = ObjType("port-pair", "port-pair", "pp", (
    ID, NAME,
    a.Ref("ingress", "ingress", ref="port"),
    a.Ref("egress", "egress", ref="port"),
    Param("correlation", SF, key="correlation", choices=("mpls", "nsh", "none")),
    Param("weight", SF, key="weight", kind="int"),
), required=("ingress", "egress"))

PORT_PAIR_GROUP = ObjType("port-pair-group", "port-pair-group", "ppg", (
    ID, NAME,
    a.RefList("pairs", "port_pairs", ref="port-pair"),
    Param("lb-fields", "port_pair_group_parameters", key="lb_fields", kind="list"),
    a.Int("group-id", "group_id", writable=False),
))

FLOW_CLASSIFIER = ObjType("flow-classifier", "flow-classifier", "fc", (
    ID, NAME,
    a.Enum("ethertype", "ethertype", choices=same("IPv4", "IPv6")),
    a.Enum("protocol", "protocol", choices=same("tcp", "udp", "icmp")),
    a.Attr("src-prefix", "source_ip_prefix"),
    a.Attr("dst-prefix", "destination_ip_prefix"),
    Ports("src-port", "source_port_range"),
    Ports("dst-port", "destination_port_range"),
    a.Ref("logical-source-port", "logical_source_port", ref="port"),
    a.Ref("logical-destination-port", "logical_destination_port", ref="port"),
), required=("logical-source-port",))

PORT_CHAIN = ObjType("port-chain", "port-chain", "pc", (
    ID, NAME,
    a.RefList("groups", "port_pair_groups", ref="port-pair-group"),
    a.RefList("classifiers", "flow_classifiers", ref="flow-classifier", clearable=True),
    Param("correlation", CHAIN, key="correlation", choices=("mpls", "nsh")),
    Param("symmetric", CHAIN, key="symmetric", kind="bool"),
    a.Int("chain-id", "chain_id", lo=0, hi=65535),
), required=("groups",))

PORT_PAIRS = CliKind(top("port-pair", PORT_PAIR, "sfc/port_pairs"))
PORT_PAIR_GROUPS = CliKind(top("port-pair-group", PORT_PAIR_GROUP, "sfc/port_pair_groups"))
FLOW_CLASSIFIERS = CliKind(top("flow-classifier", FLOW_CLASSIFIER, "sfc/flow_classifiers"))
PORT_CHAINS = CliKind(top("port-chain", PORT_CHAIN, "sfc/port_chains"))
