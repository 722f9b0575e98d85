"""Bridges and their ports."""

from __future__ import annotations

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.kinds.common import ID, INFILTER, OUTFILTER, STATE, TENANT
from ryu_midonet.cli.kinds.dhcp import DHCP
from ryu_midonet.cli.kinds.port import BRIDGE_PORT, port_item
from ryu_midonet.cli.objtype import CliKind, Collection, ObjType, parent_id, top

BRIDGE = ObjType("bridge", "bridge", "bridge", (
    ID, TENANT, a.Attr("name", "name"), STATE, INFILTER, OUTFILTER,
), tenant=True)
BRIDGE.children = {
    "port": Collection(
        "port", (BRIDGE_PORT,), lambda b: f"bridges/{parent_id(b)}/ports", port_item,
        create_path=lambda b: f"bridges/{parent_id(b)}/ports"),
    "dhcp": DHCP,
}

CLI = CliKind(top("bridge", BRIDGE, "bridges", tenant_filter=True), device="Bridge")
