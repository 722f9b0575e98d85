"""networking-sfc port chains in the simulator: classification, hops in group order, load
shared in a group, the service header between hops, proxy for header-unaware functions, the
reverse path of a symmetric chain.

The topology: one network with a client VM port ``vm``, a web server port ``web``, and four
two-armed functions: a firewall group ``fw`` of two instances (fw1, fw2: ports fw1-in/out,
fw2-in/out, MPLS-aware) and an IDS group ``ids`` of two header-unaware instances (ids1,
ids2). Chain ``web`` (chain id 7) takes TCP to port 80 from 10.0.0.0/24 entering at ``vm`` for
``web`` through fw then ids.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from ryu_midonet.sim.core.model import ETH_IPV4, IP_TCP, IP_UDP, Packet
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.devices.port_chain import (
    Answer,
    Hop,
    ServiceHeader,
    classify,
    decode,
    returned,
)

SFS = ("fw1", "fw2", "ids1", "ids2")


def pair(name: str, correlation: str | None, weight: int = 1) -> dict[str, Any]:
    return {"id": name, "ingress": f"{name}-in", "egress": f"{name}-out",
            "service_function_parameters": {"correlation": correlation, "weight": weight}}


def topology(symmetric: bool = False, lb_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    ports = ["vm", "web"] + [f"{sf}-{end}" for sf in SFS for end in ("in", "out")]
    return {
        "port": {p: {"id": p, "type": "Bridge", "deviceId": "net", "adminStateUp": True}
                 for p in ports},
        "portPair": {"fw1": pair("fw1", "mpls"), "fw2": pair("fw2", "mpls"),
                     "ids1": pair("ids1", None), "ids2": pair("ids2", None)},
        "portPairGroup": {
            "fw": {"id": "fw", "port_pairs": ["fw1", "fw2"],
                   "port_pair_group_parameters": {"lb_fields": list(lb_fields)}},
            "ids": {"id": "ids", "port_pairs": ["ids1", "ids2"],
                    "port_pair_group_parameters": {"lb_fields": []}}},
        "flowClassifier": {"http": {
            "id": "http", "ethertype": "IPv4", "protocol": "tcp",
            "source_ip_prefix": "10.0.0.0/24", "destination_ip_prefix": None,
            "source_port_range_min": None, "source_port_range_max": None,
            "destination_port_range_min": 80, "destination_port_range_max": 80,
            "logical_source_port": "vm", "logical_destination_port": "web"}},
        "portChain": {"web": {
            "id": "web", "chain_id": 7, "port_pair_groups": ["fw", "ids"],
            "flow_classifiers": ["http"],
            "chain_parameters": {"correlation": "mpls", "symmetric": symmetric}}},
    }


def tcp(sport: int = 40000, dport: int = 80, src: str = "10.0.0.5",
        dst: str = "10.0.1.80", proto: int = IP_TCP) -> Packet:
    ports = {"tcp_src": sport, "tcp_dst": dport} if proto == IP_TCP else \
        {"udp_src": sport, "udp_dst": dport}
    return Packet("02:00:00:00:00:05", "02:00:00:00:00:50", ETH_IPV4, ipv4_src=src,
                  ipv4_dst=dst, ip_proto=proto, **ports)


def reply(p: Packet) -> Packet:
    return p.replace(eth_src=p.eth_dst, eth_dst=p.eth_src, ipv4_src=p.ipv4_dst,
                     ipv4_dst=p.ipv4_src, tcp_src=p.tcp_dst, tcp_dst=p.tcp_src)


def hop(answer: Answer) -> Hop:
    assert answer.hop is not None, answer.steps
    return answer.hop


def walk(view: DictView, p: Packet, in_port: str, out_port: str) -> list[Hop]:
    """Every hop of a packet's path, as the forwarders see it: each function returns the
    packet at its pair's other port, carrying the header it got (none when proxied)."""
    h = hop(classify(view, p, in_port, out_port))
    hops = [h]
    while not h.done:
        assert not h.dropped and h.back_port is not None
        h = hop(returned(view, p, h.back_port, None if h.proxied else h.header))
        hops.append(h)
    return hops


@pytest.fixture
def view() -> DictView:
    return DictView(topology())


def test_classified_traffic_passes_each_group_in_order(view: DictView) -> None:
    hops = walk(view, tcp(), "vm", "web")
    assert [(h.group, h.header.hop) for h in hops] == [("fw", 0), ("ids", 1), (None, 1)]
    fw, ids, end = hops
    assert fw.port_id in ("fw1-in", "fw2-in") and fw.back_port == fw.port_id[:-2] + "out"
    assert not fw.proxied and fw.header == ServiceHeader("mpls", 7, 0)
    assert ids.proxied and ids.port_id in ("ids1-in", "ids2-in")  # header-unaware: by proxy
    assert end.done and end.chain == "web"  # the header comes off before the destination

    answer = classify(view, tcp(), "vm", "web")
    assert "flow classifier http of chain web matches" in answer.steps[0].decision
    assert "mpls label" in answer.steps[1].decision
    assert answer.fields_read >= {"eth_type", "ip_proto", "ipv4_src", "tcp_dst"}
    assert {"web", "http", "fw", fw.pair} <= answer.tags


@pytest.mark.parametrize("packet, in_port, out_port", [
    (tcp(dport=22), "vm", "web"),  # another port
    (tcp(src="10.9.0.5"), "vm", "web"),  # another subnet
    (tcp(proto=IP_UDP), "vm", "web"),  # another protocol
    (tcp(), "web", "vm"),  # another ingress port (the chain is not symmetric)
    (tcp(), "vm", "fw1-in"),  # another destination port
])
def test_other_traffic_goes_direct(view: DictView, packet: Packet, in_port: str,
                                   out_port: str) -> None:
    answer = classify(view, packet, in_port, out_port)
    assert answer.hop is None
    assert answer.steps[-1].decision.endswith("the packet goes direct")


def test_a_group_shares_connections_among_its_pairs_by_weight() -> None:
    objs = topology()
    view = DictView(objs)
    firsts = Counter(hop(classify(view, tcp(sport=s), "vm", "web")).pair
                     for s in range(30000, 30400))
    assert set(firsts) == {"fw1", "fw2"} and min(firsts.values()) > 120
    # a connection stays on its instance; weight 0 takes an instance out
    again = [hop(classify(view, tcp(sport=s), "vm", "web")).pair for s in range(30000, 30020)]
    assert again == [hop(classify(view, tcp(sport=s), "vm", "web")).pair
                     for s in range(30000, 30020)]
    objs["portPair"]["fw1"]["service_function_parameters"]["weight"] = 0
    view = DictView(objs)
    assert {hop(classify(view, tcp(sport=s), "vm", "web")).pair
            for s in range(30000, 30050)} == {"fw2"}


def test_lb_fields_choose_what_the_hash_reads() -> None:
    view = DictView(topology(lb_fields=("ip_src",)))
    by_source = {hop(classify(view, tcp(sport=s), "vm", "web")).pair for s in range(40000,
                                                                                   40050)}
    assert len(by_source) == 1  # every connection of one source: one instance
    answer = classify(view, tcp(), "vm", "web")
    assert "tcp_src" not in answer.fields_read


def test_a_proxied_function_gets_the_packet_bare_and_the_header_is_restored(
        view: DictView) -> None:
    fw = hop(classify(view, tcp(), "vm", "web"))
    ids = hop(returned(view, tcp(), str(fw.back_port), fw.header))
    assert ids.proxied and ids.header == ServiceHeader("mpls", 7, 1)
    answer = returned(view, tcp(), str(ids.back_port), None)
    assert "restored (proxy)" in answer.steps[0].decision
    assert hop(answer).done
    # a packet without a header at a port that returns none of the chain's: dropped
    assert hop(returned(view, tcp(), "vm", None)).dropped


def test_a_symmetric_chain_carries_replies_back_through_the_same_instances() -> None:
    view = DictView(topology(symmetric=True))
    for sport in range(41000, 41030):
        request = tcp(sport=sport)
        forward = walk(view, request, "vm", "web")
        back = walk(view, reply(request), "web", "vm")
        assert [h.group for h in back] == ["ids", "fw", None]
        assert [h.pair for h in back[:2]] == [h.pair for h in forward[1::-1]]
        assert all(h.header.reverse for h in back)
        assert back[1].port_id == f"{back[1].pair}-out"  # enters at the egress going back
        assert back[1].back_port == f"{back[1].pair}-in"
    # a packet from the web server that is not a reply to the classified traffic goes direct
    assert classify(view, tcp(sport=8080, dport=40000).replace(
        ipv4_src="10.0.1.80", ipv4_dst="10.0.0.5"), "web", "vm").hop is None


def test_a_group_without_a_usable_pair_drops_the_packet() -> None:
    objs = topology()
    for name in ("ids1", "ids2"):
        objs["port"][f"{name}-in"]["adminStateUp"] = False
    view = DictView(objs)
    fw = hop(classify(view, tcp(), "vm", "web"))
    ids = hop(returned(view, tcp(), str(fw.back_port), fw.header))
    assert ids.dropped and not ids.done
    objs["portPairGroup"]["fw"]["port_pairs"] = []
    assert hop(classify(DictView(objs), tcp(), "vm", "web")).dropped


@pytest.mark.parametrize("header", [
    ServiceHeader("mpls", 7, 0), ServiceHeader("mpls", 2047, 3, reverse=True),
    ServiceHeader("nsh", 65535, 1), ServiceHeader("nsh", 1, 0, reverse=True)])
def test_the_service_header_round_trips(header: ServiceHeader) -> None:
    assert decode(header.correlation, header.value) == header
    if header.correlation == "mpls":
        assert header.value < 1 << 20  # an MPLS label is 20 bits
    assert decode("mpls", 0) is None
