"""Routes, reached through their router."""

from __future__ import annotations

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.kinds.common import ID
from ryu_midonet.cli.objtype import CliKind, ObjType

ROUTE = ObjType("route", "route", "route", (
    ID,
    a.Enum("type", "type", choices=(("normal", "Normal"), ("blackhole", "BlackHole"),
                                    ("reject", "Reject"))),
    a.Cidr("src", "srcNetworkAddr", len_field="srcNetworkLength"),
    a.Cidr("dst", "dstNetworkAddr", len_field="dstNetworkLength"),
    a.Ip("gw", "nextHopGateway", version=4, clearable=True),
    a.Ref("port", "nextHopPort", ref="port", clearable=True),
    a.Int("weight", "weight", lo=0),
    a.Bool("learned", "learned", show_false=False),
), required=("dst",))

CLI = CliKind()
