"""Learned routes as router routes, and the flows joining an uplink to its BGP namespace."""

from __future__ import annotations

from ryu_midonet.bgp import routes, wire
from ryu_midonet.bgp.rib import Learned
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath.flows import FlowSpec

PEER = "198.51.100.1"


def _route(rid: str, dst: str, length: int, learned: bool = True, port: str = "up",
           gw: str = PEER) -> dict[str, object]:
    return {"id": rid, "dstNetworkAddr": dst, "dstNetworkLength": length, "learned": learned,
            "nextHopPort": port, "nextHopGateway": gw}


def test_only_the_ports_learned_routes_are_its_own() -> None:
    stored = [_route("a", "203.0.113.0", 24), _route("b", "10.0.0.0", 8, learned=False),
              _route("c", "198.18.0.0", 15, port="other")]
    assert routes.owned(stored, "up") == {Learned("203.0.113.0/24", PEER): "a"}


def test_plan_adds_the_new_and_removes_the_withdrawn() -> None:
    have = {Learned("203.0.113.0/24", PEER): "a", Learned("198.18.0.0/15", PEER): "b"}
    want = [Learned("203.0.113.0/24", PEER), Learned("192.0.2.0/24", PEER)]
    assert routes.plan(have, want) == ([Learned("192.0.2.0/24", PEER)], ["b"])
    assert routes.plan(have, []) == ([], ["a", "b"])


def test_a_learned_route_goes_to_the_peer_through_the_uplink() -> None:
    body = routes.route_data(Learned("203.0.113.0/24", PEER), "up")
    assert body["learned"] is True and body["nextHopGateway"] == PEER
    assert (body["dstNetworkAddr"], body["dstNetworkLength"], body["nextHopPort"]) == (
        "203.0.113.0", 24, "up")


def test_the_flows_carry_only_bgp_and_arp_above_the_simulated_ones() -> None:
    flows = wire.flows(7, uplink=3, service=9, address="198.51.100.2")
    for flow in flows:
        assert isinstance(flow, FlowSpec)
        assert flow.priority > p.PRIORITY_NAT_STEER or flow.table == p.TABLE_CLASSIFY
        assert flow.cookie == p.cookie(p.COOKIE_BGP, 7)
    to_ns = [f for f in flows if f.match.get("in_port") == 3]
    assert all(f.match.get("tcp_dst") == 179 or f.match.get("tcp_src") == 179
               or f.match.get("arp_op") == 2 for f in to_ns)
    assert wire.delete(7).cookie == p.cookie(p.COOKIE_BGP, 7)
