"""DHCP answered from the topology: what a VM's DHCP request gets, decided on its own host.

A bridge's DHCP subnets (kind ``dhcpSubnet``) and their hosts (``dhcpHost``: a MAC and the
address it gets) are the whole configuration; the agent of the VM's host answers (see
:mod:`ryu_midonet.apps.dhcp`), nothing is forwarded, no lease is stored (every host entry is a
fixed binding).

- Only a MAC with a host entry in an **enabled** subnet of the bridge gets an answer, as in
  MidoNet: a VM without a host entry, or whose subnet is disabled, gets nothing.
- DISCOVER gets an OFFER; REQUEST (selecting, renewing, rebinding, rebooting) an ACK when the
  address it asks for (option 50, or ``ciaddr``) is its host entry's, a NAK otherwise; a
  REQUEST naming another server (option 54) is not answered; INFORM gets an ACK with the
  options and no address or lease; RELEASE and DECLINE are taken with no answer (bindings are
  fixed).
- Options: subnet mask, router (the default gateway), DNS servers, interface MTU (26),
  classless static routes (121, and 249 for clients that only know Microsoft's number), lease
  time, server identifier, host name (the entry's name). When option 121 carries routes, a
  default route through the gateway is added to them: RFC 3442 clients ignore option 3 then.
- The server: the subnet's ``serverAddr``, or its first address; its MAC is the MAC of the
  router port linked to the bridge that has that address, else a locally administered MAC
  derived from the subnet's id.
- A host entry's extra options (:func:`extra_options`) are sent too, replacing the option
  of the same number the subnet gives. Bridges answer ARP for server addresses (:class:`BridgeDhcp`
  ``addresses``) so that a client can renew by unicast.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from ryu_midonet.sim.core.topology import TopologyView
from ryu_midonet.types import Obj

DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
LEASE_TIME = 86400  # seconds
ANY = "0.0.0.0"


@dataclass(frozen=True)
class Request:
    """What the decision reads of a client's message."""

    msg_type: int
    mac: str  # the client's hardware address (chaddr)
    ciaddr: str = ANY
    requested_ip: str | None = None  # option 50
    server_id: str | None = None  # option 54


@dataclass(frozen=True)
class Route:
    """One classless static route (option 121)."""

    prefix: str
    length: int
    gateway: str


@dataclass(frozen=True)
class Answer:
    """The server's message: its type, the address given and the options."""

    msg_type: int
    server_ip: str
    server_mac: str
    yiaddr: str = ANY
    netmask: str | None = None
    router: str | None = None
    dns: tuple[str, ...] = ()
    mtu: int | None = None
    routes: tuple[Route, ...] = ()
    lease_time: int | None = None
    host_name: str | None = None
    extra: tuple[tuple[int, bytes], ...] = ()  # the host entry's extra options, encoded


@dataclass(frozen=True)
class Binding:
    """A host entry of an enabled subnet, with the subnet's server."""

    subnet: Obj
    host: Obj
    server_ip: str
    server_mac: str


@dataclass(frozen=True)
class BridgeDhcp:
    """A bridge's DHCP configuration, built once per topology version."""

    by_mac: Mapping[str, Binding]  # client MAC -> its binding (enabled subnets only)
    addresses: Mapping[str, str]  # IPv4 -> MAC: hosts and servers of enabled subnets
    serving: bool  # the bridge has an enabled subnet

    @classmethod
    def build(cls, view: TopologyView, bridge_id: str) -> BridgeDhcp:
        subnets = {sid: s for sid, s in view.all_of("dhcpSubnet").items()
                   if s.get("bridgeId") == bridge_id and s.get("enabled", True)
                   and _network(s) is not None}
        routers = _router_port_macs(view, bridge_id)
        servers = {sid: _server(s, routers) for sid, s in subnets.items()}
        by_mac: dict[str, Binding] = {}
        addresses: dict[str, str] = {}
        for sid in sorted(subnets):
            server_ip, server_mac = servers[sid]
            addresses.setdefault(server_ip, server_mac)
        hosts = view.all_of("dhcpHost")
        for host in (hosts[hid] for hid in sorted(hosts)):
            sid = host.get("subnetId") or ""
            mac, ip = str(host.get("macAddr") or "").lower(), host.get("ipAddr")
            net = _network(subnets[sid]) if sid in subnets else None
            if net is None or not mac or not _inside(ip, net):
                continue
            server_ip, server_mac = servers[sid]
            by_mac.setdefault(mac, Binding(subnets[sid], host, server_ip, server_mac))
            addresses.setdefault(str(ip), mac)
        return cls(by_mac, addresses, bool(subnets))


def of_bridge(view: TopologyView, bridge_id: str) -> BridgeDhcp:
    """The bridge's :class:`BridgeDhcp` for the view's current topology."""
    return view.derived("bridge-dhcp", bridge_id, lambda: BridgeDhcp.build(view, bridge_id))


def answer(view: TopologyView, bridge_id: str, request: Request) -> Answer | None:
    """What the DHCP server of ``bridge_id`` answers ``request`` with (None: nothing)."""
    binding = of_bridge(view, bridge_id).by_mac.get(request.mac.lower())
    if binding is None:
        return None
    ip = str(binding.host["ipAddr"])
    if request.msg_type == DISCOVER:
        return _full(binding, OFFER, ip)
    if request.msg_type == REQUEST:
        if request.server_id not in (None, binding.server_ip):
            return None  # the client took another server's offer
        wanted = request.requested_ip or (request.ciaddr if request.ciaddr != ANY else None)
        if wanted is not None and wanted != ip:
            return Answer(NAK, binding.server_ip, binding.server_mac)
        return _full(binding, ACK, ip)
    if request.msg_type == INFORM:
        return dataclasses.replace(_full(binding, ACK, ANY), lease_time=None)
    return None


def _full(binding: Binding, msg_type: int, yiaddr: str) -> Answer:
    subnet = binding.subnet
    net = _network(subnet)
    gateway = subnet.get("defaultGateway") if _is_ipv4(subnet.get("defaultGateway")) else None
    routes = tuple(r for r in (_route(o) for o in subnet.get("opt121Routes") or ()) if r)
    if routes and gateway and not any(r.length == 0 for r in routes):
        routes += (Route(ANY, 0, str(gateway)),)
    mtu = subnet.get("interfaceMTU")
    return Answer(
        msg_type, binding.server_ip, binding.server_mac, yiaddr,
        netmask=str(net.netmask) if net is not None else None,
        router=str(gateway) if gateway else None,
        dns=tuple(str(a) for a in subnet.get("dnsServerAddrs") or () if _is_ipv4(a)),
        mtu=int(mtu) if isinstance(mtu, int) and 68 <= mtu <= 0xFFFF else None,
        routes=routes, lease_time=LEASE_TIME,
        host_name=str(binding.host["name"]) if binding.host.get("name") else None,
        extra=extra_options(binding.host.get("extraDhcpOpts")))


def extra_options(opts: object) -> tuple[tuple[int, bytes], ...]:
    """A host entry's extra options (``optName``: a number or a name of
    :data:`OPTION_NAMES`; ``optValue``: text), encoded: comma-separated IPv4 addresses as
    addresses, the value of a number option (:data:`NUMBER_OPTIONS`) as that number, anything
    else as text. Options the server owns (message type, server id, ...) and what cannot be
    encoded are left out."""
    out: dict[int, bytes] = {}
    for opt in opts if isinstance(opts, list) else ():
        if not isinstance(opt, dict):
            continue
        name, value = str(opt.get("optName", "")).strip().lower(), str(opt.get("optValue", ""))
        code = int(name) if name.isdigit() else OPTION_NAMES.get(name.replace("_", "-"), 0)
        if not 0 < code < 255 or code in SERVER_OPTIONS:
            continue
        encoded = _encode(code, value)
        if encoded is not None and 0 < len(encoded) <= 255:
            out[code] = encoded
    return tuple(out.items())


# Options a host entry may not set: the server's own bookkeeping.
SERVER_OPTIONS = frozenset({50, 52, 53, 54, 55, 57, 61})
# Number options: code -> size in bytes.
NUMBER_OPTIONS = {2: 4, 13: 2, 22: 2, 23: 1, 24: 4, 26: 2, 35: 4, 37: 1, 38: 4, 51: 4, 58: 4,
                  59: 4}
OPTION_NAMES = {
    "netmask": 1, "router": 3, "dns-server": 6, "log-server": 7, "hostname": 12,
    "domain-name": 15, "mtu": 26, "broadcast": 28, "ntp-server": 42, "lease-time": 51,
    "tftp-server": 66, "bootfile-name": 67, "server-ip-address": 150,
}


def _encode(code: int, value: str) -> bytes | None:
    items = [v.strip() for v in value.split(",")]
    if value and all(_is_ipv4(v) for v in items):
        return b"".join(ipaddress.IPv4Address(v).packed for v in items)
    size = NUMBER_OPTIONS.get(code)
    if size is not None:
        try:
            return int(value).to_bytes(size, "big")
        except (ValueError, OverflowError):
            return None
    return value.encode("utf-8") if value else None


def _route(obj: object) -> Route | None:
    if not isinstance(obj, dict):
        return None
    try:
        net = ipaddress.IPv4Network(
            f"{obj['destinationPrefix']}/{obj['destinationLength']}", strict=False)
        gateway = str(ipaddress.IPv4Address(obj["gatewayAddr"]))
    except (KeyError, ValueError, TypeError):
        return None
    return Route(str(net.network_address), net.prefixlen, gateway)


def _server(subnet: Obj, router_macs: Mapping[str, str]) -> tuple[str, str]:
    net = _network(subnet)
    assert net is not None
    ip = subnet.get("serverAddr") if _is_ipv4(subnet.get("serverAddr")) else str(
        net.network_address + 1 if net.num_addresses > 2 else net.network_address)
    mac = router_macs.get(str(ip))
    if mac is None:
        digest = hashlib.sha256(f"dhcp:{subnet['id']}".encode()).digest()
        mac = ":".join(f"{b:02x}" for b in (0x02, *digest[:5]))
    return str(ip), mac


def _router_port_macs(view: TopologyView, bridge_id: str) -> dict[str, str]:
    """Address -> MAC of the router ports linked to the bridge."""
    out: dict[str, str] = {}
    for port in view.ports_of(bridge_id):
        peer = view.get("port", port.get("peerId"))
        if peer is not None and peer.get("portAddress") and peer.get("portMac"):
            out[str(peer["portAddress"])] = str(peer["portMac"]).lower()
    return out


def _network(subnet: Obj) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(f"{subnet['subnetPrefix']}/{subnet['subnetLength']}",
                                     strict=False)
    except (KeyError, ValueError, TypeError):
        return None


def _inside(ip: object, net: ipaddress.IPv4Network) -> bool:
    return _is_ipv4(ip) and ipaddress.IPv4Address(str(ip)) in net


def _is_ipv4(value: object) -> bool:
    try:
        ipaddress.IPv4Address(str(value))
    except ValueError:
        return False
    return value is not None
