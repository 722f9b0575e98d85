"""The differential check: what switches do with packets equals what the simulator decides.

A :class:`Fabric` is a set of hosts on a :class:`~ryu_midonet.datapath.fakenet.FakeNetwork`,
each with an in-memory switch set up as the agent sets up a real one (classification, tunnel
delivery, the flow table's miss to the agent) and, when ``reactive``, the agent's
:class:`~ryu_midonet.agent.handler.PacketHandler` answering misses: it simulates the packet and
installs the flow the translator builds. Changes to the MAC and ARP tables remove the flows
built on them, as the agent's state follower does.

:func:`check` sends packets one after the other and compares, for each, where it comes out
(host, OpenFlow port and every header, rewrites, VLAN and TTL included) with the simulator's
decision for that packet at that moment -- simulated on a copy of the state tables, so that
the reference simulation learns nothing the switches would not. A packet that hits a flow is
the point: its flow must do what the simulator decides (outputs only: packets the topology
generates, such as ICMP errors, come from the agent, for the packets it sees). A packet that
misses is simulated by the agent; its delivery (packet-outs, generated packets included) is
compared too. A flow that takes a packet whose decision may not be cached (one the agent must
answer, learn from or hold) is a mismatch as well. ``probe`` adds, after each packet that made
the agent install a flow, packets that differ from it only in fields the flow does not match:
the claim a megaflow makes, tested directly. Flows from another source, such as a proactive
compiler, are installed before the packets by ``install``.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from os_ken.ofproto.ofproto_v1_3 import OFPR_INVALID_TTL

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import PacketHandler
from ryu_midonet.datapath import packets as frames
from ryu_midonet.datapath import pipeline
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.fakenet import Delivery, FakeNetwork
from ryu_midonet.datapath.fakeswitch import Entry, FakeSwitch, PacketIn
from ryu_midonet.datapath.flows import FlowDelete, FlowSpec, Message, SwitchConfig
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import ETH_IPV4, FIELDS, Packet, Result, Rewrite, RewriteOp
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.state import State

TUNNEL = 100  # the vxlan port's OpenFlow number on every host
TUNNELS = {"vxlan": TUNNEL}
MACS = ("eth_src", "eth_dst", "arp_sha", "arp_tha")
L4 = ("tcp_src", "tcp_dst", "udp_src", "udp_dst", "icmpv4_type", "icmpv4_code")
IP_ONLY = ("ip_dscp", "ip_ecn", "ip_frag", "nw_ttl")

Seen = tuple[str, int, tuple[tuple[str, Any], ...]]  # host, OpenFlow port, headers


@dataclass
class Built:
    """A flow the agent installed, and the decision it was built from."""

    flow: FlowSpec
    packet: Packet
    result: Result


class AgentHost:
    """One host: its switch and, when reactive, the agent's packet handler."""

    def __init__(self, name: str, underlay: str, view: DictView, state: State,
                 ofports: Mapping[str, int], net: FakeNetwork, reactive: bool = True) -> None:
        self.name = name
        self.view = view
        self.state = state
        self.ofports = dict(ofports)
        self.tunnels = dict(TUNNELS)
        self.index = FlowIndex()
        self.handler = PacketHandler(view, state, self.index, name, self.ofports, self.tunnels)
        self.switch: FakeSwitch = net.add_host(name, underlay, TUNNEL,
                                               self._agent if reactive else None).switch
        self.port_at = {ofport: port_id for port_id, ofport in self.ofports.items()}
        self.calls = 0
        self.built: dict[int, Built] = {}  # cookie -> what the agent built the flow from
        self.flows: dict[int, FlowSpec] = {}  # cookie -> the last flow applied with it
        setup: list[Message] = [SwitchConfig(), FlowDelete(0, 0), *tr.base_flows([TUNNEL])]
        for port_id, ofport in self.ofports.items():
            port = view.get("port", port_id)
            setup += tr.port_flows(ofport, int((port or {}).get("tunnelKey") or 0))
        self.apply(setup)

    def apply(self, messages: Iterable[Message]) -> None:
        """Send ``messages`` to the switch as the agent does."""
        messages = list(messages)
        self.flows.update((m.cookie, m) for m in messages if isinstance(m, FlowSpec))
        self.switch.apply(messages)

    def _agent(self, packet_in: PacketIn) -> list[Message]:
        """What the agent answers a packet-in with: it parses the frame and simulates."""
        self.calls += 1
        in_port = packet_in.headers.get("in_port")
        port_id = self.port_at.get(in_port) if isinstance(in_port, int) else None
        headers = {f: packet_in.headers[f] for f in FIELDS if f in packet_in.headers}
        data = frame(Packet(**headers))
        if packet_in.reason == OFPR_INVALID_TTL:  # as the agent does: as it entered the flow
            data = tr.ttl_restored(data, packet_in.headers.get(pipeline.TTL_REG, 0))
        packet = frames.parse(data)
        if port_id is None or packet is None or in_port is None:
            return []
        messages = self.handler.handle(port_id, in_port, packet, data)
        for m in messages:
            if isinstance(m, FlowSpec) and self.handler.last is not None:
                self.built[m.cookie] = Built(m, packet, self.handler.last)
                self.flows[m.cookie] = m
        return messages


@dataclass
class Sent:
    """What happened to one packet: where it came out, whether an agent saw it, the flow it
    hit on its ingress host (None: a miss)."""

    deliveries: list[Delivery]
    simulated: bool
    to_controller: bool
    flow: Entry | None


class Fabric:
    """Hosts with their switches (and agents) on one fake network.

    ``bindings`` maps each host to its bound ports (virtual port id -> OpenFlow port);
    ``underlay`` gives each host's tunnel address (the topology's tunnel zone must list them).
    """

    def __init__(self, view: DictView, state: State, bindings: Mapping[str, Mapping[str, int]],
                 underlay: Mapping[str, str], *, reactive: bool = True) -> None:
        self.view = view
        self.state = state
        self.net = FakeNetwork()
        self.hosts = {name: AgentHost(name, underlay[name], view, state, ports, self.net,
                                      reactive)
                      for name, ports in bindings.items()}
        self._where = {port_id: (name, ofport) for name, ports in bindings.items()
                       for port_id, ofport in ports.items()}
        self._tables = [state.macs, state.arps, state.ip4macs]
        for table in self._tables:
            listeners = getattr(table, "listeners", None)
            if listeners is not None:
                listeners.append(self.changed)

    def close(self) -> None:
        """Stop following the state tables."""
        for table in self._tables:
            listeners = getattr(table, "listeners", None)
            if listeners is not None and self.changed in listeners:
                listeners.remove(self.changed)

    def changed(self, tag: str) -> None:
        """A MAC or ARP entry changed: every host removes the flows built on it."""
        for host in self.hosts.values():
            host.apply(host.index.invalidate([tag]))

    def where(self, port_id: str) -> tuple[str, int] | None:
        """The host and OpenFlow port a virtual port is plugged into."""
        return self._where.get(port_id)

    def send(self, port_id: str, packet: Packet) -> Sent:
        """``packet`` enters at ``port_id``: where it comes out, on any host."""
        located = self.where(port_id)
        if located is None:
            raise ValueError(f"port {port_id} is not bound on any host")
        name, ofport = located
        host = self.hosts[name]
        headers = packet.headers()
        flow = host.switch.lookup(pipeline.TABLE_FLOWS, {**headers, "in_port": ofport})
        if flow is not None and flow.cookie >> pipeline.KIND_SHIFT == pipeline.COOKIE_MISS:
            flow = None
        calls = sum(h.calls for h in self.hosts.values())
        before = {n: len(h.switch.packet_ins) for n, h in self.hosts.items()}
        deliveries = self.net.send(name, ofport, headers)
        new = [p for n, h in self.hosts.items() for p in h.switch.packet_ins[before[n]:]]
        return Sent(deliveries, sum(h.calls for h in self.hosts.values()) != calls,
                    bool(new), flow)

    def installed(self, port_id: str, packet: Packet) -> Mapping[str, Any] | None:
        """The match of the flow the agent built for ``packet`` (None: it built none)."""
        located = self.where(port_id)
        if located is None:
            return None
        host = self.hosts[located[0]]
        entry = host.switch.lookup(pipeline.TABLE_FLOWS,
                                   {**packet.headers(), "in_port": located[1]})
        built = None if entry is None else host.built.get(entry.cookie)
        return None if built is None else built.flow.match

    def expected(self, result: Result, packet: Packet, emits: bool) -> list[Seen]:
        """Where the simulator's decision sends the packet (and, with ``emits``, the packets
        the topology generates), as the switches would deliver them."""
        out: list[Seen] = []
        for o in result.outputs:
            where = self.where(o.port_id)
            if where is not None:
                out.append((*where, seen(rewritten(packet, o.rewrites).headers())))
        if emits:
            for e in result.emits:
                where = self.where(e.port_id)
                if where is not None:
                    out.append((*where, seen(e.packet.headers())))
        return sorted(out, key=repr)

    def flow_text(self, host: str, entry: Entry | None) -> str:
        """The flow ``entry`` as the agent built it, and what it was built from."""
        if entry is None:
            return "(none: a miss)"
        h = self.hosts[host]
        spec = h.flows.get(entry.cookie)
        text = str(spec) if spec is not None else f"{entry.match} {entry.actions}"
        built = h.built.get(entry.cookie)
        if built is not None:
            text += (f"\n  built from packet: {built.packet.headers()}"
                     f"\n  fields read: {sorted(built.result.fields_read)}"
                     f" learned: {[tuple(x) for x in built.result.learned]}"
                     f"\n  decision then:\n" + _indent(built.result.trace, 4))
        return text


# -- the check -------------------------------------------------------------------------------


@dataclass
class Mismatch:
    """One packet whose delivery differs from the simulator's decision."""

    kind: str  # "hit": a flow handled it; "miss": the agent did (a flow may have begun)
    index: int
    port_id: str
    packet: Packet
    expected: list[Seen]
    delivered: list[Seen]
    flow: str
    trace: list[str]

    def text(self) -> str:
        return "\n".join([
            f"packet #{self.index} ({self.kind}) in at port {self.port_id}:",
            f"  {_headers(self.packet.headers())}",
            "flow hit:", _indent([self.flow], 2),
            "simulator decides:", _indent(_seen_lines(self.expected), 2),
            "switches delivered:", _indent(_seen_lines(self.delivered), 2),
            "simulator trace:", _indent(self.trace, 2)])


@dataclass
class Report:
    """What :func:`check` saw: counts, and the mismatches with all it knows about them."""

    packets: int = 0
    hits: int = 0  # packets a flow handled without an agent (the ones that matter)
    misses: int = 0
    silent: int = 0  # hits for which the simulator would also have generated packets
    flows: int = 0  # distinct flows hit
    mismatches: list[Mismatch] = field(default_factory=list)

    def add(self, other: Report) -> None:
        self.packets += other.packets
        self.hits += other.hits
        self.misses += other.misses
        self.silent += other.silent
        self.flows += other.flows
        self.mismatches += other.mismatches

    def failures(self, kinds: Iterable[str] = ("hit", "miss")) -> list[Mismatch]:
        """The mismatches of ``kinds`` (by default all)."""
        wanted = set(kinds)
        return [m for m in self.mismatches if m.kind in wanted]

    def __str__(self) -> str:
        kinds = Counter(m.kind for m in self.mismatches)
        return (f"{self.packets} packets: {self.hits} hit flows ({self.flows} flows),"
                f" {self.misses} simulated, mismatches: {dict(kinds) or 0};"
                f" {self.silent} hits the simulator would also have answered")


Install = Callable[[AgentHost], Iterable[Message]]



Probe = Callable[[str, Packet, Mapping[str, Any]], Iterable[Packet]]


def check(fabric: Fabric, view: DictView, state: State,
          packets: Iterable[tuple[str, Packet]], *, install: Install | None = None,
          probe: Probe | None = None, stop_at_first: bool = False) -> Report:
    """Send ``packets`` ((ingress port id, packet), in order) through ``fabric`` and compare
    every delivery with the simulator's decision (see the module's docstring).

    ``install``, when given, is called once per host before the packets and its messages
    (flows from another source) are applied to that host's switch. ``probe``, when given,
    is called with (port id, packet, the match of the flow the agent installed for it) for
    each packet that made the agent install a flow; the packets it returns are sent right
    after: packets differing from the first only in fields the flow does not match are what
    shows a flow more general than its decision. ``stop_at_first`` ends the run at the first
    mismatch.
    """
    if install is not None:
        for host in fabric.hosts.values():
            host.apply(install(host))
    report = Report()
    flows_hit: set[tuple[str, int]] = set()
    queue = [(port_id, packet, False) for port_id, packet in packets][::-1]
    n = 0
    while queue:
        port_id, raw, probing = queue.pop()
        packet = canonical(raw)
        reference = simulate(view, copy_tables(state, view), port_id, packet)
        sent = fabric.send(port_id, packet)
        report.packets += 1
        located = fabric.where(port_id)
        host = located[0] if located else ""
        hit = not sent.to_controller and sent.flow is not None
        if hit:
            report.hits += 1
            report.silent += bool(reference.emits)
            if sent.flow is not None:
                flows_hit.add((host, sent.flow.cookie))
        else:
            report.misses += 1
            if probe is not None and sent.simulated and not probing:
                installed = fabric.installed(port_id, packet)
                if installed is not None:
                    queue += [(port_id, p, True) for p in probe(port_id, packet, installed)
                              ][::-1]
        expected = fabric.expected(reference, packet, emits=sent.simulated)
        delivered = sorted(((d.host, d.port, seen(d.headers)) for d in sent.deliveries),
                           key=repr)
        if hit and not tr.cacheable(reference):
            # the agent must see every such packet (to answer it, learn from it, hold it)
            expected = [("(the agent: no flow may take this packet)", 0, ())]
        if (hit or sent.simulated) and expected != delivered:
            report.mismatches.append(Mismatch(
                "hit" if hit else "miss", n, port_id, packet, expected, delivered,
                fabric.flow_text(host, sent.flow), reference.trace))
            if stop_at_first:
                break
        n += 1
    report.flows = len(flows_hit)
    return report


def tally(totals: Report, report: Report, topo: Any) -> None:
    """Add ``report`` to ``totals``; fail the test at its first mismatch, showing ``topo``."""
    totals.add(report)
    if report.failures():
        pytest.fail(f"{report.failures()[0].text()}\ntopology:\n{topo.describe()}",
                    pytrace=False)


def check_topology(totals: Report, topo: Any, packets: Iterable[tuple[str, Packet]],
                   probe: Probe | None = None) -> None:
    """:func:`check` ``packets`` on a fresh fabric of ``topo`` (closed afterwards) and
    :func:`tally` the report into ``totals``."""
    fabric = fabric_for(topo)
    try:
        report = check(fabric, topo.view(), topo.state, packets, probe=probe)
    finally:
        fabric.close()
    tally(totals, report, topo)


def copy_tables(state: State, view: DictView) -> State:
    """A private in-memory copy of the MAC and ARP entries of the view's bridges (their ARP
    tables too) and routers (the flow-state tables start empty: the checked rules are stateless)."""
    out = State.in_memory(clock=lambda: 0.0)  # the copy lives for one simulation
    objects = view.objects()
    for bridge in objects.get("bridge", {}):
        for (mac, vlan), port in state.macs.entries(bridge).items():
            out.macs.learn(bridge, mac, vlan, port)
        for ip, mac in state.ip4macs.entries(bridge).items():
            out.ip4macs.learn(bridge, ip, mac)
    for router in objects.get("router", {}):
        for ip, mac in state.arps.entries(router).items():
            out.arps.put(router, ip, mac)
    return out


# -- packets ---------------------------------------------------------------------------------


def frame(packet: Packet) -> bytes:
    """The Ethernet frame of ``packet``, fragments included (the frame codec builds
    unfragmented packets only: the IPv4 flags and offset are set here)."""
    if packet.ip_frag == "later":  # no L4 header: nothing of one to build
        packet = packet.replace(payload=b"", l4_head=b"")
    data = bytearray(frames.build(packet))
    if packet.eth_type != ETH_IPV4 or packet.ip_frag not in ("first", "later"):
        return bytes(data)
    ip = 14 + (4 if packet.vlan_vid is not None else 0)
    flags = 0x2000 if packet.ip_frag == "first" else 0x00B9  # MF / offset 1480
    data[ip + 6:ip + 8] = struct.pack("!H", flags)
    data[ip + 10:ip + 12] = b"\0\0"
    data[ip + 10:ip + 12] = struct.pack("!H", _checksum(bytes(data[ip:ip + 20])))
    return bytes(data)


def _checksum(header: bytes) -> int:
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def canonical(packet: Packet) -> Packet:
    """``packet`` as the agent sees it once on the wire (parsed from its frame)."""
    parsed = frames.parse(frame(packet))
    if parsed is None:
        raise ValueError(f"not a frame: {packet}")
    return parsed


def rewritten(packet: Packet, rewrites: Iterable[Rewrite]) -> Packet:
    """``packet`` after the header changes of an output."""
    for rw in rewrites:
        match rw.op:
            case RewriteOp.DEC_TTL:
                if packet.eth_type == ETH_IPV4 and packet.nw_ttl is not None:
                    packet = packet.replace(nw_ttl=packet.nw_ttl - 1)
            case RewriteOp.POP_VLAN:
                packet = packet.replace(vlan_vid=None)
            case RewriteOp.PUSH_VLAN:
                packet = packet.replace(vlan_vid=0)
            case RewriteOp.SET:
                packet = packet.replace(**{str(rw.field): rw.value})
            case RewriteOp.ARP_REPLY:
                packet = packet.replace(**rw.value.headers())
    return packet


def seen(headers: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Headers as a receiver sees them, in one canonical form (absent fields left out, IPv4
    defaults filled in, MACs in lower case, no L4 fields in later fragments)."""
    out = {k: headers[k] for k in FIELDS if headers.get(k) is not None}
    for name in MACS:
        if name in out:
            out[name] = str(out[name]).lower()
    if out.get("eth_type") == ETH_IPV4:
        out.setdefault("ip_dscp", 0)
        out.setdefault("ip_ecn", 0)
        out.setdefault("ip_frag", "no")
        if out["ip_frag"] == "later":
            for name in L4:
                out.pop(name, None)
    else:
        for name in IP_ONLY:
            out.pop(name, None)
    return tuple(sorted(out.items()))


# -- text ------------------------------------------------------------------------------------


def _headers(headers: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in headers.items())


def _seen_lines(items: list[Seen]) -> list[str]:
    if not items:
        return ["(nothing: dropped)"]
    return [f"{host} port {port}: {_headers(dict(headers))}" for host, port, headers in items]


def _indent(lines: Iterable[str], n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line for text in lines for line in str(text).splitlines())


def fabric_for(topo: Any, *, reactive: bool = True) -> Fabric:
    """A :class:`Fabric` for a :class:`~tests.support.randomtopo.RandomTopology` (anything
    with ``view()``, ``state``, ``bindings`` and ``underlay``)."""
    return Fabric(topo.view(), topo.state, topo.bindings, topo.underlay, reactive=reactive)

