"""Proactive flows do what the simulator decides, packet for packet, on random topologies.

Each random topology (:mod:`tests.support.randomtopo`, with its MAC and ARP tables filled)
gets every host's proactive flows, and no agent: a packet that misses goes nowhere, so every
packet delivered was delivered by a proactive flow, and must come out where, and as, the
simulator says (:mod:`tests.support.flowcheck`). The packets are the random ones of the
topology plus, for each proactive flow, random packets aimed at it: its in_port and the
fields it matches, every other header drawn at random (other protocols, ports, ARP, VLAN
tags, fragments, TTLs about to expire), so that a flow more general than its decision shows.
Then the MAC and ARP tables change at random (entries move, go, appear): the flows built on
what changed go, the compilers compile the ports the announcements concern, and the packets
are checked again. Both run on the general random topologies and on tenants behind a
provider router (:func:`~tests.support.randomtopo.routed_topologies`), where paths cross two
or three routers.
"""

from __future__ import annotations

from collections import Counter
from random import Random
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ryu_midonet.agent.proactive import Compiler
from ryu_midonet.datapath.flows import FlowSpec, Message
from ryu_midonet.sim.core.model import ETH_ARP, ETH_IPV4, Packet
from tests.support import randomtopo
from tests.support.flowcheck import AgentHost, Fabric, Report, check, fabric_for, tally
from tests.unit.test_arp_suppression_differential import who_has, with_dhcp

TOPOLOGIES = 300
ROUTED = 150  # provider topologies
CHANGING = 100  # topologies whose tables change between rounds
CHANGING_ROUTED = 50
ROUNDS = 3
AIMED = 6  # random packets aimed at each proactive flow
KNOWN = 150  # topologies whose bridges know addresses (DHCP host entries)
ARP_AIMED = ("eth_src", "eth_dst", "arp_op", "arp_spa", "arp_tpa", "arp_sha")
RUN = settings(max_examples=TOPOLOGIES, derandomize=True, deadline=None, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def aimed(rnd: Random, topo: randomtopo.RandomTopology,
          flows: list[tuple[str, FlowSpec]]) -> list[tuple[str, Packet]]:
    """Random packets that each hit one of ``flows`` ((port id, flow))."""
    endpoints = {e.port_id: e for e in topo.endpoints}
    out: list[tuple[str, Packet]] = []
    for port_id, flow in flows:
        where = endpoints.get(port_id)
        if where is None:
            continue
        fixed = {k: v for k, v in flow.match.items()
                 if k in ("eth_src", "eth_dst", "ipv4_src", "ipv4_dst")}
        if flow.match.get("eth_type") == ETH_ARP:  # an ARP responder: ARP of every kind
            fixed = {k: v for k, v in flow.match.items() if k in ARP_AIMED}
        for _ in range(AIMED):
            packet = randomtopo.packet_from(rnd, topo, where)
            if flow.match.get("eth_type") == ETH_ARP:
                packet = Packet(eth_src=packet.eth_src, eth_dst=packet.eth_dst,
                                eth_type=ETH_ARP, vlan_vid=packet.vlan_vid,
                                arp_op=rnd.choice((1, 1, 2)), arp_spa=where.ip,
                                arp_tpa=rnd.choice(topo.ips or [where.ip]), arp_sha=where.mac,
                                arp_tha=rnd.choice(("00:00:00:00:00:00", packet.eth_dst)))
            if flow.match.get("eth_type") == ETH_IPV4 and packet.eth_type != ETH_IPV4:
                continue
            out.append((port_id, packet.replace(**fixed)))
    return out


def test_proactive_flows_deliver_what_the_simulator_decides() -> None:
    installed, _, totals = _deliver(randomtopo.topologies(), TOPOLOGIES)
    # the run means something only if many packets took proactive flows
    assert installed > TOPOLOGIES, (installed, str(totals))
    assert totals.hits > 5 * TOPOLOGIES, str(totals)
    assert totals.flows > TOPOLOGIES, str(totals)


def test_proactive_flows_through_several_routers_deliver_what_the_simulator_decides() -> None:
    installed, routers, totals = _deliver(randomtopo.routed_topologies(), ROUTED)
    print(f"{ROUTED} provider topologies: {installed} proactive flows, by routers crossed:"
          f" {dict(sorted(routers.items()))}; {totals}")  # shown with pytest -s
    assert routers[2] + routers[3] > ROUTED, dict(routers)
    assert totals.hits > 5 * ROUTED, str(totals)


def test_proactive_flows_with_known_addresses_deliver_what_the_simulator_decides() -> None:
    """Bridges with DHCP host entries: ARP requests to gateways and known addresses are
    answered by proactive ARP responder flows, and routers reach known addresses without
    ever having heard them."""
    installed, _, totals = _deliver(randomtopo.topologies(), KNOWN, dhcp=True)
    print(f"{KNOWN} topologies with DHCP hosts: {installed} proactive flows"
          f" ({responders[0]} ARP responders); {totals}")  # shown with pytest -s
    assert responders[0] > KNOWN, responders
    assert totals.hits > 5 * KNOWN, str(totals)


responders = [0]  # ARP responder flows installed


def _deliver(topologies: st.SearchStrategy[randomtopo.RandomTopology], examples: int,
             dhcp: bool = False) -> tuple[int, Counter[int], Report]:
    """Proactive flows on ``examples`` topologies, and random packets through them: the flows
    installed, how many crossed how many routers, what the check saw."""
    totals = Report()
    installed = [0]
    routers: Counter[int] = Counter()

    @settings(RUN, max_examples=examples)
    @given(st.data())
    def one_topology(data: st.DataObject) -> None:
        topo = data.draw(topologies, label="topology")
        rnd = data.draw(st.randoms(use_true_random=True), label="packets")
        asked: list[tuple[str, Packet]] = []
        if dhcp:
            known = with_dhcp(rnd, topo)
            asked = who_has(rnd, topo, known)
        fabric = fabric_for(topo, reactive=False)
        flows: list[tuple[str, FlowSpec]] = []

        def install(host: AgentHost) -> list[Message]:
            compiler = Compiler(host.view, host.state, host.index, host.name, host.ofports,
                                host.tunnels)
            compiler.everything()
            messages = compiler.compile()
            flows.extend((host.port_at[m.match["in_port"]], m) for m in messages
                         if isinstance(m, FlowSpec))
            return messages

        try:
            for host in fabric.hosts.values():
                host.apply(install(host))
            sequence = asked + randomtopo.packet_sequence(rnd, topo) + aimed(rnd, topo, flows)
            report = check(fabric, topo.view(), topo.state, sequence, stop_at_first=True)
        finally:
            fabric.close()
        installed[0] += len(flows)
        responders[0] += sum(1 for _, f in flows if f.match.get("eth_type") == ETH_ARP)
        routers.update(sum(1 for a in f.actions if a.kind == "dec_ttl") for _, f in flows)
        tally(totals, report, topo)

    one_topology()
    return installed[0], routers, totals


def change_tables(rnd: Random, topo: randomtopo.RandomTopology) -> None:
    """One or two random changes to the MAC and ARP tables (each is announced)."""
    state, objects = topo.state, topo.objects
    bridges, routers = sorted(objects.get("bridge", {})), sorted(objects.get("router", {}))
    for _ in range(rnd.randint(1, 2)):
        what = rnd.choice(("move", "forget", "learn", "arp", "unarp"))
        if what in ("move", "forget", "learn") and bridges:
            bridge = rnd.choice(bridges)
            entries = sorted(state.macs.entries(bridge).items(), key=repr)
            ports = [p["id"] for p in topo.view().ports_of(bridge) if not p.get("peerId")]
            if what == "forget" and entries:
                (mac, vlan), _ = rnd.choice(entries)
                state.macs.forget(bridge, mac, vlan)
            elif ports:
                port = objects["port"][rnd.choice(ports)]
                if what == "move" and entries:
                    mac = rnd.choice(entries)[0][0]
                else:
                    mac = rnd.choice(topo.macs or ["02:77:00:00:00:01"])
                state.macs.learn(bridge, mac, port.get("vlanId") or None, port["id"])
        elif routers:
            router = rnd.choice(routers)
            neighbours = sorted(state.arps.entries(router))
            if what == "unarp" and neighbours:
                state.arps.forget(router, rnd.choice(neighbours))
            else:
                ip = rnd.choice([*neighbours, *(topo.ips or ["10.0.0.99"])])
                state.arps.put(router, ip, rnd.choice(topo.macs or ["02:77:00:00:00:02"]))


@pytest.mark.parametrize(("topologies", "examples"), [
    (randomtopo.topologies(), CHANGING), (randomtopo.routed_topologies(), CHANGING_ROUTED)],
    ids=["random", "routed"])
def test_proactive_flows_follow_mac_and_arp_changes(
        topologies: st.SearchStrategy[randomtopo.RandomTopology], examples: int) -> None:
    totals = Report()

    @settings(RUN, max_examples=examples)
    @given(st.data())
    def one_topology(data: st.DataObject) -> None:
        topo = data.draw(topologies, label="topology")
        rnd = data.draw(st.randoms(use_true_random=True), label="packets and changes")
        fabric: Fabric = fabric_for(topo, reactive=False)  # removes flows on announcements
        compilers = {name: Compiler(h.view, h.state, h.index, h.name, h.ofports, h.tunnels)
                     for name, h in fabric.hosts.items()}
        announced: list[str] = []
        for table in (topo.state.macs, topo.state.arps):
            cast(Any, table).listeners.append(announced.append)
        try:
            for compiler in compilers.values():
                compiler.everything()
            for n in range(ROUNDS):
                if n:
                    change_tables(rnd, topo)
                for name, compiler in compilers.items():
                    for tag in announced:
                        compiler.state_changed(tag)
                    host = fabric.hosts[name]
                    messages = compiler.compile()
                    host.apply(messages)
                    host.apply(compiler.confirm(messages))
                announced.clear()
                flows = [(h.port_at[f.match["in_port"]], f) for h in fabric.hosts.values()
                         for f in live_proactive(h)]
                sequence = randomtopo.packet_sequence(rnd, topo) + aimed(rnd, topo, flows)
                report = check(fabric, topo.view(), topo.state, sequence, stop_at_first=True)
                totals.add(report)
                if report.failures():
                    pytest.fail(f"round {n}: {report.failures()[0].text()}\n"
                                f"topology:\n{topo.describe()}", pytrace=False)
        finally:
            fabric.close()

    one_topology()
    assert totals.hits > 5 * examples, str(totals)


def live_proactive(host: AgentHost) -> list[FlowSpec]:
    """The flows of ``host``'s switch that the compiler installed and that are still there."""
    on_switch = {e.cookie for e in host.switch.table(1)}
    return [f for c, f in host.flows.items() if c in on_switch and c in host.index
            and isinstance(f, FlowSpec) and f.idle_timeout == 0 and f.table == 1]
