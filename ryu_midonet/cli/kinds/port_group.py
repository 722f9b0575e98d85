"""Port groups and their members."""

from __future__ import annotations

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.kinds.common import ID, TENANT
from ryu_midonet.cli.objtype import CliKind, Collection, ObjType, parent_id, top

PG_MEMBER = ObjType("port-group-member", "port-group-member", None, (
    a.Ref("port-group", "portGroupId", writable=False, ref="port-group"),
    a.Ref("port", "portId", ref="port"),
), required=("port",), key="portId")

PORT_GROUP = ObjType("port-group", "pgroup", "pgroup", (
    ID, TENANT, a.Attr("name", "name"), a.Bool("stateful", "stateful"),
), tenant=True)
PORT_GROUP.children = {
    "member": Collection(
        "member", (PG_MEMBER,), lambda g: f"port_groups/{parent_id(g)}/ports",
        lambda g, m: f"port_groups/{parent_id(g)}/ports/{m['portId']}",
        create_path=lambda g: f"port_groups/{parent_id(g)}/ports", updatable=False),
}

CLI = CliKind(top("port-group", PORT_GROUP, "port_groups", tenant_filter=True))
