"""Random virtual topologies and packets, as hypothesis strategies, for differential tests.

:func:`topologies` draws a :class:`RandomTopology`: bridges (some with VLAN segments), routers
linked to bridges and to each other, router uplinks, routes (ECMP groups, blackhole and reject
routes, source-restricted routes, gateways), stateless rule chains (address, protocol, port,
MAC, ToS, VLAN, fragment and IP address group conditions, inverted ones; accept, drop,
reject, continue, return, jump) set as filters on ports, bridges and routers, VM ports bound
on two hosts, and filled MAC and ARP tables. :func:`packets` draws packets entering its bound
ports: IPv4 TCP/UDP/ICMP and other protocols, ARP, fragments, VLAN tags, TTLs near expiry,
addresses mostly among those the topology's routes and rules name; each is sent twice, then
followed by variants that change one header or two (:func:`variant`), so that flows built
for one packet meet packets they must (or must not) take.

:func:`routed_topologies` draws tenants behind a provider router instead (:func:`build_routed`),
where many paths cross two or three routers.

Addresses: bridge ``b<i>`` serves 10.0.<i>.0/24 (VMs from .10, router ``r<j>`` at .<1+j>);
router ``r<j>``'s uplink is 192.168.<j>.1/24 (its neighbour .2); routers link over
172.16.<n>.0/30. Ids are readable names (``b0:2``, ``r1/route:3``, ``c2/rule0``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from random import Random
from typing import Any

from hypothesis import strategies as st

from ryu_midonet.builders import chains as chain_builder
from ryu_midonet.nsdb.schema import defaults
from ryu_midonet.sim.core.model import (
    ETH_ARP,
    ETH_IPV4,
    FIELDS,
    IP_ICMP,
    IP_TCP,
    IP_UDP,
    Packet,
)
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.state import State
from ryu_midonet.types import Obj
from tests.support.topology import MemoryTopology

HOSTS = {"hostA": "192.0.2.1", "hostB": "192.0.2.2"}
TUNNEL_ZONE = "tz"
BCAST = "ff:ff:ff:ff:ff:ff"
MCAST = "01:00:5e:00:00:fb"
ZERO_MAC = "00:00:00:00:00:00"
VLANS = (10, 20)
FAR = ("203.0.113.9", "203.0.113.200", "198.51.100.7", "8.8.8.8")  # beyond the routers
L4_PORTS = (22, 53, 80, 443, 1023, 1024, 5000, 40000, 65535)
CLOCK = 1000.0  # the tables' clock stands still: nothing ages out during a test


@dataclass(frozen=True)
class Endpoint:
    """An exterior port bound on a host, where packets enter: a VM (bridge port) or a
    router's uplink neighbour (router port). ``gateways`` are the router port MACs reachable
    from its segment."""

    port_id: str
    host: str
    mac: str
    ip: str
    gateways: tuple[str, ...] = ()


@dataclass
class RandomTopology:
    """A drawn topology, its state tables and where its ports are plugged."""

    builder: MemoryTopology
    state: State
    endpoints: list[Endpoint]
    bindings: dict[str, dict[str, int]]  # host -> {port id: OpenFlow port}
    underlay: dict[str, str] = field(default_factory=lambda: dict(HOSTS))
    macs: list[str] = field(default_factory=list)  # every MAC worth sending to or from
    ips: list[str] = field(default_factory=list)  # every address worth sending to or from

    @property
    def objects(self) -> dict[str, dict[str, Obj]]:
        return self.builder.objects

    def view(self) -> DictView:
        return self.builder.view()

    def __repr__(self) -> str:
        counts = ", ".join(f"{len(v)} {k}s" for k, v in sorted(self.objects.items()))
        return f"RandomTopology({counts})"

    def describe(self) -> str:
        """The whole topology and its tables, one object a line."""
        return describe(self.objects, self.state)


# -- strategies ----------------------------------------------------------------------------
# Each strategy draws a seeded random generator from hypothesis and builds from it: fast
# enough for hundreds of topologies a run, and reproducible (derandomized runs draw the same).


def topologies(max_bridges: int = 3, max_routers: int = 2) -> st.SearchStrategy[RandomTopology]:
    """A random topology (see the module's docstring)."""
    return st.randoms(use_true_random=True).map(
        lambda rnd: build_topology(rnd, max_bridges, max_routers))


def packets(topo: RandomTopology, max_base: int = 8, max_variants: int = 4
            ) -> st.SearchStrategy[list[tuple[str, Packet]]]:
    """(ingress port id, packet) in sending order: each drawn packet twice, then variants."""
    return st.randoms(use_true_random=True).map(
        lambda rnd: packet_sequence(rnd, topo, max_base, max_variants))


def build_topology(rnd: Random, max_bridges: int = 3, max_routers: int = 2) -> RandomTopology:
    """A random topology drawn with ``rnd``."""
    b = MemoryTopology()
    state = State.in_memory(clock=lambda: CLOCK)
    gen = _Gen(rnd, b, state)
    n_bridges = rnd.randint(1, max_bridges)
    n_routers = rnd.randint(0 if n_bridges > 1 else 1, max_routers)
    bridges = [gen.bridge(i) for i in range(n_bridges)]
    routers = [gen.router(j) for j in range(n_routers)]
    for j, router in enumerate(routers):
        for i, bridge in enumerate(bridges):
            if gen.chance(60):
                gen.link_router_bridge(router, j, bridge, i)
        if gen.chance(50):
            gen.uplink(router, j)
    for n, (r1, r2) in enumerate(zip(routers, routers[1:], strict=False)):
        if gen.chance(50):
            gen.link_routers(r1, r2, n)
    for router in routers:
        gen.routes(router)
    gen.chains()
    gen.tables()
    if not gen.endpoints:  # at least one bound port to send from
        gen.vm(bridges[0], 0, 9, host="hostA")
    return _bound(gen)


def routed_topologies() -> st.SearchStrategy[RandomTopology]:
    """A random provider topology (:func:`build_routed`)."""
    return st.randoms(use_true_random=True).map(build_routed)


def build_routed(rnd: Random) -> RandomTopology:
    """Tenants behind a provider router: provider router ``r0`` (with an uplink, sometimes)
    and two or three tenant routers, each with one or two bridges of VMs and linked to ``r0``
    directly (over 172.16.<n>.0/30) or through the provider bridge ``b9`` (10.0.9.0/24,
    ``r<j>`` at .<1+j>); each tenant's default route goes to ``r0``, ``r0`` routes each
    tenant's networks to its router, and a tenant router may link to the next tenant's
    router as well (a route to its networks that way). Random filters, filled tables (a few
    entries missing or stale), as :func:`build_topology`."""
    b = MemoryTopology()
    state = State.in_memory(clock=lambda: CLOCK)
    gen = _Gen(rnd, b, state)
    provider = gen.router(0)
    tenants = [gen.router(j) for j in range(1, rnd.randint(3, 4))]
    networks: dict[str, list[str]] = {}
    i = 0
    for j, tenant in enumerate(tenants, start=1):
        networks[tenant["id"]] = []
        for _ in range(rnd.randint(1, 2)):
            bridge = gen.bridge(i)
            gen.link_router_bridge(tenant, j, bridge, i)
            networks[tenant["id"]].append(f"10.0.{i}.0/24")
            i += 1
    pool = None
    for n, (j, tenant) in enumerate(enumerate(tenants, start=1)):
        if gen.chance(50):
            up, down = gen.router_link(provider, tenant, n)
        else:
            if pool is None:
                pool = b.bridge("b9")
                gen.vlans[pool["id"]] = False
                gen.prefixes.append("10.0.9.0/24")
                gen.link_router_bridge(provider, 0, pool, 9)
            gen.link_router_bridge(tenant, j, pool, 9)
            up, down = _port_on(b, provider["id"], pool), _port_on(b, tenant["id"], pool)
        b.route(tenant, "0.0.0.0/0", down, gw=up["portAddress"])
        for net in networks[tenant["id"]]:
            b.route(provider, net, up, gw=down["portAddress"])
    for n, (t1, t2) in enumerate(zip(tenants, tenants[1:], strict=False), start=len(tenants)):
        if gen.chance(40):
            one, two = gen.router_link(t1, t2, n)
            for net in networks[t2["id"]]:
                b.route(t1, net, one, gw=two["portAddress"])
            for net in networks[t1["id"]]:
                b.route(t2, net, two, gw=one["portAddress"])
    if gen.chance(50):
        gen.uplink(provider, 0)
        uplink = [p for p in b.view().ports_of(provider["id"]) if p.get("hostId")][0]
        b.route(provider, "0.0.0.0/0", uplink, gw="192.168.0.2")
    if gen.chance(30):  # a few random routes besides (blackholes, rejects, ECMP...)
        gen.routes(rnd.choice([provider, *tenants]))
    gen.chains()
    gen.tables()
    return _bound(gen)


def _port_on(b: MemoryTopology, router_id: str, bridge: Obj) -> Obj:
    """The port of router ``router_id`` linked to ``bridge``."""
    for port in b.view().ports_of(router_id):
        peer = b.objects["port"].get(port.get("peerId") or "")
        if peer is not None and peer["deviceId"] == bridge["id"]:
            return port
    raise ValueError(f"{router_id} is not linked to {bridge['id']}")


def _bound(gen: _Gen) -> RandomTopology:
    """The topology ``gen`` built, in a tunnel zone, its ports given tunnel keys and bound
    ports OpenFlow numbers."""
    b, state = gen.b, gen.state
    b._put("tunnelZone", TUNNEL_ZONE, name=TUNNEL_ZONE, type="vxlan", hostIds=list(HOSTS),
           tzHosts=[{"hostId": h, "ipAddress": ip} for h, ip in HOSTS.items()])
    bindings: dict[str, dict[str, int]] = {h: {} for h in HOSTS}
    for key, port_id in enumerate(sorted(b.objects["port"]), start=1):
        port = b.objects["port"][port_id]
        port["tunnelKey"] = key
        if port.get("hostId") in bindings and not port.get("peerId"):
            ports = bindings[port["hostId"]]
            ports[port_id] = len(ports) + 1
    return RandomTopology(b, state, list(gen.endpoints), bindings,
                          macs=sorted(set(gen.macs)), ips=sorted(set(gen.ips)))


def packet_sequence(rnd: Random, topo: RandomTopology, max_base: int = 8,
                    max_variants: int = 4) -> list[tuple[str, Packet]]:
    """(ingress port id, packet) in sending order: each drawn packet twice, then variants."""
    out: list[tuple[str, Packet]] = []
    for _ in range(rnd.randint(1, max_base)):
        where = rnd.choice(topo.endpoints)
        base = packet_from(rnd, topo, where)
        out += [(where.port_id, base), (where.port_id, base)]
        for _ in range(rnd.randint(0, max_variants)):
            out.append((where.port_id, variant(rnd, topo, where, base)))
    return out


def packet_from(rnd: Random, topo: RandomTopology, where: Endpoint) -> Packet:
    """One packet a host behind ``where`` could send (or a stranger spoofing it)."""
    macs = topo.macs or [where.mac]
    ips = topo.ips or [where.ip]
    eth_src = _pick(rnd, (8, where.mac), (1, lambda: rnd.choice(macs)),
                    (1, lambda: _unicast_mac(rnd)), (1, MCAST))
    gateways = list(where.gateways) or macs
    eth_dst = _pick(rnd, (5, lambda: rnd.choice(gateways)), (3, lambda: rnd.choice(macs)),
                    (1, BCAST), (1, MCAST), (1, lambda: _unicast_mac(rnd)))
    vlan = _pick(rnd, (8, None), (2, lambda: rnd.choice((*VLANS, 99))))
    if rnd.random() < 0.18:
        return _arp(rnd, topo, where, eth_src, eth_dst, vlan)
    src = _pick(rnd, (7, where.ip), (2, lambda: rnd.choice(ips)), (1, lambda: _any_ip(rnd)))
    dst = _pick(rnd, (8, lambda: rnd.choice(ips)), (1, lambda: rnd.choice(FAR)),
                (1, lambda: _any_ip(rnd)))
    fields: dict[str, Any] = {
        "eth_src": eth_src, "eth_dst": eth_dst, "vlan_vid": vlan, "eth_type": ETH_IPV4,
        "ipv4_src": src, "ipv4_dst": dst,
        "nw_ttl": rnd.choice((64, 64, 64, 1, 2, 3, 255)),
        "ip_dscp": rnd.choice((0, 0, 0, 46, 10)),
        "ip_ecn": rnd.choice((0, 0, 1, 3)),
    }
    fields.update(_l4(rnd))
    return Packet(**fields)


def _l4(rnd: Random) -> dict[str, Any]:
    """Protocol, fragment and L4 fields, consistent with each other (a later fragment has no
    L4 header)."""
    proto = rnd.choice((IP_TCP, IP_TCP, IP_UDP, IP_UDP, IP_ICMP, IP_ICMP, 47))
    frag = _pick(rnd, (8, "no"), (1, "first"), (1, "later"))
    out: dict[str, Any] = {"ip_proto": proto, "ip_frag": frag}
    if frag == "later":
        return out

    def port() -> int:
        return rnd.choice(L4_PORTS) if rnd.random() < 0.8 else rnd.randint(1, 65535)

    if proto == IP_TCP:
        out.update(tcp_src=port(), tcp_dst=port())
    elif proto == IP_UDP:
        out.update(udp_src=port(), udp_dst=port())
    elif proto == IP_ICMP:
        out.update(icmpv4_type=rnd.choice((8, 8, 0, 3, 11, 13)),
                   icmpv4_code=rnd.choice((0, 0, 1, 3, 4)))
    return out


def _arp(rnd: Random, topo: RandomTopology, where: Endpoint, eth_src: str, eth_dst: str,
         vlan: int | None) -> Packet:
    ips = topo.ips or [where.ip]
    op = rnd.choice((1, 1, 2))
    spa = _pick(rnd, (4, where.ip), (1, lambda: rnd.choice(ips)))
    tpa = _pick(rnd, (4, lambda: rnd.choice(ips)), (1, spa))
    tha = ZERO_MAC if op == 1 else rnd.choice([eth_dst, *topo.macs])
    return Packet(eth_src=eth_src, eth_dst=eth_dst, vlan_vid=vlan, eth_type=ETH_ARP,
                  arp_op=op, arp_sha=eth_src, arp_spa=spa, arp_tha=tha, arp_tpa=tpa)


def variant(rnd: Random, topo: RandomTopology, where: Endpoint, base: Packet) -> Packet:
    """``base`` with one header (or two) changed to another value worth trying: what a flow
    built for ``base`` must take, or leave to the agent, depending on what its decision
    read. Packets stay consistent (a later fragment has no L4 header)."""
    packet = base
    for _ in range(rnd.choice((1, 1, 1, 2))):
        packet = rnd.choice(MUTATIONS)(rnd, topo, where, packet)
    return packet


Mutation = Callable[[Random, RandomTopology, Endpoint, Packet], Packet]


def prober(rnd: Random, topo: RandomTopology, n: int = 4
           ) -> Callable[[str, Packet, Mapping[str, Any]], list[Packet]]:
    """A ``probe`` for :func:`tests.support.flowcheck.check`: up to ``n`` variants of a
    packet that change only fields the flow built for it does not match."""
    endpoints = {e.port_id: e for e in topo.endpoints}

    def probe(port_id: str, packet: Packet, match: Mapping[str, Any]) -> list[Packet]:
        where = endpoints.get(port_id)
        out: list[Packet] = []
        for _ in range(4 * n):
            if where is None or len(out) >= n:
                break
            probed = rnd.choice(MUTATIONS)(rnd, topo, where, packet)
            changed = {f for f in FIELDS if getattr(probed, f) != getattr(packet, f)}
            if changed and not changed & match.keys() and probed not in out:
                out.append(probed)
        return out

    return probe


def _eth_src(rnd: Random, topo: RandomTopology, where: Endpoint, p: Packet) -> Packet:
    return p.replace(eth_src=rnd.choice([*topo.macs, _unicast_mac(rnd), MCAST]))


def _eth_dst(rnd: Random, topo: RandomTopology, where: Endpoint, p: Packet) -> Packet:
    return p.replace(eth_dst=rnd.choice([*where.gateways, *topo.macs, MCAST]))


def _vlan_vid(rnd: Random, topo: RandomTopology, where: Endpoint, p: Packet) -> Packet:
    return p.replace(vlan_vid=rnd.choice([v for v in (None, *VLANS, 99) if v != p.vlan_vid]))


def _eth_type(rnd: Random, topo: RandomTopology, where: Endpoint, p: Packet) -> Packet:
    other = packet_from(rnd, topo, where)
    return other.replace(eth_src=p.eth_src, eth_dst=p.eth_dst, vlan_vid=p.vlan_vid)


def _ip_src(rnd: Random, topo: RandomTopology, where: Endpoint, p: Packet) -> Packet:
    if p.eth_type == ETH_ARP:
        return p.replace(arp_spa=rnd.choice(topo.ips or [where.ip]))
    return p.replace(ipv4_src=_pick(rnd, (4, lambda: rnd.choice(topo.ips or [where.ip])),
                                    (1, lambda: rnd.choice(FAR)), (1, lambda: _any_ip(rnd))))


def _ip_dst(rnd: Random, topo: RandomTopology, where: Endpoint, p: Packet) -> Packet:
    if p.eth_type == ETH_ARP:
        return p.replace(arp_tpa=rnd.choice(topo.ips or [where.ip]))
    return p.replace(ipv4_dst=_pick(rnd, (4, lambda: rnd.choice(topo.ips or [where.ip])),
                                    (1, lambda: rnd.choice(FAR)), (1, lambda: _any_ip(rnd))))


def _ttl(rnd: Random, topo: RandomTopology, where: Endpoint, p: Packet) -> Packet:
    if p.eth_type == ETH_ARP:
        return p.replace(arp_op=3 - (p.arp_op or 1))
    return p.replace(nw_ttl=rnd.choice((1, 2, 3, 64, 255)))


def _new_tos(rnd: Random, topo: RandomTopology, where: Endpoint, p: Packet) -> Packet:
    if p.eth_type == ETH_ARP:
        return p.replace(arp_tha=rnd.choice([ZERO_MAC, *topo.macs]))
    if rnd.random() < 0.5:  # one at a time: a flow may match either alone
        return p.replace(ip_dscp=rnd.choice([d for d in (0, 46, 10) if d != p.ip_dscp]))
    return p.replace(ip_ecn=rnd.choice([e for e in (0, 1, 3) if e != p.ip_ecn]))


def _l4_src(rnd: Random, topo: RandomTopology, where: Endpoint, p: Packet) -> Packet:
    if p.ip_proto == IP_TCP and p.tcp_src is not None:
        return p.replace(tcp_src=rnd.choice(L4_PORTS))
    if p.ip_proto == IP_UDP and p.udp_src is not None:
        return p.replace(udp_src=rnd.choice(L4_PORTS))
    if p.ip_proto == IP_ICMP and p.icmpv4_type is not None:
        return p.replace(icmpv4_type=rnd.choice((0, 3, 8, 11, 13)))
    return _new_proto(rnd, topo, where, p)


def _l4_dst(rnd: Random, topo: RandomTopology, where: Endpoint, p: Packet) -> Packet:
    if p.ip_proto == IP_TCP and p.tcp_dst is not None:
        return p.replace(tcp_dst=rnd.choice(L4_PORTS))
    if p.ip_proto == IP_UDP and p.udp_dst is not None:
        return p.replace(udp_dst=rnd.choice(L4_PORTS))
    if p.ip_proto == IP_ICMP and p.icmpv4_code is not None:
        return p.replace(icmpv4_code=rnd.choice((0, 1, 3, 4)))
    return _new_proto(rnd, topo, where, p)


_NO_L4 = dict.fromkeys(("tcp_src", "tcp_dst", "udp_src", "udp_dst", "icmpv4_type",
                        "icmpv4_code"))


def _new_proto(rnd: Random, topo: RandomTopology, where: Endpoint, p: Packet) -> Packet:
    if p.eth_type == ETH_ARP:
        return _ip_dst(rnd, topo, where, p)
    return p.replace(**{**_NO_L4, **_l4(rnd)})


def _frag(rnd: Random, topo: RandomTopology, where: Endpoint, p: Packet) -> Packet:
    if p.eth_type == ETH_ARP:
        return _ip_src(rnd, topo, where, p)
    frag = rnd.choice([f for f in ("no", "first", "later") if f != p.ip_frag])
    if frag == "later":
        return p.replace(ip_frag=frag, **_NO_L4)
    if p.ip_frag == "later":  # the L4 header comes back
        l4 = _l4(rnd)
        while l4["ip_frag"] == "later" or l4["ip_proto"] != p.ip_proto:
            l4 = _l4(rnd)
        return p.replace(**{**l4, "ip_frag": frag})
    return p.replace(ip_frag=frag)


MUTATIONS: tuple[Mutation, ...] = (
    _eth_src, _eth_dst, _vlan_vid, _eth_type, _ip_src, _ip_src, _ip_dst, _ip_dst, _ttl, _new_tos,
    _l4_src, _l4_src, _l4_dst, _l4_dst, _new_proto, _frag,
)


def _pick(rnd: Random, *options: tuple[int, Any]) -> Any:
    """One of the options (a value, or a function giving one), chosen by weight."""
    total = sum(weight for weight, _ in options)
    n = rnd.randrange(total)
    for weight, option in options:
        if n < weight:
            return option() if callable(option) else option
        n -= weight
    raise AssertionError("unreachable")


def _unicast_mac(rnd: Random) -> str:
    n = rnd.randrange(0x10000)
    return f"02:77:00:00:{n >> 8:02x}:{n & 0xFF:02x}"


def _any_ip(rnd: Random) -> str:
    return str(ipaddress.IPv4Address(rnd.randint(0x0A000000, 0x0A0003FF)))


# -- building ------------------------------------------------------------------------------


class _Gen:
    """Builds one topology from a random generator."""

    def __init__(self, rnd: Random, b: MemoryTopology, state: State) -> None:
        self.rnd = rnd
        self.b = b
        self.state = state
        self.endpoints: list[Endpoint] = []
        self.macs: list[str] = [BCAST]
        self.ips: list[str] = []
        self.prefixes: list[str] = ["0.0.0.0/0", "10.0.0.0/16", "203.0.113.0/24",
                                    "203.0.113.128/25", "198.51.100.7/32"]
        self.vlans: dict[str, bool] = {}  # bridge id -> has VLAN segments
        self.neighbours: dict[str, list[tuple[str, str, str]]] = {}  # router -> (port, ip, mac)

    def chance(self, percent: int) -> bool:
        return self.rnd.randrange(100) < percent

    def segment(self, bridge: Obj) -> int | None:
        if not self.vlans[bridge["id"]]:
            return None
        vlan: int | None = self.rnd.choice((None, *VLANS))
        return vlan

    def bridge(self, i: int) -> Obj:
        bridge = self.b.bridge(f"b{i}", adminStateUp=not self.chance(3))
        self.vlans[bridge["id"]] = self.chance(30)
        self.prefixes += [f"10.0.{i}.0/24", f"10.0.{i}.128/25"]
        for k in range(self.rnd.randint(1, 3)):
            self.vm(bridge, i, k)
        return bridge

    def vm(self, bridge: Obj, i: int, k: int, host: str | None = None) -> Endpoint:
        if host is None:
            host = self.rnd.choice(sorted(HOSTS))
            if self.chance(5):
                host = None  # an exterior port bound nowhere
        port = self.b.bridge_port(bridge, host=host, vlanId=self.segment(bridge),
                                  adminStateUp=not self.chance(3))
        mac, ip = f"02:00:00:00:{i:02x}:{10 + k:02x}", f"10.0.{i}.{10 + k}"
        self.macs.append(mac)
        self.ips.append(ip)
        self.prefixes.append(f"{ip}/32")
        endpoint = Endpoint(port["id"], host or "", mac, ip)
        if host:
            self.endpoints.append(endpoint)
        return endpoint

    def router(self, j: int) -> Obj:
        self.neighbours[f"r{j}"] = []
        return self.b.router(f"r{j}", adminStateUp=not self.chance(3))

    def link_router_bridge(self, router: Obj, j: int, bridge: Obj, i: int) -> None:
        mac = f"02:00:00:{j + 1:02x}:{i:02x}:01"
        rport = self.b.router_port(router, f"10.0.{i}.{1 + j}/24", mac,
                                   adminStateUp=not self.chance(3))
        bport = self.b.bridge_port(bridge, host=None, vlanId=self.segment(bridge))
        self.b.link(bport, rport)
        self.macs.append(mac)
        self.ips.append(rport["portAddress"])
        segment = bport.get("vlanId") or None
        for n, e in enumerate(self.endpoints):
            port = self.b.objects["port"][e.port_id]
            if port["deviceId"] == bridge["id"] and (port.get("vlanId") or None) == segment:
                self.endpoints[n] = Endpoint(e.port_id, e.host, e.mac, e.ip,
                                             (*e.gateways, mac))
            if port["deviceId"] == bridge["id"]:
                self.neighbours[router["id"]].append((rport["id"], e.ip, e.mac))

    def uplink(self, router: Obj, j: int) -> None:
        host = self.rnd.choice(sorted(HOSTS))
        mac, peer_mac = f"02:00:00:{j + 1:02x}:ff:01", f"02:ee:00:00:00:{j:02x}"
        port = self.b.router_port(router, f"192.168.{j}.1/24", mac, host=host,
                                  interfaceName=f"up{j}")
        self.macs += [mac, peer_mac]
        self.ips += [f"192.168.{j}.1", f"192.168.{j}.2"]
        self.prefixes.append(f"192.168.{j}.0/24")
        self.neighbours[router["id"]].append((port["id"], f"192.168.{j}.2", peer_mac))
        self.endpoints.append(Endpoint(port["id"], host, peer_mac, f"192.168.{j}.2", (mac,)))

    def link_routers(self, r1: Obj, r2: Obj, n: int) -> None:
        self.router_link(r1, r2, n)

    def router_link(self, r1: Obj, r2: Obj, n: int) -> tuple[Obj, Obj]:
        """Link two routers over 172.16.<n>.0/30; their two ports."""
        ports = []
        for k, router in enumerate((r1, r2), start=1):
            mac = f"02:00:00:{int(router['id'][1:]) + 1:02x}:{0x80 + n:02x}:{k:02x}"
            ports.append(self.b.router_port(router, f"172.16.{n}.{k}/30", mac))
            self.macs.append(mac)
            self.ips.append(f"172.16.{n}.{k}")
        self.b.link(ports[0], ports[1])
        self.prefixes.append(f"172.16.{n}.0/30")
        return ports[0], ports[1]

    def routes(self, router: Obj) -> None:
        ports = self.b.view().ports_of(router["id"])
        for _ in range(self.rnd.randint(0, 5)):
            dst = self.rnd.choice(self.prefixes)
            src = self.rnd.choice(self.prefixes) if self.chance(20) else "0.0.0.0/0"
            kind = self.rnd.choice(("Normal",) * 6 + ("BlackHole", "Reject"))
            weight = self.rnd.choice((100, 100, 0, 50, 200))
            siblings = self.rnd.choice((1, 1, 2, 2, 3))  # ECMP: several, other next hops
            hops = self.rnd.sample(ports, min(siblings, len(ports))) if ports else []
            for n in range(siblings):
                port = hops[n % len(hops)] if hops and kind == "Normal" else None
                self.b.route(router, dst, port, gw=self._gateway(port), src=src,
                             weight=weight, type=kind)

    def _gateway(self, port: Obj | None) -> str | None:
        if port is None or not self.chance(40):
            return None
        net = ipaddress.IPv4Network(f"{port['portAddress']}/{port['networkLength']}",
                                    strict=False)
        hosts = [str(h) for h in list(net.hosts())[:12] if str(h) != port["portAddress"]]
        choice: str = self.rnd.choice([*hosts, "0.0.0.0", "10.9.9.9"])
        return choice

    # -- chains --------------------------------------------------------------------------
    def chains(self) -> None:
        for k in range(self.rnd.randint(0, 2)):
            pool = [*self.ips, *FAR]
            chain_builder.ip_group(self.b, f"g{k}",
                                   self.rnd.sample(pool, min(len(pool), self.rnd.randint(1, 4))))
        chains = [chain_builder.chain(self.b, f"c{k}") for k in range(self.rnd.randint(0, 4))]
        for chain in chains:
            for _ in range(self.rnd.randint(1, 5)):
                self.rule(chain, chains)
        if not chains:
            return
        for kind in ("port", "bridge", "router"):
            for obj in self.b.objects.get(kind, {}).values():
                for side in ("inboundFilterId", "outboundFilterId"):
                    if self.chance(12 if kind == "port" else 20):
                        obj[side] = self.rnd.choice(chains)["id"]

    def rule(self, chain: Obj, chains: list[Obj]) -> None:
        kind = self.rnd.choice(("accept", "drop", "drop", "reject", "continue", "return",
                                "jump"))
        fields: dict[str, Any] = {}
        if kind == "jump":
            fields["jumpChainId"] = self.rnd.choice(chains)["id"]
        for _ in range(self.rnd.choice((0, 1, 1, 2, 2, 3))):
            self.rnd.choice(CONDITIONS)(self, fields)
        if fields.get("nwProto") == IP_ICMP:  # the ranges hold ICMP types and codes then
            for side in ("tpSrc", "tpDst"):
                if fields.get(side) is not None and fields[side]["end"] > 255:
                    fields[side] = {"start": 0, "end": 8}
        if self.chance(8):
            fields["condInvert"] = True
        if fields.get("tpSrc") is None and fields.get("tpDst") is None:
            policy = self.rnd.choice((None,) * 6 + ("any", "header", "nonheader",
                                                    "unfragmented"))
        else:
            policy = self.rnd.choice((None, None, "header", "unfragmented"))
        if policy:
            fields["fragmentPolicy"] = policy
        chain_builder.rule(self.b, chain, kind, **fields)

    # -- tables --------------------------------------------------------------------------
    def tables(self) -> None:
        ports = self.b.objects["port"]
        for e in self.endpoints:
            port = ports[e.port_id]
            if port["type"] != "Bridge" or self.chance(15):
                continue
            bridge = port["deviceId"]
            where = port
            if self.chance(6):  # stale: learned behind another port of the bridge
                where = self.rnd.choice(self.b.view().ports_of(bridge))
            self.state.macs.learn(bridge, e.mac, port.get("vlanId") or None, where["id"])
        for router, known in self.neighbours.items():
            for _, ip, mac in known:
                if self.chance(80):
                    wrong = self.chance(5)
                    self.state.arps.put(router, ip, "02:77:77:77:77:77" if wrong else mac)
        for route in self.b.objects.get("route", {}).values():
            gw = route.get("nextHopGateway")
            if gw and gw != "0.0.0.0" and self.chance(70):
                self.state.arps.put(route["routerId"], gw, f"02:99:00:00:00:{len(gw):02x}")


# -- conditions ------------------------------------------------------------------------------


def _inv(g: _Gen, fields: dict[str, Any], flag: str) -> None:
    if g.chance(25):
        fields[flag] = True


def _proto(g: _Gen, fields: dict[str, Any]) -> None:
    fields["nwProto"] = g.rnd.choice((IP_TCP, IP_UDP, IP_ICMP))
    _inv(g, fields, "invNwProto")


def _cidr(side: str) -> Callable[[_Gen, dict[str, Any]], None]:
    def condition(g: _Gen, fields: dict[str, Any]) -> None:
        net = ipaddress.IPv4Network(g.rnd.choice(g.prefixes), strict=False)
        fields[f"nw{side}Address"] = str(net.network_address)
        fields[f"nw{side}Length"] = net.prefixlen
        _inv(g, fields, f"invNw{side}")
    return condition


def _tp(side: str) -> Callable[[_Gen, dict[str, Any]], None]:
    def condition(g: _Gen, fields: dict[str, Any]) -> None:
        if fields.get("nwProto") == IP_ICMP:
            start, end = g.rnd.choice(((8, 8), (0, 0), (3, 3), (0, 10), (11, 255)))
        else:
            start, end = g.rnd.choice(((80, 80), (1, 1023), (1024, 65535), (53, 53),
                                       (22, 443), (5000, 5000)))
        fields[f"tp{side}"] = {"start": start, "end": end}
        _inv(g, fields, f"invTp{side}")
    return condition


def _dl_type(g: _Gen, fields: dict[str, Any]) -> None:
    fields["dlType"] = g.rnd.choice((ETH_IPV4, ETH_ARP))
    _inv(g, fields, "invDlType")


def _mac(side: str) -> Callable[[_Gen, dict[str, Any]], None]:
    def condition(g: _Gen, fields: dict[str, Any]) -> None:
        fields[f"dl{side}"] = g.rnd.choice(g.macs)
        mask = g.rnd.choice((None, None, "ffff.ffff.0000", "0000.0000.0000", "ffff.ffff.ffff"))
        if mask:
            fields[f"dl{side}Mask"] = mask
        _inv(g, fields, f"invDl{side}")
    return condition


def _tos(g: _Gen, fields: dict[str, Any]) -> None:
    fields["nwTos"] = g.rnd.choice((184, 185, 40, 1, 3, 0))  # DSCP 46/10/0, with ECN bits
    _inv(g, fields, "invNwTos")


def _vlan(g: _Gen, fields: dict[str, Any]) -> None:
    if g.chance(50):
        fields["noVlan"] = True
    else:
        fields["vlan"] = g.rnd.choice(VLANS)


def _ports(side: str) -> Callable[[_Gen, dict[str, Any]], None]:
    def condition(g: _Gen, fields: dict[str, Any]) -> None:
        ids = sorted(g.b.objects["port"])
        fields[f"{side}Ports"] = g.rnd.sample(ids, min(len(ids), g.rnd.randint(1, 3)))
        _inv(g, fields, f"inv{side.capitalize()}Ports")
    return condition


def _traversed(g: _Gen, fields: dict[str, Any]) -> None:
    devices = sorted([*g.b.objects.get("bridge", {}), *g.b.objects.get("router", {})])
    fields["traversedDevice"] = g.rnd.choice(devices)
    _inv(g, fields, "invTraversedDevice")


def _ip_group(side: str) -> Callable[[_Gen, dict[str, Any]], None]:
    def condition(g: _Gen, fields: dict[str, Any]) -> None:
        groups = sorted(g.b.objects.get("ipAddrGroup", {}))
        fields[f"ipAddrGroup{side}"] = g.rnd.choice([*groups, "missing-group"])
        _inv(g, fields, f"invIpAddrGroup{side}")
    return condition


CONDITIONS: tuple[Callable[[_Gen, dict[str, Any]], None], ...] = (
    _proto, _proto, _cidr("Src"), _cidr("Dst"), _cidr("Dst"), _tp("Src"), _tp("Dst"),
    _tp("Dst"), _dl_type, _mac("Src"), _mac("Dst"), _tos, _vlan, _ports("in"),
    _ports("out"), _traversed, _ip_group("Src"), _ip_group("Dst"),
)


# -- description -----------------------------------------------------------------------------


def describe(objects: dict[str, dict[str, Obj]], state: State) -> str:
    """Every object with the fields that differ from the store's defaults, and the MAC and
    ARP tables, one line each."""
    lines: list[str] = []
    for kind in ("bridge", "router", "port", "route", "chain", "rule", "ipAddrGroup"):
        base = defaults(kind)
        for obj_id in sorted(objects.get(kind, {})):
            obj = objects[kind][obj_id]
            shown = {k: v for k, v in obj.items()
                     if k not in ("id", "name", "tunnelKey", "interfaceName") and v != base.get(k)
                     and not (kind == "route" and k == "routerId")}
            lines.append(f"{kind} {obj_id}: " + _short(shown, kind))
    for bridge in sorted(objects.get("bridge", {})):
        for (mac, vlan), port in sorted(state.macs.entries(bridge).items(),
                                        key=lambda kv: (kv[0][0], kv[0][1] or 0)):
            lines.append(f"mac {bridge}: {mac} vlan {vlan} -> {port}")
    for router in sorted(objects.get("router", {})):
        for ip, mac in sorted(state.arps.entries(router).items()):
            lines.append(f"arp {router}: {ip} -> {mac}")
    return "\n".join(lines)


def _short(fields: dict[str, Any], kind: str) -> str:
    if kind == "route":
        text = (f"{fields.get('type', 'Normal')} {fields.get('dstNetworkAddr')}/"
                f"{fields.get('dstNetworkLength')}")
        if fields.get("srcNetworkLength"):
            text += f" from {_src(fields)}"
        rest = {k: v for k, v in fields.items() if k not in (
            "type", "dstNetworkAddr", "dstNetworkLength", "srcNetworkAddr", "srcNetworkLength")}
        return text + " " + " ".join(f"{k}={v}" for k, v in rest.items())
    return " ".join(f"{k}={v}" for k, v in fields.items())


def _src(fields: dict[str, Any]) -> str:
    return f"{fields.get('srcNetworkAddr', '0.0.0.0')}/{fields['srcNetworkLength']}"
