"""Hardware VTEPs, their port-VLAN bindings to bridges and their physical ports."""

from __future__ import annotations

import urllib.parse

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.attrs import Dto
from ryu_midonet.cli.kinds.common import ID
from ryu_midonet.cli.objtype import CliKind, Collection, ObjType, parent_id, top

BINDING = ObjType("vtep-binding", "binding", None, (
    a.Attr("physical-port", "portName"),
    a.Int("vlan", "vlanId", lo=0, hi=4095),
    a.Attr("network-id", "networkId"),
), required=("physical-port", "vlan", "network-id"), key="portName")

VTEP_PORT = ObjType("vtep-port", "port", None, (
    a.Attr("name", "name", writable=False),
    a.Attr("description", "description", writable=False),
), key="name")

VTEP = ObjType("vtep", "vtep", "vtep", (
    ID,
    a.Attr("name", "name", writable=False),
    a.Attr("description", "description", writable=False),
    a.Ip("management-ip", "managementIp", version=4),
    a.Int("management-port", "managementPort", lo=1, hi=65535),
    a.Ref("tunnel-zone", "tunnelZoneId", ref="tunnel-zone"),
    a.Enum("connection-state", "connectionState", writable=False, choices=(
        ("connected", "CONNECTED"), ("disconnected", "DISCONNECTED"), ("error", "ERROR"))),
), required=("management-ip", "management-port"))


def _binding_path(vtep: Dto | None, binding: Dto) -> str:
    name = urllib.parse.quote(str(binding["portName"]), safe="")
    return f"vteps/{parent_id(vtep)}/bindings/{name}/{binding['vlanId']}"


VTEP.children = {
    "binding": Collection(
        "binding", (BINDING,), lambda v: f"vteps/{parent_id(v)}/bindings", _binding_path,
        create_path=lambda v: f"vteps/{parent_id(v)}/bindings", updatable=False),
    "port": Collection(
        "port", (VTEP_PORT,), lambda v: f"vteps/{parent_id(v)}/ports",
        lambda v, p: f"vteps/{parent_id(v)}/ports", updatable=False, deletable=False),
}

CLI = CliKind(top("vtep", VTEP, "vteps"))
