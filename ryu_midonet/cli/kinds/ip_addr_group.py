"""IP address groups and their addresses."""

from __future__ import annotations

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.kinds.common import ID
from ryu_midonet.cli.objtype import CliKind, Collection, ObjType, parent_id, top

IP_ADDR = ObjType("ip-address", "ip-address", None, (
    a.Attr("address", "addr"),
), required=("address",), key="addr")


def _addresses(name: str) -> Collection:
    return Collection(
        name, (IP_ADDR,), lambda g: f"ip_addr_groups/{parent_id(g)}/ip_addrs",
        lambda g, x: (f"ip_addr_groups/{parent_id(g)}/versions/{6 if ':' in x['addr'] else 4}"
                      f"/ip_addrs/{x['addr']}"),
        create_path=lambda g: f"ip_addr_groups/{parent_id(g)}/ip_addrs", updatable=False)


IP_ADDRESS_GROUP = ObjType("ip-address-group", "ip-address-group", "ip-address-group", (
    ID, a.Attr("name", "name"),
))
IP_ADDRESS_GROUP.children = {n: _addresses(n) for n in ("ip", "ipv4", "ipv6")}

CLI = CliKind(top("ip-address-group", IP_ADDRESS_GROUP, "ip_addr_groups"))
