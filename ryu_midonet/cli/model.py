"""The object types the CLI knows: attributes in display order, collections, API paths.

The attribute order and the rules for leaving attributes out follow MidoNet's own CLI, and where
the Operations Guide prints something else the guide wins (for example the guide never prints
``plugged``, ``asn 0``, ``learned false`` or ``no-vlan false``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.attrs import Dto


@dataclass
class ObjType:
    """One kind of object as the CLI shows it."""

    kind: str  # what references name: router, bridge, port, chain, host, ...
    label: str  # the first word of its lines: router, tzone, port, ...
    prefix: str | None  # alias prefix; None for objects without aliases (members, bindings)
    attrs: tuple[a.Attr, ...]
    required: tuple[str, ...] = ()  # attributes a create must give
    tenant: bool = False  # created in the session's tenant
    key: str = "id"  # the field that identifies an object within its collection
    children: dict[str, Collection] = field(default_factory=dict)

    def attr(self, name: str) -> a.Attr | None:
        for attr in self.attrs:
            if attr.name == name:
                return attr
        return None

    def names(self) -> list[str]:
        return [attr.name for attr in self.attrs]


Path = Callable[[Dto | None], str]


@dataclass
class Collection:
    """A collection of one parent (or of the root): how to list, create and reach members."""

    name: str  # the CLI word: router, port, member, ...
    types: tuple[ObjType, ...]  # element types; several when ``pick`` chooses by DTO
    list_path: Path  # parent DTO -> path of the listing
    item_path: Callable[[Dto | None, Dto], str]  # (parent, element) -> path for GET/PUT/DELETE
    create_path: Path | None = None
    by_id: Callable[[str], str] | None = None  # path of an element by its id
    pick: Callable[[Dto], ObjType] | None = None
    tenant_filter: bool = False  # listings honour the session tenant
    sort_key: str | None = None
    updatable: bool = True
    deletable: bool = True
    full_alias: bool = False  # a listing prints whole alias paths (router0:port1)

    @property
    def otype(self) -> ObjType:
        return self.types[0]

    def type_of(self, dto: Dto) -> ObjType:
        return self.pick(dto) if self.pick else self.types[0]


def _id(dto: Dto | None) -> str:
    return dto["id"] if dto else ""


def _chain_ref(name: str, field_: str) -> a.Ref:
    return a.Ref(name, field_, ref="chain", clearable=True)


ID = a.Attr("id", "id", show=False, writable=False)
TENANT = a.Attr("tenant", "tenantId", show=False)
STATE = a.State("state", "adminStateUp")
INFILTER = _chain_ref("infilter", "inboundFilterId")
OUTFILTER = _chain_ref("outfilter", "outboundFilterId")

# -- hosts -----------------------------------------------------------------------------------

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
        "interface", (INTERFACE,), lambda h: f"hosts/{_id(h)}/interfaces",
        lambda h, i: f"hosts/{_id(h)}/interfaces/{i['name']}", updatable=False,
        deletable=False),
    "binding": Collection(
        "binding", (BINDING,), lambda h: f"hosts/{_id(h)}/ports",
        lambda h, b: f"hosts/{_id(h)}/ports/{b['portId']}",
        create_path=lambda h: f"hosts/{_id(h)}/ports", updatable=False),
}

# -- tunnel zones ----------------------------------------------------------------------------

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
        "member", (TZ_MEMBER,), lambda z: f"tunnel_zones/{_id(z)}/hosts",
        lambda z, m: f"tunnel_zones/{_id(z)}/hosts/{m['hostId']}",
        create_path=lambda z: f"tunnel_zones/{_id(z)}/hosts", updatable=False),
}

# -- chains and rules ------------------------------------------------------------------------

RULE_TYPES = ("accept", "continue", "drop", "jump", "reject", "return", "dnat", "snat",
              "rev_dnat", "rev_snat")


def _same(*words: str) -> tuple[tuple[str, str], ...]:
    return tuple((w, w) for w in words)


RULE = ObjType("rule", "rule", "rule", (
    ID,
    a.Bool("inverted", "condInvert", show_false=False),
    a.Mac("hw-src", "dlSrc", inv="invDlSrc"),
    a.MacMask("hw-src-mask", "dlSrcMask"),
    a.Mac("hw-dst", "dlDst", inv="invDlDst"),
    a.MacMask("hw-dst-mask", "dlDstMask"),
    a.EtherType("ethertype", "dlType", inv="invDlType", lo=-32768, hi=65535),
    a.Cidr("src", "nwSrcAddress", len_field="nwSrcLength", inv="invNwSrc"),
    a.Cidr("dst", "nwDstAddress", len_field="nwDstLength", inv="invNwDst"),
    a.Int("proto", "nwProto", inv="invNwProto", lo=0, hi=255, null_as=0),
    a.Int("tos", "nwTos", inv="invNwTos", lo=0, hi=255, null_as=0),
    a.PortRange("src-port", "tpSrc", inv="invTpSrc"),
    a.PortRange("dst-port", "tpDst", inv="invTpDst"),
    a.Flow("flow"),
    a.Ref("port-group", "portGroup", inv="invPortGroup", ref="port-group"),
    a.Ref("in-port-group", "inPortGroup", inv="invInPortGroup", ref="port-group"),
    a.Ref("out-port-group", "outPortGroup", inv="invOutPortGroup", ref="port-group"),
    a.Ref("ip-address-group-src", "ipAddrGroupSrc", inv="invIpAddrGroupSrc",
          ref="ip-address-group"),
    a.Ref("ip-address-group-dst", "ipAddrGroupDst", inv="invIpAddrGroupDst",
          ref="ip-address-group"),
    a.RefList("in-ports", "inPorts", inv="invInPorts", ref="port"),
    a.RefList("out-ports", "outPorts", inv="invOutPorts", ref="port"),
    a.Attr("traversed-device", "traversedDevice", inv="invTraversedDevice"),
    a.FragmentPolicy("fragment-policy", "fragmentPolicy",
                     choices=_same("any", "header", "nonheader", "unfragmented")),
    a.Bool("no-vlan", "noVlan", show_false=False),
    a.Int("vlan", "vlan", lo=0, hi=4095),
    a.Cidr("icmp-data-src", "icmpDataSrcIpAddress", len_field="icmpDataSrcIpLength",
           inv="invIcmpDataSrcIp"),
    a.Cidr("icmp-data-dst", "icmpDataDstIpAddress", len_field="icmpDataDstIpLength",
           inv="invIcmpDataDstIp"),
    a.Bool("match-nw-dst-rewritten", "matchNwDstRewritten", show_false=False),
    a.Int("pos", "position", lo=1),
    a.Enum("type", "type", choices=_same(*RULE_TYPES)),
    a.Enum("action", "flowAction", choices=_same("accept", "continue", "return")),
    a.Ref("jump-to", "jumpChainId", ref="chain"),
    a.NatTarget("target", "natTargets"),
    a.Attr("meter", "meterName"),
), required=("type",))

CHAIN = ObjType("chain", "chain", "chain", (ID, TENANT, a.Attr("name", "name")), tenant=True)
CHAIN.children = {
    "rule": Collection(
        "rule", (RULE,), lambda c: f"chains/{_id(c)}/rules", lambda c, r: f"rules/{r['id']}",
        create_path=lambda c: f"chains/{_id(c)}/rules", sort_key="position", updatable=False),
}

# -- bridges, routers, ports, routes ---------------------------------------------------------

BRIDGE_PORT = ObjType("port", "port", "port", (
    ID,
    a.Ref("device", "deviceId", writable=False, ref="bridge"),
    STATE, INFILTER, OUTFILTER,
    a.Int("vlan", "vlanId", lo=0, hi=4095),
    a.Peer("peer", "peerId", ref="port", clearable=True),
))

ROUTER_PORT = ObjType("port", "port", "port", (
    ID,
    a.Ref("device", "deviceId", writable=False, ref="router"),
    STATE, INFILTER, OUTFILTER,
    a.Mac("mac", "portMac"),
    a.PortAddresses("addresses"),
    a.Peer("peer", "peerId", ref="port", clearable=True),
    a.Ip("address", "portAddress", show=False, version=4),
    a.PortNet("net", show=False),
), required=("addresses|address",))

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

BRIDGE = ObjType("bridge", "bridge", "bridge", (
    ID, TENANT, a.Attr("name", "name"), STATE, INFILTER, OUTFILTER,
), tenant=True)

ROUTER = ObjType("router", "router", "router", (
    ID, TENANT, a.Attr("name", "name"), STATE, INFILTER, OUTFILTER,
    a.Attr("load-balancer", "loadBalancerId", writable=False),
    a.Int("asn", "asNumber", lo=0, hi=4294967295, hidden=(0,)),
    _chain_ref("local-redirect-chain", "localRedirectChainId"),
    _chain_ref("forward-chain", "forwardChainId"),
), tenant=True)


def _port_item(parent: Dto | None, port: Dto) -> str:
    return f"ports/{port['id']}"


def port_type(dto: Dto) -> ObjType:
    return BRIDGE_PORT if dto.get("type") == "Bridge" else ROUTER_PORT


BRIDGE.children = {
    "port": Collection(
        "port", (BRIDGE_PORT,), lambda b: f"bridges/{_id(b)}/ports", _port_item,
        create_path=lambda b: f"bridges/{_id(b)}/ports"),
}
ROUTER.children = {
    "port": Collection(
        "port", (ROUTER_PORT,), lambda r: f"routers/{_id(r)}/ports", _port_item,
        create_path=lambda r: f"routers/{_id(r)}/ports"),
    "route": Collection(
        "route", (ROUTE,), lambda r: f"routers/{_id(r)}/routes", lambda r, x: f"routes/{x['id']}",
        create_path=lambda r: f"routers/{_id(r)}/routes"),
}

# -- port groups and IP address groups -------------------------------------------------------

PG_MEMBER = ObjType("port-group-member", "port-group-member", None, (
    a.Ref("port-group", "portGroupId", writable=False, ref="port-group"),
    a.Ref("port", "portId", ref="port"),
), required=("port",), key="portId")

PORT_GROUP = ObjType("port-group", "pgroup", "pgroup", (
    ID, TENANT, a.Attr("name", "name"), a.Bool("stateful", "stateful"),
), tenant=True)
PORT_GROUP.children = {
    "member": Collection(
        "member", (PG_MEMBER,), lambda g: f"port_groups/{_id(g)}/ports",
        lambda g, m: f"port_groups/{_id(g)}/ports/{m['portId']}",
        create_path=lambda g: f"port_groups/{_id(g)}/ports", updatable=False),
}

IP_ADDR = ObjType("ip-address", "ip-address", None, (
    a.Attr("address", "addr"),
), required=("address",), key="addr")


def _ip_addr_collection(name: str) -> Collection:
    return Collection(
        name, (IP_ADDR,), lambda g: f"ip_addr_groups/{_id(g)}/ip_addrs",
        lambda g, x: (f"ip_addr_groups/{_id(g)}/versions/{6 if ':' in x['addr'] else 4}"
                      f"/ip_addrs/{x['addr']}"),
        create_path=lambda g: f"ip_addr_groups/{_id(g)}/ip_addrs", updatable=False)


IP_ADDRESS_GROUP = ObjType("ip-address-group", "ip-address-group", "ip-address-group", (
    ID, a.Attr("name", "name"),
))
IP_ADDRESS_GROUP.children = {n: _ip_addr_collection(n) for n in ("ip", "ipv4", "ipv6")}

# -- the system state and the root -----------------------------------------------------------

SYSTEM_STATE = ObjType("system-state", "system_state", None, (
    a.Enum("state", "state", choices=_same("ACTIVE", "UPGRADE"), upper=True),
    a.Enum("availability", "availability", choices=_same("READWRITE", "READONLY"), upper=True),
    a.Attr("information", "information", writable=False),
))
SYSTEM_STATE_PATH = "system_state"


def _top(name: str, otype: ObjType, path: str, creatable: bool = True,
         tenant_filter: bool = False) -> Collection:
    return Collection(
        name, (otype,), lambda _: path, lambda _, x: f"{path}/{x['id']}",
        create_path=(lambda _: path) if creatable else None, by_id=lambda i: f"{path}/{i}",
        tenant_filter=tenant_filter)


ROOT = ObjType("root", "midonet", None, ())
ROOT.children = {
    "router": _top("router", ROUTER, "routers", tenant_filter=True),
    "bridge": _top("bridge", BRIDGE, "bridges", tenant_filter=True),
    "port": Collection(
        "port", (BRIDGE_PORT, ROUTER_PORT), lambda _: "ports", _port_item,
        by_id=lambda i: f"ports/{i}", pick=port_type, full_alias=True),
    "chain": _top("chain", CHAIN, "chains", tenant_filter=True),
    "host": _top("host", HOST, "hosts", creatable=False),
    "tunnel-zone": _top("tunnel-zone", TUNNEL_ZONE, "tunnel_zones"),
    "port-group": _top("port-group", PORT_GROUP, "port_groups", tenant_filter=True),
    "ip-address-group": _top("ip-address-group", IP_ADDRESS_GROUP, "ip_addr_groups"),
}
SINGLETONS = {"system-state": SYSTEM_STATE}

# The root collection of every kind an alias or reference can name at the top level.
TOP_BY_KIND = {c.otype.kind: c for c in ROOT.children.values() if c.name != "port"}
TOP_BY_PREFIX = {c.otype.prefix: c for c in TOP_BY_KIND.values()}
DEVICE_COLLECTION = {"Bridge": "bridge", "Router": "router"}
