"""With addresses the bridges learned from the VMs' own ARP (their ARP tables), the flows the
agent installs still do what the simulator decides, packet for packet: random topologies of
:mod:`tests.support.randomtopo` (no DHCP: the bridges know the addresses only by hearing
them), through the differential check of :mod:`tests.support.flowcheck`, with ARP the VMs
send (requests, replies, gratuitous announcements, probes) and requests for the addresses
they use mixed into the random packets."""

from __future__ import annotations

from random import Random

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import ETH_ARP, Packet
from tests.support import randomtopo
from tests.support.flowcheck import Report, check_topology, copy_tables

TOPOLOGIES = 60
RUN = settings(max_examples=TOPOLOGIES, derandomize=True, deadline=None, database=None,
               phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BROADCAST, ZERO = "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00"


def arp(src_mac: str, spa: str, tpa: str, op: int = 1, dst: str = BROADCAST) -> Packet:
    return Packet(eth_src=src_mac, eth_dst=dst, eth_type=ETH_ARP, arp_op=op, arp_sha=src_mac,
                  arp_spa=spa, arp_tha=ZERO if op == 1 else dst, arp_tpa=tpa)


def heard(rnd: Random, topo: randomtopo.RandomTopology) -> list[tuple[str, Packet]]:
    """ARP the endpoints send: requests, unicast replies, announcements and probes (the
    probes teach nothing), each sent twice."""
    out = []
    for _ in range(6):
        e, other = rnd.choice(topo.endpoints), rnd.choice(topo.endpoints)
        packet = rnd.choice([arp(e.mac, e.ip, other.ip), arp(e.mac, e.ip, e.ip),
                             arp(e.mac, e.ip, other.ip, 2, other.mac),
                             arp(e.mac, "0.0.0.0", e.ip)])
        out += [(e.port_id, packet), (e.port_id, packet)]
    return out


def who_has(rnd: Random, topo: randomtopo.RandomTopology) -> list[tuple[str, Packet]]:
    """Requests from random endpoints for the endpoints' addresses and an unknown one."""
    out = []
    for _ in range(6):
        e = rnd.choice(topo.endpoints)
        tpa = rnd.choice([x.ip for x in topo.endpoints] + ["10.254.0.1"])
        out += [(e.port_id, arp(e.mac, e.ip, tpa))] * 2
    return out


def test_flows_with_learned_addresses_deliver_what_the_simulator_decides() -> None:
    totals = Report()
    answered = [0]  # requests a bridge answered from its ARP table

    @RUN
    @given(st.data())
    def one_topology(data: st.DataObject) -> None:
        topo = data.draw(randomtopo.topologies(), label="topology")
        rnd = data.draw(st.randoms(use_true_random=True))
        if not topo.endpoints:
            return
        taught = heard(rnd, topo)
        sequence = data.draw(randomtopo.packets(topo, max_base=8, max_variants=4),
                             label="packets")
        asked = who_has(rnd, topo)
        state = copy_tables(topo.state, topo.view())
        for port_id, packet in taught + asked:
            result = simulate(topo.view(), state, port_id, packet)
            known = any(state.ip4macs.get(b, str(packet.arp_tpa))
                        for b in topo.objects.get("bridge", {}))
            if packet in [p for _, p in asked] and known:
                answered[0] += any(
                    (o.port_id == port_id and any(rw.op == "arp_reply"
                                                  for rw in o.rewrites))
                    for o in result.outputs) or any(
                    e.port_id == port_id and e.packet.arp_op == 2 for e in result.emits)
        sequence = taught + asked + sequence + heard(rnd, topo) + who_has(rnd, topo)
        check_topology(totals, topo, sequence, randomtopo.prober(rnd, topo))

    one_topology()
    print(f"{TOPOLOGIES} topologies, {totals}; {answered[0]} ARP requests answered from a"
          " bridge's ARP table")  # shown with pytest -s
    assert totals.hits > 5 * TOPOLOGIES, str(totals)
    # learned addresses were asked for (the examples, and so the count, change with the source)
    assert answered[0] > TOPOLOGIES // 3, answered
