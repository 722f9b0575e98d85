"""Proactive flows do what the simulator decides, packet for packet, on random topologies.

Each random topology (:mod:`tests.support.randomtopo`, with its MAC and ARP tables filled)
gets every host's proactive flows, and no agent: a packet that misses goes nowhere, so every
packet delivered was delivered by a proactive flow, and must come out where, and as, the
simulator says (:mod:`tests.support.flowcheck`). The packets are the random ones of the
topology plus, for each proactive flow, random packets aimed at it: its in_port and the
fields it matches, every other header drawn at random (other protocols, ports, ARP, VLAN
tags, fragments, TTLs about to expire), so that a flow more general than its decision shows.
"""

from __future__ import annotations

from random import Random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ryu_midonet.agent.proactive import Compiler
from ryu_midonet.datapath.flows import FlowSpec, Message
from ryu_midonet.sim.core.model import ETH_IPV4, Packet
from tests.support import randomtopo
from tests.support.flowcheck import AgentHost, Report, check, fabric_for

TOPOLOGIES = 300
AIMED = 6  # random packets aimed at each proactive flow
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
        for _ in range(AIMED):
            packet = randomtopo.packet_from(rnd, topo, where)
            if flow.match.get("eth_type") == ETH_IPV4 and packet.eth_type != ETH_IPV4:
                continue
            out.append((port_id, packet.replace(**fixed)))
    return out


def test_proactive_flows_deliver_what_the_simulator_decides() -> None:
    totals = Report()
    installed = [0]

    @RUN
    @given(st.data())
    def one_topology(data: st.DataObject) -> None:
        topo = data.draw(randomtopo.topologies(), label="topology")
        rnd = data.draw(st.randoms(use_true_random=True), label="packets")
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
            sequence = randomtopo.packet_sequence(rnd, topo) + aimed(rnd, topo, flows)
            report = check(fabric, topo.view(), topo.state, sequence, stop_at_first=True)
        finally:
            fabric.close()
        totals.add(report)
        installed[0] += len(flows)
        if report.mismatches:
            pytest.fail(f"{report.mismatches[0].text()}\ntopology:\n{topo.describe()}",
                        pytrace=False)

    one_topology()
    # the run means something only if many packets took proactive flows
    assert installed[0] > TOPOLOGIES, (installed[0], str(totals))
    assert totals.hits > 5 * TOPOLOGIES, str(totals)
    assert totals.flows > TOPOLOGIES, str(totals)
