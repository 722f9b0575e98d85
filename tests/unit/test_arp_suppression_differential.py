"""With addresses the topology knows (DHCP host entries on the bridges), the flows the agent
installs still do what the simulator decides, packet for packet: random topologies of
:mod:`tests.support.randomtopo` given DHCP subnets and host entries, through the
differential check of :mod:`tests.support.flowcheck`, with ARP requests for known and unknown
addresses mixed into the random packets."""

from __future__ import annotations

from random import Random

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import ETH_ARP, Packet, RewriteOp
from tests.support import randomtopo
from tests.support.flowcheck import Report, check_topology, copy_tables

TOPOLOGIES = 150
RUN = settings(max_examples=TOPOLOGIES, derandomize=True, deadline=None, database=None,
               phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BROADCAST, ZERO = "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00"


def with_dhcp(rnd: Random, topo: randomtopo.RandomTopology) -> list[str]:
    """A DHCP subnet (enabled or not) on each bridge with host entries for some of its VMs
    and some other addresses; the addresses entered."""
    objects = topo.objects
    subnets, hosts = objects.setdefault("dhcpSubnet", {}), objects.setdefault("dhcpHost", {})
    known = []
    for bridge_id in sorted(objects.get("bridge", {})):
        sid = f"dhcp-{bridge_id}"
        subnets[sid] = {"id": sid, "bridgeId": bridge_id, "subnetPrefix": "0.0.0.0",
                        "subnetLength": 0, "serverAddr": f"10.255.{len(subnets)}.2",
                        "enabled": rnd.random() < 0.8}
        on_bridge = [e for e in topo.endpoints
                     if objects["port"][e.port_id].get("deviceId") == bridge_id]
        entries = [(e.mac, e.ip) for e in on_bridge if rnd.random() < 0.6]
        entries += [(rnd.choice(topo.macs or ["02:00:00:00:99:99"]), ip)
                    for ip in rnd.sample(topo.ips, min(2, len(topo.ips)))]
        for n, (mac, ip) in enumerate(entries):
            hosts[f"{sid}-{n}"] = {"id": f"{sid}-{n}", "bridgeId": bridge_id,
                                   "subnetId": sid, "macAddr": mac, "ipAddr": ip}
            known.append(ip)
    return known


def who_has(rnd: Random, topo: randomtopo.RandomTopology, known: list[str]
            ) -> list[tuple[str, Packet]]:
    """ARP requests from random endpoints for known and unknown addresses, each twice."""
    out = []
    for _ in range(6):
        where = rnd.choice(topo.endpoints)
        tpa = rnd.choice(known + topo.ips + ["10.254.0.1"]) if known else "10.254.0.1"
        request = Packet(eth_src=where.mac, eth_dst=BROADCAST, eth_type=ETH_ARP, arp_op=1,
                         arp_sha=where.mac, arp_spa=where.ip, arp_tha=ZERO, arp_tpa=tpa)
        out += [(where.port_id, request), (where.port_id, request)]
    return out


def test_flows_with_known_addresses_deliver_what_the_simulator_decides() -> None:
    totals = Report()
    answered = [0]  # ARP requests a bridge answered itself, with a generated packet
    in_place = [0]  # or in place (an ARP responder flow)

    @RUN
    @given(st.data())
    def one_topology(data: st.DataObject) -> None:
        topo = data.draw(randomtopo.topologies(), label="topology")
        rnd = data.draw(st.randoms(use_true_random=True))
        known = with_dhcp(rnd, topo)
        sequence = data.draw(randomtopo.packets(topo, max_base=8, max_variants=4),
                             label="packets")
        asked = who_has(rnd, topo, known)
        for port_id, request in asked:
            result = simulate(topo.view(), copy_tables(topo.state, topo.view()), port_id,
                              request)
            answered[0] += any(e.port_id == port_id and e.packet.arp_op == 2
                               and e.packet.arp_spa == request.arp_tpa for e in result.emits)
            in_place[0] += any(o.port_id == port_id and rw.op is RewriteOp.ARP_REPLY
                               for o in result.outputs for rw in o.rewrites)
        sequence = asked + sequence + who_has(rnd, topo, known)
        check_topology(totals, topo, sequence, randomtopo.prober(rnd, topo))

    one_topology()
    print(f"{TOPOLOGIES} topologies with DHCP hosts, {totals}; {answered[0]} + {in_place[0]}"
          " ARP requests answered by a device (generated + in place)")  # pytest -s
    assert totals.hits > 5 * TOPOLOGIES, str(totals)
    # the known addresses were asked for, and most answers are flows
    assert answered[0] + in_place[0] > TOPOLOGIES, (answered, in_place)
    assert in_place[0] > answered[0], (answered, in_place)
