"""The flows the agent installs for load-balanced traffic do what the simulator decides:
connections to the VIP reach the member it chose, translated, on either host, and the
members' replies come back from the VIP, by flows too (in-memory switches,
:mod:`tests.support.flowcheck`).

    client 203.0.113.5 (hostA) --[out]-- r:out 203.0.113.1/24
                                         router r  (load balancer lb, VIP 198.51.100.10:80)
    m1 10.0.0.11 (hostA), m2 10.0.0.12 (hostB) --[net]-- r:in 10.0.0.1/24
"""

from __future__ import annotations

import pytest

from ryu_midonet.sim.core.model import Packet
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.state import State
from tests.support import randomtopo
from tests.support.flowcheck import Fabric, check
from tests.support.packets import tcp
from tests.support.topology import MemoryTopology

CLIENT, VIP = "02:00:00:00:00:0c", "198.51.100.10"
M1, M2 = "02:00:00:00:00:01", "02:00:00:00:00:02"
R_IN, R_OUT = "02:00:00:01:00:01", "02:00:00:01:00:02"


def _lab(persistence: str | None) -> tuple[Fabric, DictView, State]:
    b = MemoryTopology()
    net, out, r = b.bridge("net"), b.bridge("out"), b.router("r", loadBalancerId="lb")
    b.bridge_port(net, host="hostA", port_id="m1")
    b.bridge_port(net, host="hostB", port_id="m2")
    b.bridge_port(out, host="hostA", port_id="client")
    b.link(b.bridge_port(net, host=None), b.router_port(r, "10.0.0.1/24", R_IN))
    b.link(b.bridge_port(out, host=None), b.router_port(r, "203.0.113.1/24", R_OUT))
    b.chain("pre")
    b.rule(b.objects["chain"]["pre"], "drop")
    r["inboundFilterId"] = "pre"
    b._put("tunnelZone", "tz", name="tz", type="vxlan", hostIds=["hostA", "hostB"],
           tzHosts=[{"hostId": "hostA", "ipAddress": "192.0.2.1"},
                    {"hostId": "hostB", "ipAddress": "192.0.2.2"}])
    for key, port in enumerate(b.objects["port"].values(), start=1):
        port["tunnelKey"] = key
    b.objects["loadBalancer"] = {"lb": {"id": "lb", "routerId": r["id"]}}
    b.objects["pool"] = {"p": {"id": "p", "loadBalancerId": "lb", "lbMethod": "ROUND_ROBIN"}}
    b.objects["poolMember"] = {
        f"m{n}": {"id": f"m{n}", "poolId": "p", "address": f"10.0.0.1{n}",
                  "protocolPort": 8080, "weight": n} for n in (1, 2)}
    b.objects["vip"] = {"v": {"id": "v", "poolId": "p", "address": VIP, "protocolPort": 80,
                              "sessionPersistence": persistence}}
    state = State.in_memory(clock=lambda: randomtopo.CLOCK)
    for bridge, mac, port in (("net", M1, "m1"), ("net", M2, "m2"), ("out", CLIENT, "client")):
        state.macs.learn(b.objects["bridge"][bridge]["id"], mac, None, port)
    rid = r["id"]
    state.arps.put(rid, "10.0.0.11", M1)
    state.arps.put(rid, "10.0.0.12", M2)
    state.arps.put(rid, "203.0.113.5", CLIENT)
    view = b.view()
    fabric = Fabric(view, state, {"hostA": {"m1": 1, "client": 2}, "hostB": {"m2": 1}},
                    {"hostA": "192.0.2.1", "hostB": "192.0.2.2"})
    return fabric, view, state


def _to_vip(sport: int) -> Packet:
    return tcp(CLIENT, R_OUT, "203.0.113.5", VIP, sport, 80, ip_dscp=0, ip_ecn=0, ip_frag="no")


def _reply(member: int, sport: int) -> tuple[str, Packet]:
    mac = M1 if member == 1 else M2
    return f"m{member}", tcp(mac, R_IN, f"10.0.0.1{member}", "203.0.113.5", 8080, sport,
                             ip_dscp=0, ip_ecn=0, ip_frag="no")


@pytest.mark.parametrize("persistence", [None, "SOURCE_IP"])
def test_balanced_flows_deliver_what_the_simulator_decides(persistence: str | None) -> None:
    fabric, view, state = _lab(persistence)
    try:
        packets = [("client", _to_vip(40000 + n)) for n in range(12) for _ in range(2)]
        report = check(fabric, view, state, packets)
        assert report.mismatches == [], report.mismatches[0].text()
        assert report.hits >= 12  # each connection's second packet takes its flow
        delivered = {d.host for n in range(12)
                     for d in fabric.send("client", _to_vip(40000 + n)).deliveries}
        # by weight: both members; by source: one
        assert len(delivered) == (2 if persistence is None else 1), delivered
        replies = []
        for n in range(12):
            [seen] = fabric.send("client", _to_vip(40000 + n)).deliveries
            member = 1 if seen.host == "hostA" and seen.port == 1 else 2
            assert seen.headers["ipv4_src"] == "203.0.113.5"  # the client's own address
            replies += [_reply(member, 40000 + n)] * 2
        # (the harness's reference simulation has no flow state: the replies are checked
        # against what the client must see)
        for i, (port_id, packet) in enumerate(replies):
            sent = fabric.send(port_id, packet)
            [back] = sent.deliveries
            assert (back.host, back.port) == ("hostA", 2)
            assert (back.headers["ipv4_src"], back.headers["tcp_src"]) == (VIP, 80)
            assert sent.flow is not None or i % 2 == 0  # the second takes the first's flow
    finally:
        fabric.close()
