"""DHCP subnets of bridges and their hosts (``bridge bridge0 dhcp subnet0 list host``).

Attributes follow MidoNet's CLI (``gw``, ``server``, ``dns-servers``, ``subnet``,
``interface-mtu``, ``opt121-routes``; hosts: ``name``, ``address``, ``mac``); ``routers`` and
``dns_server`` are accepted for ``gw`` and ``dns-servers``. Option 121 routes are written
``DEST/LEN:GATEWAY``, several separated by commas.
"""

from __future__ import annotations

from dataclasses import dataclass

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli import values as v
from ryu_midonet.cli.attrs import Dto, Fields, RefContext
from ryu_midonet.cli.errors import CliError
from ryu_midonet.cli.kinds.common import ID
from ryu_midonet.cli.objtype import Collection, ObjType, parent_id


@dataclass(frozen=True)
class IpList(a.Attr):
    """Comma-separated IPv4 addresses (``dns-servers 8.8.8.8,8.8.4.4``)."""

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        raw = dto.get(self.field) if self.field else None
        return ",".join(raw) if raw else None

    def parse(self, text: str, ctx: RefContext) -> Fields:
        return {self.field or "": [v.parse_ip(self.name, t.strip(), 4)
                             for t in text.split(",") if t.strip()]}

    def cleared(self) -> Fields:
        return {self.field or "": []}


@dataclass(frozen=True)
class Opt121(a.Attr):
    """Classless static routes: ``169.254.169.254/32:10.0.0.2,10.1.0.0/16:10.0.0.254``."""

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        raw = dto.get(self.field) if self.field else None
        if not raw:
            return None
        return ",".join(f"{r['destinationPrefix']}/{r['destinationLength']}:{r['gatewayAddr']}"
                        for r in raw)

    def parse(self, text: str, ctx: RefContext) -> Fields:
        routes = []
        for item in (t.strip() for t in text.split(",")):
            if not item:
                continue
            dst, sep, gw = item.partition(":")
            if not sep or "/" not in dst:
                raise CliError(f"{self.name}: {item!r} is not DEST/LEN:GATEWAY")
            addr, length = v.parse_cidr(self.name, dst)
            routes.append({"destinationPrefix": addr, "destinationLength": length,
                           "gatewayAddr": v.parse_ip(self.name, gw, 4)})
        return {self.field or "": routes}

    def cleared(self) -> Fields:
        return {self.field or "": []}


@dataclass(frozen=True)
class Enabled(a.Bool):
    """Printed only when false (MidoNet's CLI never printed it; subnets are enabled)."""

    def value(self, dto: Dto, ctx: RefContext) -> str | None:
        return "false" if dto.get(self.field or "") is False else None


def _relative(link: str) -> str:
    """An API link as a path from the API root (``bridges/...``)."""
    at = link.find("/bridges/")
    if at < 0:
        raise CliError(f"unexpected DHCP link {link!r}")
    return link[at + 1:]


def _subnet_path(bridge: Dto | None, subnet: Dto) -> str:
    return f"bridges/{parent_id(bridge)}/dhcp/{subnet['subnetPrefix']}_{subnet['subnetLength']}"


def _hosts_path(subnet: Dto | None) -> str:
    return _relative(subnet["hosts"]) if subnet else ""


GW = a.Ip("gw", "defaultGateway", version=4, clearable=True)
DNS = IpList("dns-servers", "dnsServerAddrs", clearable=True)

DHCP_HOST = ObjType("dhcp-host", "dhcp-host", "dhcp-host", (
    ID,
    a.Attr("name", "name", clearable=True),
    a.Ip("address", "ipAddr", version=4),
    a.Mac("mac", "macAddr"),
), required=("mac", "address"))

DHCP_SUBNET = ObjType("dhcp-subnet", "dhcp", "subnet", (
    ID,
    GW,
    a.Ip("server", "serverAddr", version=4),
    DNS,
    a.Cidr("subnet", "subnetPrefix", len_field="subnetLength"),
    a.Int("interface-mtu", "interfaceMTU", lo=68, hi=65535, clearable=True),
    Opt121("opt121-routes", "opt121Routes", clearable=True),
    Enabled("enabled", "enabled"),
    a.Ip("routers", "defaultGateway", show=False, version=4, clearable=True),
    IpList("dns_server", "dnsServerAddrs", show=False, clearable=True),
), required=("subnet",))
DHCP_SUBNET.children = {
    "host": Collection(
        "host", (DHCP_HOST,), _hosts_path, lambda s, h: f"{_hosts_path(s)}/{h['macAddr']}",
        create_path=_hosts_path),
}

DHCP = Collection(
    "dhcp", (DHCP_SUBNET,), lambda b: f"bridges/{parent_id(b)}/dhcp", _subnet_path,
    create_path=lambda b: f"bridges/{parent_id(b)}/dhcp")
"""A bridge's DHCP subnets (a child collection of bridges)."""
