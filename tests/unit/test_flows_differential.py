"""The flows the agent installs do what the simulator decides, packet for packet.

Random topologies and packets (:mod:`tests.support.randomtopo`) go through in-memory switches
whose misses the agent's packet handler answers; every packet a flow handles must come out
where, and as, the simulator says (:mod:`tests.support.flowcheck`). The focused tests below
it are the bugs that comparison found.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ryu_midonet.datapath.flows import FlowSpec
from ryu_midonet.sim.core.model import Packet
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.state import State
from tests.support import randomtopo
from tests.support.flowcheck import Fabric, Report, check, check_topology
from tests.support.packets import icmp, tcp
from tests.support.topology import MemoryTopology

TOPOLOGIES = 400
ROUTED = 100  # tenants behind a provider router: paths through two or three routers
# No shrinking: a failure prints its topology, packet, flow and both decisions in full, and
# the examples are seeds, which shrinking would only try one after another.
RUN = settings(max_examples=TOPOLOGIES, derandomize=True, deadline=None, database=None,
               phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_flows_deliver_what_the_simulator_decides() -> None:
    totals = _deliver(randomtopo.topologies(), TOPOLOGIES)
    print(f"{TOPOLOGIES} topologies, {totals}")  # shown with pytest -s
    # the run means something only if flows took many packets (not just the agent)
    assert totals.hits > 10 * TOPOLOGIES, str(totals)
    assert totals.flows > 3 * TOPOLOGIES, str(totals)


def test_flows_through_several_routers_deliver_what_the_simulator_decides() -> None:
    """Including the TTLs that run out on the way (traceroute's probes, random TTLs)."""
    totals = _deliver(randomtopo.routed_topologies(), ROUTED)
    print(f"{ROUTED} provider topologies, {totals}")
    assert totals.hits > 10 * ROUTED, str(totals)


def _deliver(topologies: st.SearchStrategy[randomtopo.RandomTopology], examples: int
             ) -> Report:
    """Random packets through ``examples`` topologies: what the check saw."""
    totals = Report()

    @settings(RUN, max_examples=examples)
    @given(st.data())
    def one_topology(data: st.DataObject) -> None:
        topo = data.draw(topologies, label="topology")
        sequence = data.draw(randomtopo.packets(topo, max_base=10, max_variants=6),
                             label="packets")
        probe = randomtopo.prober(data.draw(st.randoms(use_true_random=True)), topo)
        check_topology(totals, topo, sequence, probe)

    one_topology()
    return totals


# -- found by the comparison -------------------------------------------------------------------

VM_MAC, ROUTER_MAC = "02:00:00:00:00:0a", "02:00:00:01:00:01"


def _on_host_a(b: MemoryTopology) -> State:
    """Put hostA in a tunnel zone, give every port a tunnel key; empty tables."""
    b._put("tunnelZone", "tz", name="tz", type="vxlan", hostIds=["hostA"],
           tzHosts=[{"hostId": "hostA", "ipAddress": "192.0.2.1"}])
    for key, port in enumerate(b.objects["port"].values(), start=1):
        port["tunnelKey"] = key
    return State.in_memory(clock=lambda: randomtopo.CLOCK)


def _one_vm_behind_a_router() -> tuple[MemoryTopology, DictView, State, dict[str, int]]:
    b = MemoryTopology()
    br, rtr = b.bridge("br"), b.router("r")
    vm = b.bridge_port(br, host="hostA", port_id="vm")
    uplink = b.bridge_port(br, host=None)
    rport = b.router_port(rtr, "10.0.0.1/24", ROUTER_MAC)
    b.link(uplink, rport)
    state = _on_host_a(b)
    state.macs.learn("br", VM_MAC, None, vm["id"])
    state.arps.put("r", "10.0.0.10", VM_MAC)
    return b, b.view(), state, {vm["id"]: 1}


def test_a_packet_routed_back_out_of_its_ingress_port_is_delivered() -> None:
    """A router sends a VM's packet back out of the port it came in by (here: to the VM's
    own address). A switch never outputs a packet to its ingress port by number, so the flow
    and the packet-out must name the ``in_port`` port."""
    b, view, state, ports = _one_vm_behind_a_router()
    fabric = Fabric(view, state, {"hostA": ports}, {"hostA": "192.0.2.1"})
    packet = tcp(VM_MAC, ROUTER_MAC, "10.0.0.10", "10.0.0.10", ip_dscp=0, ip_ecn=0,
                 ip_frag="no")
    report = check(fabric, view, state, [("vm", packet), ("vm", packet)])
    assert report.mismatches == [], report.mismatches[0].text()
    assert (report.misses, report.hits) == (1, 1)
    host = fabric.hosts["hostA"]
    [flow] = [f for f in host.flows.values() if isinstance(f, FlowSpec) and f.table == 1
              and f.match.get("eth_type")]
    assert str(flow.actions[-1]) == "output:in_port"
    back = fabric.send("vm", packet).deliveries
    assert [(d.port, d.headers["eth_src"], d.headers["nw_ttl"]) for d in back] == [
        (1, ROUTER_MAC, 63)]


def test_a_router_rewrites_a_source_mac_that_already_had_its_value() -> None:
    """The first packet through a router's uplink already carries, as its source, the MAC
    of the port the router sends it out of (a spoofer): the flow built from it must still
    set the source MAC, since it takes the packets of every source."""
    b, view, state, ports = _one_vm_behind_a_router()
    uplink = b.router_port(b.objects["router"]["r"], "192.168.0.1/24", "02:00:00:01:ff:01",
                           host="hostA", port_id="up")
    uplink["tunnelKey"] = 99
    fabric = Fabric(view, state, {"hostA": {**ports, "up": 2}}, {"hostA": "192.0.2.1"})
    spoofed = tcp(ROUTER_MAC, uplink["portMac"], "192.168.0.2", "10.0.0.10", ip_dscp=0,
                  ip_ecn=0, ip_frag="no")
    honest = spoofed.replace(eth_src="02:ee:00:00:00:01")
    report = check(fabric, view, state, [("up", spoofed), ("up", honest)])
    assert report.mismatches == [], report.mismatches[0].text()
    assert report.hits == 1


def test_a_flow_built_from_an_untagged_packet_does_not_take_tagged_ones() -> None:
    """A router drops VLAN-tagged frames: the flow routing an untagged packet matches
    untagged packets only, and a tagged one goes to the agent, which drops it."""
    b, view, state, ports = _one_vm_behind_a_router()
    fabric = Fabric(view, state, {"hostA": ports}, {"hostA": "192.0.2.1"})
    untagged = tcp(VM_MAC, ROUTER_MAC, "10.0.0.10", "10.0.0.10", ip_dscp=0, ip_ecn=0,
                   ip_frag="no")
    tagged = untagged.replace(vlan_vid=10)
    report = check(fabric, view, state, [("vm", untagged), ("vm", tagged), ("vm", tagged)])
    assert report.mismatches == [], report.mismatches[0].text()
    assert fabric.send("vm", tagged).deliveries == []


def test_a_flow_for_a_group_source_leaves_sources_to_learn_to_the_agent() -> None:
    """A bridge learns no group (multicast) source: the flow built for one must not take
    frames from unicast sources, which the agent has to see to learn them."""
    b = MemoryTopology()
    br = b.bridge("br")
    b.bridge_port(br, host="hostA", port_id="vm1")
    b.bridge_port(br, host="hostA", port_id="vm2")
    state = _on_host_a(b)
    state.macs.learn("br", VM_MAC, None, "vm2")
    view = b.view()
    fabric = Fabric(view, state, {"hostA": {"vm1": 1, "vm2": 2}}, {"hostA": "192.0.2.1"})
    group = tcp(randomtopo.MCAST, VM_MAC, "10.0.0.11", "10.0.0.10", ip_dscp=0, ip_ecn=0,
                ip_frag="no")
    unicast = group.replace(eth_src="02:00:00:00:00:0b")
    report = check(fabric, view, state, [("vm1", group), ("vm1", group), ("vm1", unicast)])
    assert report.mismatches == [], report.mismatches[0].text()
    assert (report.hits, report.misses) == (1, 2)
    assert state.macs.get("br", "02:00:00:00:00:0b", None) == "vm1"


# -- TTLs that expire on a flow's path -----------------------------------------------------------

VM0, VM1 = "02:00:00:00:00:0a", "02:00:00:00:01:0a"
R0_MAC = "02:00:00:00:00:01"


def _two_routers() -> tuple[Fabric, DictView, State, MemoryTopology]:
    """vm0 on b0 -- r0 -- r1 -- b1 with vm1, every table filled."""
    b = MemoryTopology()
    b0, b1, r0, r1 = b.bridge("b0"), b.bridge("b1"), b.router("r0"), b.router("r1")
    b.bridge_port(b0, host="hostA", port_id="vm0")
    b.bridge_port(b1, host="hostA", port_id="vm1")
    b.link(b.bridge_port(b0, host=None), b.router_port(r0, "10.0.0.1/24", R0_MAC))
    b.link(b.bridge_port(b1, host=None), b.router_port(r1, "10.0.1.1/24", "02:00:00:00:01:01"))
    l0 = b.router_port(r0, "172.16.0.1/30", "02:00:00:00:80:01")
    l1 = b.router_port(r1, "172.16.0.2/30", "02:00:00:00:80:02")
    b.link(l0, l1)
    b.route(r0, "10.0.1.0/24", l0, gw="172.16.0.2")
    b.route(r1, "10.0.0.0/24", l1, gw="172.16.0.1")
    state = _on_host_a(b)
    state.macs.learn("b0", VM0, None, "vm0")
    state.macs.learn("b1", VM1, None, "vm1")
    state.arps.put("r0", "10.0.0.10", VM0)
    state.arps.put("r1", "10.0.1.10", VM1)
    view = b.view()
    return Fabric(view, state, {"hostA": {"vm0": 1, "vm1": 2}}, {"hostA": "192.0.2.1"}), \
        view, state, b


def _ping(ttl: int = 64) -> Packet:
    return icmp(VM0, R0_MAC, "10.0.0.10", "10.0.1.10", ttl=ttl, ip_dscp=0, ip_ecn=0,
                ip_frag="no", payload=b"\0\1\0\1")


def test_the_second_router_answers_a_ttl_that_expires_there() -> None:
    """traceroute's second probe: r1 must answer with time exceeded, not r0 (the packet the
    flow's second dec_ttl hands over says how many decrements it had)."""
    fabric, view, state, _ = _two_routers()
    report = check(fabric, view, state, [("vm0", _ping()), ("vm0", _ping()),
                                         ("vm0", _ping(ttl=2))])
    assert report.mismatches == [], report.mismatches[0].text()


def test_a_ttl_expiring_at_a_router_is_answered_though_a_later_filter_drops() -> None:
    """r1's outbound filter drops the packet after r0 and r1 routed it: a packet whose TTL
    expires at r0, or at r1 (before its filter), still gets that router's time exceeded."""
    fabric, view, state, b = _two_routers()
    chain = b.chain("drop-all")
    b.rule(chain, "drop")
    b.objects["router"]["r1"]["outboundFilterId"] = chain["id"]
    report = check(fabric, view, state, [("vm0", _ping()), ("vm0", _ping()),
                                         ("vm0", _ping(ttl=1)), ("vm0", _ping(ttl=2))])
    assert report.mismatches == [], report.mismatches[0].text()
    assert (report.hits, report.misses) == (1, 3)
    answers = [fabric.send("vm0", _ping(ttl=ttl)).deliveries for ttl in (1, 2)]
    assert [[(d.headers["ipv4_src"], d.headers["icmpv4_type"]) for d in a] for a in answers] \
        == [[("10.0.0.1", 11)], [("172.16.0.2", 11)]]
