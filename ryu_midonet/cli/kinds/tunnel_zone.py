"""Tunnel zones and their members."""

from __future__ import annotations

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.kinds.common import ID
from ryu_midonet.cli.objtype import CliKind, Collection, ObjType, parent_id, top

TZ_MEMBER = ObjType("tunnel-zone-member", "tunnel-zone-host", None, (
    a.Ref("zone", "tunnelZoneId", writable=False, ref="tunnel-zone"),
    a.Ref("host", "hostId", ref="host"),
    a.Ip("address", "ipAddress", version=4),
), required=("host", "address"), key="hostId")

TUNNEL_ZONE = ObjType("tunnel-zone", "tzone", "tzone", (
    ID,
    a.Attr("name", "name"),
    a.Enum("type", "type", choices=(("gre", "gre"), ("vxlan", "vxlan"), ("vtep", "vtep"))),
), required=("name",))
TUNNEL_ZONE.children = {
    "member": Collection(
        "member", (TZ_MEMBER,), lambda z: f"tunnel_zones/{parent_id(z)}/hosts",
        lambda z, m: f"tunnel_zones/{parent_id(z)}/hosts/{m['hostId']}",
        create_path=lambda z: f"tunnel_zones/{parent_id(z)}/hosts", updatable=False),
}

CLI = CliKind(top("tunnel-zone", TUNNEL_ZONE, "tunnel_zones"))
