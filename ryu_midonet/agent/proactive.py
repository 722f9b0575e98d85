"""Proactive flows: the stateless L2/L3 paths of local ports, installed before any packet.

For every bridge port bound on this host and every MAC its bridge's MAC table has behind that
port (learned, or static: entered through the API before the VM sent anything), the compiler
simulates one representative packet (an ICMP echo request) toward each known destination:

- L2: every other entry of the bridge's MAC table on the port's VLAN segment;
- L3: for every router linked to the bridge on that segment (the first hop), every live
  entry of the ARP tables of that router and of the routers beyond it, and every address the
  bridges linked to them know without hearing it (DHCP host entries,
  :func:`~ryu_midonet.sim.devices.bridge.known_addresses`) whose MAC their MAC table has,
  off the first hop's network (to the first hop's MAC, IPv4 to that address), nearest
  routers first. Routers
  beyond are those linked to a router already reached, directly (router-to-router links) or
  through a bridge (a provider router and its tenants), at most :data:`MAX_ROUTERS` on a
  path; the addresses of their own ports are left out (a router answers those itself).
  Which of them a path really reaches, and how, the simulation decides.
- ARP: when the bridge knows the MAC's address (its DHCP host entry), a broadcast ARP
  request from it for the address of each router port linked on the segment and for each
  address the bridge knows, and to each such router port's MAC for its address (a VM
  checking its gateway is still there): the answer is an ARP responder flow
  (:class:`~ryu_midonet.sim.core.model.ArpAnswer`), so that a VM that never sent anything
  resolves its gateway and its neighbours without reaching the agent.

The simulator decides, on a read-only copy of the state tables (nothing is learned, no ARP
entry and no flow state is written, see :class:`ReadOnlyState`), and its result becomes a
flow exactly as on a table miss -- the translator's megaflow, tagged in the
:class:`~ryu_midonet.agent.flowindex.FlowIndex` with what the decision depended on -- but
with no packet-out. A result is installed only when it is stateless and general: cacheable,
it consulted no flow state (connection tracking, NAT), generated and held nothing, every
output has a location, it rewrites nothing but MACs, the VLAN tag and the TTL (no NAT), and
it read no header field beyond the Ethernet addresses, the VLAN, the ethertype and the IPv4
addresses that are real (known from the routers' ARP tables or the bridges' DHCP host
entries), or, for an ARP request answered in place, its operation, addresses and sender
MAC.
Anything narrower (protocol, L4 ports, fragments, TTL) is left to the reactive path.

Proactive flows have no idle timeout: they go when something they were built from changes
(their tags), and the local ports that may be concerned are compiled again -- a port that
was plugged; for a MAC entry of bridge B (learned or static), the local ports of B and of
the bridges linked to B's ports (a VLAN-aware bridge and its VUBs) and of the bridges linked
to the routers reached from B (as above); for an ARP entry of router R,
the local ports of the bridges linked to the routers reached from R; after a topology change
(DHCP host entries included) or a switch (re)connection, every local port. Compiling a port
simulates only the destinations whose flow is not on the switch, and installs at most
``max_per_port`` flows for it.

A flow through several routers decrements the TTL once per router; a packet whose TTL runs
out on the way reaches the agent, which answers for the right router (see
:mod:`ryu_midonet.datapath.translator`).
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.flowsource import FlowSource, decision_tags
from ryu_midonet.agent.locator import Locator
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.flows import FlowDelete, FlowSpec, Message
from ryu_midonet.datapath.pipeline import PRIORITY_PROACTIVE
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import (
    ETH_ARP,
    ETH_IPV4,
    IP_ICMP,
    Packet,
    Result,
    Rewrite,
    RewriteOp,
)
from ryu_midonet.sim.core.packets import ARP_REQUEST, BROADCAST_MAC, is_multicast
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.devices.bridge import known_addresses, segment
from ryu_midonet.sim.state import ArpTable, Ip4MacTable, MacTable, State
from ryu_midonet.types import Obj

LOG = logging.getLogger(__name__)

DEFAULT_MAX_PER_PORT = 256
ATTEMPTS_PER_FLOW = 4  # simulations per port and pass, per flow it may still get
MAX_ROUTERS = 4  # routers on one pre-computed path, at most
ECHO_REQUEST = 8
PLACEHOLDER_IP = "0.0.0.0"  # an address nobody is known to have: its flows are refused
# Header fields a proactive flow may match besides in_port (IPv4 addresses only when real).
GENERAL_FIELDS = frozenset({"eth_src", "eth_dst", "vlan_vid", "eth_type"})
# An ARP request's fields an ARP responder flow matches (it answers one asker, for one address).
ARP_FIELDS = GENERAL_FIELDS | {"arp_op", "arp_spa", "arp_tpa", "arp_sha"}
NO_MAC = "00:00:00:00:00:00"
PLAIN_SETS = frozenset({"eth_src", "eth_dst", "vlan_vid"})  # header fields a flow may set

FlowKey = tuple[str, int, str, str, str | None]  # port, ofport, eth_src, eth_dst, ipv4_dst


# -- a state the simulation cannot change ----------------------------------------------------

class _ReadOnlyMacs:
    """A MAC table that answers from the real one and learns nothing."""

    def __init__(self, macs: MacTable) -> None:
        self._macs = macs

    def get(self, bridge_id: str, mac: str, vlan: int | None) -> str | None:
        return self._macs.get(bridge_id, mac, vlan)

    def learn(self, bridge_id: str, mac: str, vlan: int | None, port_id: str) -> bool:
        return False

    def forget(self, bridge_id: str, mac: str, vlan: int | None) -> bool:
        return False

    def entries(self, bridge_id: str) -> dict[tuple[str, int | None], str]:
        return self._macs.entries(bridge_id)

    def expire(self) -> int:
        return 0


class _ReadOnlyArps:
    """An ARP table that answers from the real one and records nothing."""

    def __init__(self, arps: ArpTable) -> None:
        self._arps = arps

    def get(self, router_id: str, ip: str) -> str | None:
        return self._arps.get(router_id, ip)

    def put(self, router_id: str, ip: str, mac: str) -> bool:
        return False

    def forget(self, router_id: str, ip: str) -> bool:
        return False

    def entries(self, router_id: str) -> dict[str, str]:
        return self._arps.entries(router_id)

    def expire(self) -> int:
        return 0


class _ReadOnlyIp4Macs:
    """A bridge ARP table that answers from the real one and learns nothing."""

    def __init__(self, ip4macs: Ip4MacTable) -> None:
        self._ip4macs = ip4macs

    def get(self, bridge_id: str, ip: str) -> str | None:
        return self._ip4macs.get(bridge_id, ip)

    def learn(self, bridge_id: str, ip: str, mac: str) -> bool:
        return False

    def forget(self, bridge_id: str, ip: str) -> bool:
        return False

    def entries(self, bridge_id: str) -> dict[str, str]:
        return self._ip4macs.entries(bridge_id)

    def expire(self) -> int:
        return 0


class _Untouchable:
    """Flow state and SNAT leases that remember being used: a decision that consults them is
    stateful, and no proactive flow is built from it. Nothing is read or written."""

    def __init__(self) -> None:
        self.touched = False

    def _touch(self) -> None:
        self.touched = True

    # the flow-state table
    def get(self, key: str) -> str | None:
        self._touch()
        return None

    def put(self, key: str, value: str) -> bool:
        self._touch()
        return True

    def put_new(self, key: str, value: str) -> bool:
        self._touch()
        return True

    def delete(self, key: str) -> bool:
        self._touch()
        return False

    def refresh(self, keys: Iterable[str]) -> int:
        return 0

    def live(self, keys: Iterable[str]) -> set[str]:
        self._touch()
        return set()

    def expire(self) -> int:
        return 0

    # the SNAT port leaser
    def candidates(self, ip: str, lo: int, hi: int) -> Iterator[int]:
        self._touch()
        return iter(())

    def in_use(self, key: str) -> bool:
        self._touch()
        return True

    def used(self, ip: str, port: int, key: str) -> None:
        self._touch()

    def maintain(self, flows: Any) -> int:
        return 0

    # the ports of source NAT in the datapath
    def range_for(self, ip: str, lo: int, hi: int, out_port: Obj,
                  scope: str) -> tuple[int, int] | None:
        self._touch()
        return None


class ReadOnlyState:
    """The tables of ``state`` as a pre-simulation may use them: MAC and ARP entries (the
    bridges' ARP tables too) are read, never written; flow state, SNAT leases and datapath NAT
    ranges are neither, but :attr:`stateful` says whether the simulation asked for them."""

    def __init__(self, state: State) -> None:
        self._stateful = _Untouchable()
        self.state = State(_ReadOnlyMacs(state.macs), _ReadOnlyArps(state.arps),
                           cast(Any, self._stateful), cast(Any, self._stateful),
                           ip4macs=_ReadOnlyIp4Macs(state.ip4macs))
        if getattr(state, "nat_ranges", None) is not None:  # NAT in the datapath: stateful
            self.state.nat_ranges = cast(Any, self._stateful)

    @property
    def stateful(self) -> bool:
        return self._stateful.touched


# -- what to simulate ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    """One representative packet from a local port, and the fields its flow may match."""

    key: FlowKey
    packet: Packet
    general: frozenset[str]


def probe(port_id: str, ofport: int, src: str, dst: str, src_ip: str | None,
          dst_ip: str | None) -> Probe:
    """An ICMP echo request from ``src`` to ``dst``; IPv4 addresses not known are
    placeholders, and a flow that depends on them is not general."""
    packet = Packet(eth_src=src, eth_dst=dst, eth_type=ETH_IPV4,
                    ipv4_src=src_ip or PLACEHOLDER_IP, ipv4_dst=dst_ip or PLACEHOLDER_IP,
                    ip_proto=IP_ICMP, ip_dscp=0, ip_ecn=0, nw_ttl=64, ip_frag="no",
                    icmpv4_type=ECHO_REQUEST, icmpv4_code=0)
    general = set(GENERAL_FIELDS)
    if src_ip:
        general.add("ipv4_src")
    if dst_ip:
        general.add("ipv4_dst")
    return Probe((port_id, ofport, src, dst, dst_ip), packet, frozenset(general))


def arp_probe(port_id: str, ofport: int, src: str, src_ip: str, target: str,
              to: str = BROADCAST_MAC) -> Probe:
    """An ARP request from ``src`` (at ``src_ip``) for ``target``, broadcast or to ``to``
    (checking a neighbour it knows)."""
    packet = Packet(eth_src=src, eth_dst=to, eth_type=ETH_ARP, arp_op=ARP_REQUEST,
                    arp_spa=src_ip, arp_tpa=target, arp_sha=src,
                    arp_tha=NO_MAC if to == BROADCAST_MAC else to)
    return Probe((port_id, ofport, src, to, f"arp:{target}"), packet, ARP_FIELDS)


def linked_routers(view: DictView, bridge_id: str, vlan: int | None) -> list[Obj]:
    """The router ports linked to the bridge's ports on segment ``vlan``."""
    found = []
    for port in view.ports_of(bridge_id):
        peer = view.get("port", port.get("peerId"))
        if (peer is not None and peer.get("type") == "Router" and peer.get("portMac")
                and segment(port) == vlan):
            found.append(peer)
    return found


def linked_bridges_l2(view: DictView, bridge_id: str) -> set[str]:
    """The bridges linked to a bridge's ports (a VLAN-aware bridge and its VUBs)."""
    found = set()
    for port in view.ports_of(bridge_id):
        peer = view.get("port", port.get("peerId"))
        if peer is not None and peer.get("type") == "Bridge":
            found.add(str(peer["deviceId"]))
    return found


def linked_bridges(view: DictView, router_id: str) -> set[str]:
    """The bridges linked to a router's ports."""
    found = set()
    for port in view.ports_of(router_id):
        peer = view.get("port", port.get("peerId"))
        if peer is not None and peer.get("type") == "Bridge" and peer.get("deviceId"):
            found.add(str(peer["deviceId"]))
    return found


def neighbour_routers(view: DictView, router_id: str, bridges: set[str] | None = None
                      ) -> list[str]:
    """The routers linked to a router directly, or through a bridge both are linked to, but
    through none of ``bridges`` (which the bridges looked through are added to)."""
    bridges = set() if bridges is None else bridges
    found: list[str] = []
    for port in view.ports_of(router_id):
        peer = view.get("port", port.get("peerId"))
        if peer is None or not peer.get("deviceId"):
            continue
        if peer.get("type") == "Router":
            found.append(str(peer["deviceId"]))
        elif peer.get("type") == "Bridge" and peer["deviceId"] not in bridges:
            bridges.add(str(peer["deviceId"]))
            found += sorted(str(rp["deviceId"]) for rp in linked_routers_any(view,
                                                                              peer["deviceId"])
                            if rp.get("deviceId"))
    return [r for r in dict.fromkeys(found) if r != router_id]


def routers_reached(view: DictView, router_ids: Iterable[str],
                    hops: int = MAX_ROUTERS) -> list[str]:
    """``router_ids`` and the routers beyond them, nearest first, at most ``hops`` routers
    on a path (``router_ids`` count as the first); kept until the topology changes."""
    start = list(dict.fromkeys(router_ids))
    return view.derived("proactive-routers-reached", f"{hops}:{','.join(start)}",
                        lambda: _reached(view, start, hops))


def _reached(view: DictView, start: list[str], hops: int) -> list[str]:
    order, reached, bridges = list(start), set(start), set[str]()
    frontier = list(start)
    for _ in range(hops - 1):
        found: list[str] = []
        for router_id in frontier:
            for n in neighbour_routers(view, router_id, bridges):
                if n not in reached:
                    reached.add(n)
                    found.append(n)
        order += found
        frontier = found
    return order


def region(view: DictView, router_ids: Iterable[str]) -> set[str]:
    """The bridges whose ports' paths may cross the routers of ``router_ids``: those linked
    to the routers reached from them."""
    return {bridge for r in routers_reached(view, router_ids)
            for bridge in linked_bridges(view, r)}


def probes(view: DictView, state: State, port_id: str, ofport: int,
           known: dict[str, list[tuple[str, str]]] | None = None) -> list[Probe]:
    """The representative packets of a local bridge port: ARP to the gateways, L2 destinations,
    L3 ones, ARP to the bridge's known addresses (``known``:
    the destinations through each first-hop router port found so far, for the next port)."""
    port = view.get("port", port_id)
    if port is None or port.get("peerId") or view.get("bridge", port.get("deviceId")) is None:
        return []
    bridge_id, vlan = str(port["deviceId"]), segment(port)
    entries = {mac: where for (mac, seg), where in state.macs.entries(bridge_id).items()
               if seg == vlan and not is_multicast(mac)}
    sources = sorted(mac for mac, where in entries.items() if where == port_id)
    if not sources:
        return []
    routers = linked_routers(view, bridge_id, vlan)
    own = {str(rp["deviceId"]) for rp in routers}
    ip_of = {mac.lower(): ip for router_id in sorted(own)
             for ip, mac in sorted(state.arps.entries(router_id).items())}
    addresses = known_addresses(view, bridge_id)
    known_ip = {mac.lower(): ip for ip, mac in sorted(addresses.items(), reverse=True)}
    ip_of = {**known_ip, **ip_of}
    # the destinations beyond each first hop, nearest routers first
    known = {} if known is None else known
    for rp in routers:
        if rp["id"] not in known:
            known[rp["id"]] = _destinations(view, state, rp)
    out = []
    for src in sources:
        src_ip = known_ip.get(src)
        gateways = [rp for rp in routers if rp.get("portAddress")
                    and str(rp["portAddress"]) != src_ip]
        if src_ip is not None:  # ARP to the gateways answered in place, first (few, needed)
            for rp in gateways:
                out += [arp_probe(port_id, ofport, src, src_ip, str(rp["portAddress"])),
                        arp_probe(port_id, ofport, src, src_ip, str(rp["portAddress"]),
                                  str(rp["portMac"]).lower())]
        for dst in sorted(entries):
            if entries[dst] != port_id:
                out.append(probe(port_id, ofport, src, dst, ip_of.get(src), ip_of.get(dst)))
        seen: set[str] = set()
        for rp in routers:
            for ip, mac in known[rp["id"]]:
                if ip not in seen and mac != src:
                    seen.add(ip)
                    out.append(probe(port_id, ofport, src, rp["portMac"].lower(),
                                     ip_of.get(src), ip))
        if src_ip is not None:  # then ARP to the addresses the bridge knows
            own = {str(rp["portAddress"]) for rp in gateways}
            out += [arp_probe(port_id, ofport, src, src_ip, ip)
                    for ip, mac in sorted(addresses.items())
                    if mac.lower() != src and ip != src_ip and ip not in own]
    return out


def _destinations(view: DictView, state: State, first_hop: Obj) -> list[tuple[str, str]]:
    """(IPv4 address, MAC) of the ARP entries of the router of port ``first_hop`` and of the
    routers beyond it, and of the addresses their bridges know (:func:`_located`), nearest
    routers first, without the routers' own addresses and those on the first hop's network
    (reached by L2)."""
    reached = routers_reached(view, [str(first_hop["deviceId"])])
    own = {str(port.get("portAddress")) for r in reached for port in view.ports_of(r)}
    net = _network(first_hop)
    out = []
    for router_id in reached:
        for ip, mac in sorted(state.arps.entries(router_id).items()):
            if ip not in own and not _within(ip, net):
                out.append((ip, mac.lower()))
        for ip, mac in _located(view, state, router_id):
            if ip not in own and not _within(ip, net):
                out.append((ip, mac))
    return out


def _located(view: DictView, state: State, router_id: str) -> list[tuple[str, str]]:
    """(IPv4 address, MAC) of the addresses the bridges linked to a router know without
    hearing them (DHCP host entries) whose MAC the bridge's MAC table has."""
    out = []
    for bridge_id in sorted(linked_bridges(view, router_id)):
        located = {mac for mac, _ in state.macs.entries(bridge_id)}
        out += [(ip, mac.lower()) for ip, mac in sorted(known_addresses(view, bridge_id).items())
                if mac.lower() in located]
    return out


def _network(port: Obj) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(f"{port['portAddress']}/{port['networkLength']}",
                                     strict=False)
    except (KeyError, ValueError):
        return None


def _within(ip: str, net: ipaddress.IPv4Network | None) -> bool:
    try:
        return net is not None and ipaddress.IPv4Address(ip) in net
    except ValueError:
        return False


def plain(rewrite: Rewrite) -> bool:
    """A rewrite of a stateless L2/L3 path: MACs, VLAN tag, TTL (no NAT, nothing stateful),
    or an ARP request answered in place."""
    if rewrite.op is RewriteOp.SET:
        return rewrite.field in PLAIN_SETS
    return rewrite.op in (RewriteOp.DEC_TTL, RewriteOp.PUSH_VLAN, RewriteOp.POP_VLAN,
                          RewriteOp.ARP_REPLY)


def installable(result: Result, general: frozenset[str], stateful: bool,
                locate: Locator) -> bool:
    """Whether ``result`` may become a proactive flow (see the module docstring)."""
    return (tr.cacheable(result) and not stateful and not result.state_keys
            and not result.emits and not result.waiting and bool(result.outputs)
            and result.fields_read <= general
            and all(plain(rw) for out in result.outputs for rw in out.rewrites)
            and all(locate(out.port_id) is not None for out in result.outputs))


# -- the compiler --------------------------------------------------------------------------------

class Compiler(FlowSource):
    """Pre-simulates local ports toward known destinations and installs the flows.

    Triggers (:meth:`ports_plugged`, :meth:`state_changed`, :meth:`everything`) only mark
    ports; :meth:`compile`, run by a thread of its own, builds the messages. Safe to call from
    any thread. A probe whose decision was refused is not simulated again until something it
    depended on changes (an invalidation of one of its tags in the flow index).
    """

    def __init__(self, view: DictView, state: State, index: FlowIndex, host_id: str,
                 ofports: dict[str, int], tunnels: dict[str, int],
                 max_per_port: int = DEFAULT_MAX_PER_PORT, enabled: bool = True) -> None:
        super().__init__(view, state, index, host_id, ofports, tunnels)
        self.max_per_port = max_per_port
        self.enabled = enabled
        self._lock = threading.Lock()  # guards the marks and the installed flows
        self._compiling = threading.Lock()  # one compilation at a time
        self._dirty: set[str] = set()
        self._retry: set[str] = set()  # ports whose compilation failed (the store is down?)
        self._all = False
        self._wake = threading.Event()
        self._installed: dict[str, dict[FlowKey, int]] = {}  # port -> probe -> cookie
        # probes refused: the packet simulated, and the tags of the decision
        self._refused: dict[FlowKey, tuple[Packet, set[str]]] = {}
        self._refused_by_tag: dict[str, set[FlowKey]] = {}
        self.simulations = 0  # pre-simulations run so far (for tests and operators)
        # whether a flow could hide packets a live trace request wants (none is built then)
        self.hides: Callable[[str, Result], bool] = lambda port_id, result: False
        index.listeners.append(self._invalidated)

    # -- triggers --------------------------------------------------------------------------
    def ports_plugged(self, port_ids: Iterable[str]) -> None:
        self._mark(set(port_ids))

    def everything(self) -> None:
        """Compile every local port again (the topology changed, the switch connected)."""
        if self.enabled:
            with self._lock:
                self._all = True
            self._wake.set()

    def state_changed(self, tag: str) -> None:
        """A MAC or ARP entry changed (its tag); other tags are ignored."""
        if not self.enabled:
            return
        kind, _, rest = tag.partition(":")
        device, _, _ = rest.partition(":")
        if kind == "mac":
            bridges = {device} | linked_bridges_l2(self.view, device) | region(
                self.view, [str(rp["deviceId"]) for rp in linked_routers_any(self.view, device)])
        elif kind == "arp":
            bridges = region(self.view, [device])
        else:
            return
        self._mark({pid for pid in list(self.ofports) if self._bridge_of(pid) in bridges})

    def wait(self, timeout: float) -> bool:
        """Wait until some port is marked; True when there is work."""
        woken = self._wake.wait(timeout)
        self._wake.clear()
        return woken or bool(self._retry)

    # -- compiling ---------------------------------------------------------------------------
    def compile(self) -> list[Message]:
        """The flows of the marked ports that are not on the switch yet."""
        with self._lock:
            everything, dirty = self._all, self._dirty | self._retry
            self._all, self._dirty = False, set()
        if not self.enabled:
            return []
        messages: list[Message] = []
        with self._compiling:
            local = dict(self.ofports)
            self._forget_unplugged(local)
            self._retry &= local.keys()
            known: dict[str, list[tuple[str, str]]] = {}  # destinations beyond a router
            for port_id in sorted(local if everything else dirty & local.keys()):
                try:
                    messages += self._compile_port(port_id, local[port_id], known)
                    self._retry.discard(port_id)
                except Exception as exc:  # noqa: BLE001 - the store may be failing: retried
                    if port_id not in self._retry:
                        LOG.warning("no proactive flows for port %s yet: %s", port_id, exc)
                    self._retry.add(port_id)
        if messages:
            LOG.debug("%d proactive flows (%d pre-simulations so far)", len(messages),
                      self.simulations)
        return messages

    def confirm(self, sent: Iterable[Message]) -> list[FlowDelete]:
        """After sending: deletes for the flows whose inputs changed while they were on their
        way (their invalidation's delete may have reached the switch before them)."""
        return [FlowDelete(m.cookie) for m in sent
                if isinstance(m, FlowSpec) and m.cookie not in self.index]

    def installed(self, port_id: str | None = None) -> int:
        """Proactive flows on the switch (of one port)."""
        with self._lock:
            ports = list(self._installed) if port_id is None else [port_id]
            return sum(1 for pid in ports for cookie in self._installed.get(pid, {}).values()
                       if cookie in self.index)

    def _compile_port(self, port_id: str, ofport: int,
                      known: dict[str, list[tuple[str, str]]]) -> list[Message]:
        with self._lock:
            mine = self._installed.setdefault(port_id, {})
            alive = {key for key, cookie in mine.items()
                     if key[1] == ofport and cookie in self.index}
            for key in [k for k in mine if k not in alive]:
                del mine[key]
        budget = self.max_per_port - len(alive)
        attempts = budget * ATTEMPTS_PER_FLOW
        messages: list[Message] = []
        if budget <= 0:  # the port has all the flows it may have
            return messages
        for p in probes(self.view, self.state, port_id, ofport, known):
            if budget <= 0 or attempts <= 0:
                break
            if p.key in alive or self._refused.get(p.key, (None,))[0] == p.packet:
                continue
            attempts -= 1
            flow = self._flow(p)
            if flow is not None:
                with self._lock:
                    self._installed.setdefault(port_id, {})[p.key] = flow.cookie
                messages.append(flow)
                budget -= 1
        return messages

    def _flow(self, p: Probe) -> FlowSpec | None:
        since = self.index.generation()
        port_id, ofport = p.key[0], p.key[1]
        readonly = ReadOnlyState(self.state)
        result = simulate(self.view, readonly.state, port_id, p.packet)
        self.simulations += 1
        locate = self.locator()
        ok = (installable(result, p.general, readonly.stateful, locate)
              and not self.hides(port_id, result))
        tags = decision_tags(result, locate)
        if not ok:
            self._refuse(p, tags, since)
            return None
        cookie = self.index.add(tags, since)
        if cookie is None:
            return None
        flow = tr.flow_for(result, p.packet, ofport, locate, cookie, idle_timeout=0,
                           priority=PRIORITY_PROACTIVE)
        if flow is None:  # not cacheable after all: forget the cookie
            self.index.removed(cookie)
        return flow

    # -- refused probes ----------------------------------------------------------------------
    def _refuse(self, p: Probe, tags: set[str], since: int) -> None:
        """Remember a refused probe until one of ``tags`` changes (unless one already did)."""
        with self._lock:
            if self.index.stale(tags, since):
                return
            self._unrefuse(p.key)
            self._refused[p.key] = (p.packet, tags)
            for tag in tags:
                self._refused_by_tag.setdefault(tag, set()).add(p.key)

    def _invalidated(self, tags: set[str]) -> None:
        with self._lock:
            for tag in tags:
                for key in list(self._refused_by_tag.get(tag, ())):
                    self._unrefuse(key)

    def _unrefuse(self, key: FlowKey) -> None:
        _, tags = self._refused.pop(key, (None, set()))
        for tag in tags:
            keys = self._refused_by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._refused_by_tag[tag]

    # -- helpers -------------------------------------------------------------------------------
    def _mark(self, port_ids: set[str]) -> None:
        if not self.enabled or not port_ids:
            return
        with self._lock:
            self._dirty |= port_ids
        self._wake.set()

    def _forget_unplugged(self, local: dict[str, int]) -> None:
        with self._lock:
            for port_id in [p for p in self._installed if p not in local]:
                del self._installed[port_id]
            for key in [k for k in self._refused if local.get(k[0]) != k[1]]:
                self._unrefuse(key)

    def _bridge_of(self, port_id: str) -> str | None:
        port = self.view.get("port", port_id)
        return None if port is None else port.get("deviceId")


def linked_routers_any(view: DictView, bridge_id: str) -> list[Obj]:
    """The router ports linked to any port of the bridge."""
    found = []
    for port in view.ports_of(bridge_id):
        peer = view.get("port", port.get("peerId"))
        if peer is not None and peer.get("type") == "Router":
            found.append(peer)
    return found
