"""Proactive flows on fake switches: once MAC and ARP entries are known, the first packet
between two VMs -- on one bridge, or through a router across two hosts -- reaches no agent and
leaves as the simulator says; a changed entry or topology removes exactly the flows built on
it and the compiler installs what is still valid."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from sim_tenant import GW_IP, tenant, tenant_state

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import PacketHandler
from ryu_midonet.agent.proactive import Compiler, ReadOnlyState, plain
from ryu_midonet.datapath import ctlookup as ctl
from ryu_midonet.datapath import packets, pipeline
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.fakenet import FakeNetwork
from ryu_midonet.datapath.fakeswitch import PacketIn
from ryu_midonet.datapath.flows import FlowDelete, FlowSpec, Message, SwitchConfig
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import FIELDS, Packet, Rewrite, RewriteOp
from ryu_midonet.sim.core.topology import CacheView
from ryu_midonet.sim.rules.conntrack import scope_of
from ryu_midonet.sim.state import State, arp_tag, mac_tag
from ryu_midonet.sim.state.natranges import MemoryNatRanges, RangeBoard
from tests.support.packets import arp, icmp, tcp, udp
from tests.support.topology import MemoryTopology

TUNNEL = 100
HOSTS = {"hostA": "10.99.0.1", "hostB": "10.99.0.2"}
MAC1, MAC2, MAC3, MAC4 = ("02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03",
                          "02:00:00:00:00:04")
RMAC1, RMAC2 = "02:00:00:00:01:01", "02:00:00:00:02:01"


class Host:
    """A host: its fake switch, the agent's packet handler (for misses) and the compiler."""

    def __init__(self, name: str, view: Any, state: State, ofports: dict[str, int],
                 net: FakeNetwork, conntrack_in_datapath: bool = True,
                 **options: Any) -> None:
        self.name = name
        self.switch = net.add_host(name, HOSTS[name], TUNNEL, self._miss).switch
        self.index = FlowIndex()
        self.ofports = ofports
        self.handler = PacketHandler(view, state, self.index, name, ofports, {"vxlan": TUNNEL})
        self.handler.conntrack_in_datapath = conntrack_in_datapath
        self.compiler = Compiler(view, state, self.index, name, ofports, {"vxlan": TUNNEL},
                                 **options)
        messages: list[Message] = [SwitchConfig(), FlowDelete(0, 0), *tr.base_flows([TUNNEL])]
        for pid, ofport in ofports.items():
            messages += tr.port_flows(ofport, view.get("port", pid)["tunnelKey"])
        if conntrack_in_datapath:  # what the agent adds when the switch connects
            messages += [ctl.miss_flow(), *ctl.CommitDelivery().flows(
                ofports, lambda pid: view.get("port", pid),
                lambda port: scope_of(view, port))]
        self.switch.apply(messages)
        self.misses = 0

    def _miss(self, packet_in: PacketIn) -> list[Message]:
        self.misses += 1
        headers = packet_in.headers
        packet = Packet(**{f: headers[f] for f in FIELDS if f in headers})
        port_id = next(p for p, n in self.ofports.items() if n == headers["in_port"])
        return self.handler.handle(port_id, headers["in_port"], packet, packets.build(packet),
                                   tracked=headers.get("ct_state") or None)

    def compile(self) -> list[FlowSpec]:
        """What the agent's compiling thread does: compile, send, confirm."""
        messages = self.compiler.compile()
        self.switch.apply(messages)
        self.switch.apply(self.compiler.confirm(messages))
        return [m for m in messages if isinstance(m, FlowSpec)]

    def invalidate(self, tags: list[str]) -> set[int]:
        """What the agent does when these tags change; the cookies it deleted."""
        deletes = self.index.invalidate(tags)
        self.switch.apply(deletes)
        return {d.cookie for d in deletes}

    def flows(self) -> set[int]:
        return {e.cookie for e in self.switch.table(1)
                if e.cookie >> pipeline.KIND_SHIFT == pipeline.COOKIE_SIMULATED}


class Topo:
    """A topology the test changes, as an agent's cache: objects and a version."""

    def __init__(self, b: MemoryTopology) -> None:
        self.b = b
        self.objects = b.objects
        self.version = 0

    def change(self, edit: Callable[[MemoryTopology], object]) -> None:
        edit(self.b)
        self.version += 1


def _view(b: MemoryTopology) -> CacheView:
    return CacheView(Topo(b))


def _zone(b: MemoryTopology) -> None:
    b._put("tunnelZone", "tz", name="tz", type="vxlan", hostIds=list(HOSTS),
           tzHosts=[{"hostId": h, "ipAddress": ip} for h, ip in HOSTS.items()])


def _finish(b: MemoryTopology) -> None:
    _zone(b)
    for n, port in enumerate(b.objects["port"].values(), start=1):
        port["tunnelKey"] = n


def _two_bridges_and_a_router() -> tuple[MemoryTopology, dict[str, Any]]:
    """vm1 (hostA) on br1 10.0.1.0/24, vm2 and vm3 (hostB) on br2 10.0.2.0/24, router r."""
    b = MemoryTopology()
    br1, br2, rtr = b.bridge("br1"), b.bridge("br2"), b.router("r")
    ports = {"vm1": b.bridge_port(br1, host="hostA", interfaceName="tap1"),
             "vm2": b.bridge_port(br2, host="hostB", interfaceName="tap2"),
             "vm3": b.bridge_port(br2, host="hostB", interfaceName="tap3")}
    for br, cidr, mac in ((br1, "10.0.1.1/24", RMAC1), (br2, "10.0.2.1/24", RMAC2)):
        b.link(b.bridge_port(br, host=None), b.router_port(rtr, cidr, mac))
    _finish(b)
    return b, ports


def _known(state: State, ports: dict[str, Any]) -> None:
    """Every VM has announced itself: the bridges learned it, the router resolved it."""
    state.macs.learn("br1", MAC1, None, ports["vm1"]["id"])
    state.macs.learn("br2", MAC2, None, ports["vm2"]["id"])
    state.macs.learn("br2", MAC3, None, ports["vm3"]["id"])
    state.arps.put("r", "10.0.1.11", MAC1)
    state.arps.put("r", "10.0.2.12", MAC2)
    state.arps.put("r", "10.0.2.13", MAC3)


def _routed_hosts(**options: Any) -> tuple[Any, State, dict[str, Any], Host, Host,
                                           FakeNetwork]:
    b, ports = _two_bridges_and_a_router()
    view, state, net = _view(b), State.in_memory(), FakeNetwork()
    _known(state, ports)
    a = Host("hostA", view, state, {ports["vm1"]["id"]: 1}, net, **options)
    hb = Host("hostB", view, state, {ports["vm2"]["id"]: 1, ports["vm3"]["id"]: 2}, net,
              **options)
    for host in (a, hb):
        host.compiler.everything()
        host.compile()
    return view, state, ports, a, hb, net


def _expected(view: Any, state: State, port_id: str, packet: Packet) -> dict[str, Any]:
    """The headers the simulator says the packet leaves with."""
    result = simulate(view, ReadOnlyState(state).state, port_id, packet)
    assert len(result.outputs) == 1
    headers = packet.headers()
    for rw in result.outputs[0].rewrites:
        if rw.op is RewriteOp.DEC_TTL:
            headers["nw_ttl"] -= 1
        elif rw.op is RewriteOp.SET and rw.field is not None:
            headers[rw.field] = rw.value
    return headers


def _delivered(net: FakeNetwork, host: str, port: int, packet: Packet
               ) -> list[tuple[str, int, dict[str, Any]]]:
    return [(d.host, d.port, d.headers) for d in net.send(host, port, packet.headers())]


def _same(headers: dict[str, Any], expected: dict[str, Any]) -> bool:
    return all(headers.get(k) == v for k, v in expected.items())


def _bridged_hosts() -> tuple[Any, State, FakeNetwork, Host, Host]:
    """One bridge across two hosts, a VM on each, both MACs known; nothing compiled yet."""
    b = MemoryTopology()
    br = b.bridge("br")
    vm1 = b.bridge_port(br, host="hostA", interfaceName="tap1")
    vm2 = b.bridge_port(br, host="hostB", interfaceName="tap2")
    _finish(b)
    view, state, net = b.view(), State.in_memory(), FakeNetwork()
    state.macs.learn("br", MAC1, None, vm1["id"])
    state.macs.learn("br", MAC2, None, vm2["id"])
    a = Host("hostA", view, state, {vm1["id"]: 1}, net)
    hb = Host("hostB", view, state, {vm2["id"]: 1}, net)
    return view, state, net, a, hb


# -- first packets reach no agent ----------------------------------------------------------------

def test_first_packet_on_a_bridge_across_two_hosts_reaches_no_agent() -> None:
    view, state, net, a, hb = _bridged_hosts()
    for host in (a, hb):
        host.compiler.ports_plugged(host.ofports)
        assert len(host.compile()) == 1

    for packet, at, to in ((icmp(MAC1, MAC2, "10.0.0.1", "10.0.0.2"), a, hb),
                           (tcp(MAC2, MAC1, "10.0.0.2", "10.0.0.1"), hb, a),
                           (udp(MAC1, MAC2, "10.0.0.1", "10.0.0.2"), a, hb)):
        port_id = next(iter(at.ofports))
        out = _delivered(net, at.name, 1, packet)
        assert [(h, p) for h, p, _ in out] == [(to.name, 1)]
        assert _same(out[0][2], _expected(view, state, port_id, packet))
    assert (a.misses, hb.misses) == (0, 0)


def test_first_routed_packet_across_two_hosts_reaches_no_agent() -> None:
    view, state, ports, a, hb, net = _routed_hosts()
    # L3 through the router, and its answer; TCP takes the same megaflow as ICMP
    for packet, host, port, to, to_port in (
            (icmp(MAC1, RMAC1, "10.0.1.11", "10.0.2.12"), a, ports["vm1"], hb, 1),
            (icmp(MAC2, RMAC2, "10.0.2.12", "10.0.1.11"), hb, ports["vm2"], a, 1),
            (tcp(MAC1, RMAC1, "10.0.1.11", "10.0.2.13", dport=22), a, ports["vm1"], hb, 2)):
        out = _delivered(net, host.name, host.ofports[port["id"]], packet)
        assert [(h, p) for h, p, _ in out] == [(to.name, to_port)]
        expected = _expected(view, state, port["id"], packet)
        assert _same(out[0][2], expected)
        assert expected["nw_ttl"] == 63 and expected["eth_src"] in (RMAC1, RMAC2)
    # on one bridge, too (vm2 -> vm3 on hostB)
    out = _delivered(net, "hostB", 1, icmp(MAC2, MAC3, "10.0.2.12", "10.0.2.13"))
    assert [(h, p) for h, p, _ in out] == [("hostB", 2)]
    assert (a.misses, hb.misses) == (0, 0)


def _described(b: MemoryTopology, state: State, ports: dict[str, Any]) -> None:
    """What a control plane knows of the VMs' ports before they speak: static MAC entries
    and DHCP host entries (no learned entry, no ARP entry)."""
    for br, net in (("br1", "10.0.1.0"), ("br2", "10.0.2.0")):
        b.objects.setdefault("dhcpSubnet", {})[f"s-{br}"] = {
            "id": f"s-{br}", "bridgeId": br, "subnetPrefix": net, "subnetLength": 24,
            "enabled": True}
    for n, (vm, br, mac, ip) in enumerate((("vm1", "br1", MAC1, "10.0.1.11"),
                                           ("vm2", "br2", MAC2, "10.0.2.12"),
                                           ("vm3", "br2", MAC3, "10.0.2.13"))):
        b.objects.setdefault("dhcpHost", {})[f"h{n}"] = {
            "id": f"h{n}", "bridgeId": br, "subnetId": f"s-{br}", "macAddr": mac, "ipAddr": ip}
        state.macs.add_static(br, mac, None, ports[vm]["id"])


def test_first_ping_between_vms_that_never_sent_anything_reaches_no_agent() -> None:
    b, ports = _two_bridges_and_a_router()
    state, net = State.in_memory(), FakeNetwork()
    _described(b, state, ports)
    view = _view(b)
    a = Host("hostA", view, state, {ports["vm1"]["id"]: 1}, net)
    hb = Host("hostB", view, state, {ports["vm2"]["id"]: 1, ports["vm3"]["id"]: 2}, net)
    for host in (a, hb):
        host.compiler.everything()
        host.compile()
    # vm1 asks for its gateway (broadcast, then checking it by unicast), then pings vm2;
    # vm2 asks for its gateway and answers
    for host, port, mac, ip, gw, gw_mac in ((a, 1, MAC1, "10.0.1.11", "10.0.1.1", RMAC1),
                                            (hb, 1, MAC2, "10.0.2.12", "10.0.2.1", RMAC2)):
        for to in ("ff:ff:ff:ff:ff:ff", gw_mac):
            request = arp(1, mac, ip, gw, to)
            out = _delivered(net, host.name, port, request)
            assert [(h, p) for h, p, _ in out] == [(host.name, port)]
            assert _same(out[0][2], arp(2, gw_mac, gw, ip, mac, mac).headers())
    for packet, host, to in ((icmp(MAC1, RMAC1, "10.0.1.11", "10.0.2.12"), a, hb),
                             (icmp(MAC2, RMAC2, "10.0.2.12", "10.0.1.11"), hb, a)):
        out = _delivered(net, host.name, 1, packet)
        assert [(h, p) for h, p, _ in out] == [(to.name, 1)]
    assert (a.misses, hb.misses) == (0, 0)
    assert state.arps.entries("r") == {}  # the router resolved them without ARPing


def test_compiling_changes_no_state() -> None:
    b, ports = _two_bridges_and_a_router()
    state = State.in_memory()
    _known(state, ports)
    heard: list[str] = []
    for table in (state.macs, state.arps, state.flows):
        cast(Any, table).listeners.append(heard.append)
    before = (state.macs.entries("br1"), state.macs.entries("br2"), state.arps.entries("r"))
    compiler = Compiler(b.view(), state, FlowIndex(), "hostA", {ports["vm1"]["id"]: 1},
                        {"vxlan": TUNNEL})
    compiler.everything()
    assert compiler.compile()
    assert heard == []
    assert (state.macs.entries("br1"), state.macs.entries("br2"),
            state.arps.entries("r")) == before


# -- what is not pre-installed -------------------------------------------------------------------

def test_unknown_sources_and_destinations_get_nothing() -> None:
    b, ports = _two_bridges_and_a_router()
    state = State.in_memory()
    compiler = Compiler(b.view(), state, FlowIndex(), "hostA", {ports["vm1"]["id"]: 1},
                        {"vxlan": TUNNEL})
    compiler.everything()
    assert compiler.compile() == []  # vm1's MAC is not known yet
    state.macs.learn("br1", MAC1, None, ports["vm1"]["id"])
    compiler.everything()
    assert compiler.compile() == []  # nobody else is known


def _filter_router(view: CacheView, name: str, **rule: Any) -> None:
    """An inbound chain on router r with one accept or drop rule."""
    def edit(b: MemoryTopology) -> None:
        chain = b.chain(name)
        b.rule(chain, rule.pop("type"), **rule)
        b.objects["router"]["r"]["inboundFilterId"] = chain["id"]
    cast(Topo, view.cache).change(edit)


@pytest.mark.parametrize("datapath", [True, False], ids=["conntrack in the datapath",
                                                          "flow-state table"])
def test_stateful_decisions_stay_reactive(datapath: bool) -> None:
    view, state, ports, a, hb, net = _routed_hosts(conntrack_in_datapath=datapath)
    # connection tracking on the router: nothing through it is pre-installed
    _filter_router(view, "tracked", type="accept", matchForwardFlow=True)
    assert len(a.invalidate(["r"])) == 2 and len(hb.invalidate(["r"])) == 2
    for host in (a, hb):
        host.compiler.everything()
    assert a.compile() == [] and hb.compile() == []
    assert len(hb.flows()) == 2  # vm2 <-> vm3 on br2 stay
    assert state.flows.live(state.flows.data) == set()  # type: ignore[attr-defined]
    # the reactive path handles the connection
    out = _delivered(net, "hostA", 1, icmp(MAC1, RMAC1, "10.0.1.11", "10.0.2.12"))
    assert [(h, p) for h, p, _ in out] == [("hostB", 1)]
    recorded = state.flows.live(state.flows.data)  # type: ignore[attr-defined]
    if not datapath:  # the agent records it, and sees every new connection
        assert a.misses == 1 and recorded
        return
    # the switch's tracker answers: the agent saw the packet before and after the tracker,
    # recorded nothing, and new connections through the router reach no agent
    assert a.misses == 2 and recorded == set()
    answered = [e for e in a.switch.table(pipeline.TABLE_CT_LOOKUP)
                if e.cookie >> pipeline.KIND_SHIFT == pipeline.COOKIE_SIMULATED]
    assert len(answered) == 1 and "ct_state" in answered[0].match
    for sport in (40000, 40001, 40002):  # the first TCP connection sets up its flows
        syn = {**tcp(MAC1, RMAC1, "10.0.1.11", "10.0.2.12", sport).headers(), "tcp_flags": 2}
        assert [(d.host, d.port) for d in net.send("hostA", 1, syn)] == [("hostB", 1)]
        if sport == 40000:
            seen = a.misses
    assert a.misses == seen and state.flows.live(  # type: ignore[attr-defined]
        state.flows.data) == set()


def test_nat_stays_reactive() -> None:
    """A static DNAT of a floating address to vm2 on the router: stateless in the simulator,
    but an address rewrite is NAT, never pre-installed."""
    view, state, ports, a, hb, net = _routed_hosts()
    _filter_router(view, "fip", type="dnat", nwDstAddress="10.0.3.99", nwDstLength=32,
                   natTargets=["10.0.2.12"])
    state.arps.put("r", "10.0.3.99", MAC2)  # a neighbour entry for the floating address
    a.invalidate(["r", arp_tag("r", "10.0.3.99")])
    a.compiler.everything()
    assert sorted(f.match["ipv4_dst"] for f in a.compile()) == ["10.0.2.12", "10.0.2.13"]
    # the reactive path carries it, translated
    packet = icmp(MAC1, RMAC1, "10.0.1.11", "10.0.3.99")
    out = _delivered(net, "hostA", 1, packet)
    assert a.misses == 1 and [(h, p, hdr["ipv4_dst"]) for h, p, hdr in out] == [
        ("hostB", 1, "10.0.2.12")]


def test_only_mac_vlan_and_ttl_rewrites_are_pre_installed() -> None:
    assert all(plain(rw) for rw in (Rewrite(RewriteOp.DEC_TTL), Rewrite(RewriteOp.POP_VLAN),
                                    Rewrite(RewriteOp.SET, "eth_src", MAC1),
                                    Rewrite(RewriteOp.SET, "eth_dst", MAC2)))
    assert not any(plain(rw) for rw in (Rewrite(RewriteOp.SET, "ipv4_dst", "10.0.2.12"),
                                        Rewrite(RewriteOp.SET, "tcp_src", 4000)))


def test_source_nat_stays_reactive_and_takes_nothing() -> None:
    """A router masquerading to its uplink, with NAT in the datapath: the path to the uplink's
    neighbour is not pre-installed, and compiling leases no port and writes no NAT entry."""
    b = tenant()
    b.rule(b.objects["chain"]["pre"], "rev_snat", nwDstAddress=GW_IP, inPorts=["r:out"])
    b.rule(b.objects["chain"]["post"], "snat", outPorts=["r:out"],
           natTargets=[f"{GW_IP}:1024-65535"])
    b.objects["port"]["r:out"]["hostId"] = "host0"  # every port on this host
    for n, port in enumerate(b.objects["port"].values(), start=1):
        port["tunnelKey"] = n
    state, board = tenant_state(), RangeBoard()
    state.nat_ranges = MemoryNatRanges("host0", board)
    compiler = Compiler(b.view(), state, FlowIndex(), "host0",
                        {"vm1": 1, "vm2": 2, "r:out": 3}, {})
    compiler.everything()
    flows = compiler.compile()
    # vm1 <-> vm2 on the bridge; nothing toward the uplink's neighbour (source NAT)
    assert len(flows) == 2 and all("ipv4_dst" not in f.match for f in flows)
    assert board.owners == {} and state.flows.live(state.flows.data) == set()  # type: ignore


def _ssh_filtered() -> tuple[Any, State, dict[str, Any], Host, Host, FakeNetwork]:
    """The routed hosts once the router drops TCP port 22: hostA compiles no flow."""
    view, state, ports, a, hb, net = _routed_hosts()
    _filter_router(view, "narrow", type="drop", nwProto=6, tpDst={"start": 22, "end": 22})
    a.invalidate(["r"])
    a.compiler.everything()
    assert a.compile() == []
    return view, state, ports, a, hb, net


def test_decisions_on_l4_fields_stay_reactive() -> None:
    view, state, ports, a, hb, net = _ssh_filtered()
    ssh = tcp(MAC1, RMAC1, "10.0.1.11", "10.0.2.12", dport=22)
    assert _delivered(net, "hostA", 1, ssh) == [] and a.misses == 1
    web = tcp(MAC1, RMAC1, "10.0.1.11", "10.0.2.12", dport=80)
    out = _delivered(net, "hostA", 1, web)
    assert a.misses == 2 and [(h, p) for h, p, _ in out] == [("hostB", 1)]
    assert _same(out[0][2], _expected(view, state, ports["vm1"]["id"], web))


def test_a_refused_probe_is_simulated_again_only_after_a_change() -> None:
    view, state, ports, a, hb, net = _ssh_filtered()
    refused = a.compiler.simulations
    a.compiler.everything()  # e.g. an unrelated topology change
    assert a.compile() == [] and a.compiler.simulations == refused
    # the router changes again (no more chain): its probes are simulated and installed
    cast(Topo, view.cache).change(lambda b: b.objects["router"]["r"].update(inboundFilterId=None))
    a.invalidate(["r"])
    a.compiler.everything()
    assert len(a.compile()) == 2 and a.compiler.simulations == refused + 2


def test_flows_per_port_are_capped() -> None:
    b = MemoryTopology()
    br = b.bridge("br")
    vm1 = b.bridge_port(br, host="hostA", interfaceName="tap1")
    others = [b.bridge_port(br, host="hostB", interfaceName=f"t{n}") for n in range(6)]
    _finish(b)
    state = State.in_memory()
    state.macs.learn("br", MAC1, None, vm1["id"])
    for n, port in enumerate(others):
        state.macs.learn("br", f"02:00:00:00:10:{n:02x}", None, port["id"])
    compiler = Compiler(b.view(), state, FlowIndex(), "hostA", {vm1["id"]: 1},
                        {"vxlan": TUNNEL}, max_per_port=4)
    compiler.everything()
    assert len(compiler.compile()) == 4
    compiler.everything()
    assert compiler.compile() == []  # the flows are on the switch, the cap is reached
    assert compiler.installed(vm1["id"]) == 4


class FlakyMacs:
    """A MAC table that fails while ``down``, as the store's may."""

    def __init__(self, macs: Any) -> None:
        self.macs = macs
        self.down = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.macs, name)

    def entries(self, bridge_id: str) -> Any:
        if self.down:
            raise ConnectionError("store unavailable")
        return self.macs.entries(bridge_id)


def test_a_port_that_failed_is_compiled_again_without_a_new_trigger() -> None:
    b, ports = _two_bridges_and_a_router()
    state = State.in_memory()
    _known(state, ports)
    flaky = FlakyMacs(state.macs)
    compiler = Compiler(b.view(), State(cast(Any, flaky), state.arps), FlowIndex(), "hostA",
                        {ports["vm1"]["id"]: 1}, {"vxlan": TUNNEL})
    compiler.ports_plugged([ports["vm1"]["id"]])
    assert compiler.wait(0) and compiler.compile() == []
    flaky.down = False
    assert compiler.wait(0)  # nothing new happened, but the port is due again
    assert len(compiler.compile()) == 2
    assert not compiler.wait(0)


def test_switched_off_compiles_nothing() -> None:
    view, state, ports, a, hb, net = _routed_hosts(enabled=False)
    assert a.flows() == hb.flows() == set()
    hb.compiler.state_changed(mac_tag("br2", MAC2))
    assert hb.compile() == []


# -- changes -------------------------------------------------------------------------------------

def test_a_changed_arp_entry_replaces_exactly_the_flows_built_on_it() -> None:
    view, state, ports, a, hb, net = _routed_hosts()
    before = a.flows()
    state.arps.put("r", "10.0.2.12", MAC4)  # 10.0.2.12 moved to a new MAC, behind vm3
    state.macs.learn("br2", MAC4, None, ports["vm3"]["id"])
    tags = [arp_tag("r", "10.0.2.12"), mac_tag("br2", MAC4)]
    gone = a.invalidate(tags)
    assert len(gone) == 1 and gone < before  # only vm1 -> 10.0.2.12
    for tag in tags:
        a.compiler.state_changed(tag)
    new = a.compile()
    assert len(new) == 1 and new[0].match["ipv4_dst"] == "10.0.2.12"
    assert a.flows() == (before - gone) | {new[0].cookie}
    packet = icmp(MAC1, RMAC1, "10.0.1.11", "10.0.2.12")
    out = _delivered(net, "hostA", 1, packet)
    assert [(h, p, hdr["eth_dst"]) for h, p, hdr in out] == [("hostB", 2, MAC4)]
    assert _same(out[0][2], _expected(view, state, ports["vm1"]["id"], packet))
    assert a.misses == 0


def test_a_moved_mac_replaces_exactly_the_flows_built_on_it() -> None:
    """vm2's MAC (and address) moves behind vm3's port, as after a migration."""
    view, state, ports, a, hb, net = _routed_hosts()
    before_a, before_b = a.flows(), hb.flows()
    state.macs.learn("br2", MAC2, None, ports["vm3"]["id"])
    tag = mac_tag("br2", MAC2)
    gone_a, gone_b = a.invalidate([tag]), hb.invalidate([tag])
    # hostA: vm1 -> 10.0.2.12 only; hostB: vm2's flows as a source (L2 and L3), and
    # vm3 -> MAC2; the flows of vm3 toward vm1 stay
    assert len(gone_a) == 1 and a.flows() == before_a - gone_a
    assert len(gone_b) == 3 and hb.flows() == before_b - gone_b
    for host in (a, hb):
        host.compiler.state_changed(tag)
    assert [f.match["ipv4_dst"] for f in a.compile()] == ["10.0.2.12"]
    # MAC2 is a source behind vm3 now (toward 10.0.1.11); nothing from vm2, or vm3 -> MAC2
    assert [(f.match["in_port"], f.match["eth_src"], f.match["ipv4_dst"])
            for f in hb.compile()] == [(2, MAC2, "10.0.1.11")]
    packet = icmp(MAC1, RMAC1, "10.0.1.11", "10.0.2.12")
    out = _delivered(net, "hostA", 1, packet)
    assert [(h, p) for h, p, _ in out] == [("hostB", 2)] and a.misses == 0
    assert _same(out[0][2], _expected(view, state, ports["vm1"]["id"], packet))


def test_a_topology_change_removes_the_dependent_flows_and_traffic_follows_it() -> None:
    view, state, ports, a, hb, net = _routed_hosts()
    before_a, before_b = a.flows(), hb.flows()
    # a reject route to 10.0.2.12; the agent invalidates the router when a route appears
    reject = "10.0.2.12/32"
    cast(Topo, view.cache).change(lambda b: b.route(b.objects["router"]["r"], reject,
                                                    type="Reject"))
    gone_a, gone_b = a.invalidate(["r"]), hb.invalidate(["r"])
    assert gone_a == before_a and a.flows() == set()  # vm1 only talks through the router
    assert len(hb.flows()) == 2 and gone_b == before_b - hb.flows()  # vm2 <-> vm3 stay
    for host in (a, hb):
        host.compiler.everything()
    # towards 10.0.2.13 is valid again; towards 10.0.2.12 is rejected (an ICMP error)
    assert sorted(f.match["ipv4_dst"] for f in a.compile()) == ["10.0.2.13"]
    assert len(hb.compile()) == 2  # vm2 and vm3 -> 10.0.1.11
    out = _delivered(net, "hostA", 1, icmp(MAC1, RMAC1, "10.0.1.11", "10.0.2.12"))
    assert a.misses == 1  # the reactive path answers it
    assert [(h, p, hdr.get("icmpv4_type")) for h, p, hdr in out] == [("hostA", 1, 3)]
    out = _delivered(net, "hostA", 1, icmp(MAC1, RMAC1, "10.0.1.11", "10.0.2.13"))
    assert [(h, p) for h, p, _ in out] == [("hostB", 2)] and a.misses == 1


def test_a_flow_whose_inputs_changed_on_its_way_is_deleted_after_it() -> None:
    b, ports = _two_bridges_and_a_router()
    state = State.in_memory()
    _known(state, ports)
    index = FlowIndex()
    compiler = Compiler(b.view(), state, index, "hostA", {ports["vm1"]["id"]: 1},
                        {"vxlan": TUNNEL})
    compiler.everything()
    messages = compiler.compile()
    index.invalidate([arp_tag("r", "10.0.2.12")])  # lands before the flows are sent
    late = compiler.confirm(messages)
    assert len(late) == 1
    assert [m.cookie for m in messages if isinstance(m, FlowSpec)
            and m.match.get("ipv4_dst") == "10.0.2.12"] == [late[0].cookie]


def test_a_reactive_flow_with_the_same_match_leaves_the_proactive_one_in_place() -> None:
    """A first packet simulated before the compiler ran installs a reactive flow with the
    proactive flow's match: when that flow idles out, the proactive one still takes the path."""
    net, a = _bridged_hosts()[2:4]
    packet = icmp(MAC1, MAC2, "10.0.0.1", "10.0.0.2")
    assert [(h, p) for h, p, _ in _delivered(net, "hostA", 1, packet)] == [("hostB", 1)]
    assert a.misses == 1
    a.compiler.ports_plugged(a.ofports)
    assert len(a.compile()) == 1
    reactive = {e.cookie for e in a.switch.table(1) if e.msg.idle_timeout}
    assert len(reactive) == 1
    a.switch.apply([FlowDelete(cookie) for cookie in reactive])  # it idled out
    assert [(h, p) for h, p, _ in _delivered(net, "hostA", 1, packet)] == [("hostB", 1)]
    assert a.misses == 1
