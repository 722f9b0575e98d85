"""L2 insertions, as the Operations Guide's ``l2insertion add ... / list`` show them."""

from __future__ import annotations

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.kinds.common import ID
from ryu_midonet.cli.objtype import CliKind, ObjType, top

L2INSERTION = ObjType("l2insertion", "l2insertion", "l2insertion", (
    ID, a.Ref("port", "portId", ref="port"), a.Ref("srv-port", "srvPortId", ref="port"),
    a.Int("vlan", "vlan", lo=0, hi=4095), a.Int("pos", "position", lo=0),
    a.Bool("fail-open", "failOpen"), a.Mac("mac", "mac"),
), required=("port", "srv-port", "mac"))

CLI = CliKind(top("l2insertion", L2INSERTION, "l2insertions"))
