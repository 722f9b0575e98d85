"""Hosts, with their interfaces and port bindings."""

from __future__ import annotations

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.kinds.common import ID
from ryu_midonet.cli.objtype import CliKind, Collection, ObjType, parent_id, top

INTERFACE = ObjType("interface", "interface", None, (
    a.Attr("iface", "name", writable=False),
    a.Ref("host_id", "hostId", writable=False, ref="host"),
    a.Int("status", "status", writable=False),
    a.StrList("addresses", "addresses", writable=False),
    a.Attr("mac", "mac", writable=False),
    a.Int("mtu", "mtu", writable=False),
    a.Attr("type", "type", writable=False),
    a.Attr("endpoint", "endpoint", writable=False),
), key="name")

BINDING = ObjType("binding", "binding", None, (
    a.Ref("host", "hostId", writable=False, ref="host"),
    a.Attr("interface", "interfaceName"),
    a.Ref("port", "portId", ref="port"),
), required=("interface", "port"), key="portId")

HOST = ObjType("host", "host", "host", (
    ID,
    a.Attr("name", "name", writable=False),
    a.Bool("alive", "alive", writable=False),
    a.Int("flooding-proxy-weight", "floodingProxyWeight", lo=0, hi=65535, hidden=(1,)),
    a.Int("container-weight", "containerWeight", lo=0, hi=65535, hidden=(1,)),
    a.Limit("container-limit", "containerLimit", lo=0, hi=65535, hidden=(-1,)),
    a.Bool("enforce-container-limit", "enforceContainerLimit", show_false=False),
))
HOST.children = {
    "interface": Collection(
        "interface", (INTERFACE,), lambda h: f"hosts/{parent_id(h)}/interfaces",
        lambda h, i: f"hosts/{parent_id(h)}/interfaces/{i['name']}", updatable=False,
        deletable=False),
    "binding": Collection(
        "binding", (BINDING,), lambda h: f"hosts/{parent_id(h)}/ports",
        lambda h, b: f"hosts/{parent_id(h)}/ports/{b['portId']}",
        create_path=lambda h: f"hosts/{parent_id(h)}/ports", updatable=False),
}

CLI = CliKind(top("host", HOST, "hosts", creatable=False))
