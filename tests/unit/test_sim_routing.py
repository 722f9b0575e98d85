"""Route selection: longest prefix, source prefix with fallback, lowest weight, ECMP."""

from __future__ import annotations

import hashlib
from collections import Counter

from ryu_midonet.datapath.translator import match_for
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import IP_ICMP, Packet
from ryu_midonet.sim.devices import routing
from ryu_midonet.sim.state import State
from ryu_midonet.types import Obj
from tests.support import packets
from tests.support.matchers import has_step
from tests.support.topology import MemoryTopology

RMAC, HOST = "02:aa:00:00:00:01", "02:00:00:00:00:01"


def table() -> tuple[MemoryTopology, Obj, dict[str, Obj]]:
    b = MemoryTopology()
    r = b.router("r")
    ports = {"in": b.router_port(r, "10.9.0.1/24", RMAC, host="h", port_id="in")}
    for n in range(1, 5):
        ports[f"up{n}"] = b.router_port(r, f"192.0.{n}.1/24", f"02:aa:00:00:01:0{n}",
                                        host="h", port_id=f"up{n}")
    return b, r, ports


def pick(b: MemoryTopology, src: str, dst: str) -> list[str]:
    candidates = routing.matching_dst(b.view().routes_of("r"), dst)
    return [r["id"] for r in routing.lookup(candidates, src)]


def tcp(src: str, dst: str, sport: int = 40000, dport: int = 80) -> Packet:
    return packets.tcp(HOST, RMAC, src, dst, sport, dport)


def test_longest_prefix_wins() -> None:
    b, r, p = table()
    b.route(r, "0.0.0.0/0", p["up1"], gw="192.0.1.2", route_id="default")
    b.route(r, "172.16.0.0/12", p["up2"], gw="192.0.2.2", route_id="wide")
    b.route(r, "172.16.5.0/24", p["up3"], gw="192.0.3.2", route_id="narrow")
    assert pick(b, "10.9.0.5", "172.16.5.9") == ["narrow"]
    assert pick(b, "10.9.0.5", "172.17.0.1") == ["wide"]
    assert pick(b, "10.9.0.5", "8.8.8.8") == ["default"]


def test_source_prefix_restricts_and_falls_back_to_a_shorter_prefix() -> None:
    b, r, p = table()
    b.route(r, "0.0.0.0/0", p["up1"], gw="192.0.1.2", route_id="default")
    b.route(r, "172.16.0.0/16", p["up2"], gw="192.0.2.2", src="10.9.0.0/25", route_id="policy")
    assert pick(b, "10.9.0.5", "172.16.1.1") == ["policy"]
    # no /16 route for this source: the shorter default applies, not "no route"
    assert pick(b, "10.9.0.200", "172.16.1.1") == ["default"]


def test_lowest_weight_wins() -> None:
    """Pins the decision on the weight conflict: the LOWEST weight is preferred."""
    b, r, p = table()
    b.route(r, "0.0.0.0/0", p["up1"], gw="192.0.1.2", weight=100, route_id="primary")
    b.route(r, "0.0.0.0/0", p["up2"], gw="192.0.2.2", weight=200, route_id="backup")
    assert pick(b, "10.9.0.5", "8.8.8.8") == ["primary"]


def test_equal_routes_are_ecmp_in_id_order() -> None:
    b, r, p = table()
    for n in (3, 1, 2):
        b.route(r, "0.0.0.0/0", p[f"up{n}"], gw=f"192.0.{n}.2", route_id=f"ecmp{n}")
    assert pick(b, "10.9.0.5", "8.8.8.8") == ["ecmp1", "ecmp2", "ecmp3"]


def test_ecmp_pick_is_a_stable_function_of_the_five_tuple() -> None:
    b, r, p = table()
    for n in (1, 2, 3):
        b.route(r, "0.0.0.0/0", p[f"up{n}"], gw=f"192.0.{n}.2", route_id=f"ecmp{n}")
    routes = routing.lookup(routing.matching_dst(b.view().routes_of("r"), "8.8.8.8"),
                            "10.9.0.5")
    first = routing.ecmp_pick(routes, tcp("10.9.0.5", "8.8.8.8"))
    assert all(routing.ecmp_pick(list(routes), tcp("10.9.0.5", "8.8.8.8")) is first
               for _ in range(5))
    # a fixed hash, not Python's per-process one: pinned so agents agree across restarts
    assert first["id"] == routing.ecmp_pick(routes, tcp("10.9.0.5", "8.8.8.8"))["id"]
    spread = Counter(routing.ecmp_pick(routes, tcp("10.9.0.5", "8.8.8.8", sport=s))["id"]
                     for s in range(30000, 30300))
    assert set(spread) == {"ecmp1", "ecmp2", "ecmp3"} and min(spread.values()) > 50


def test_ecmp_hash_value_is_pinned() -> None:
    """The documented hash: blake2b-64 of "src|dst|proto|sport|dport", big-endian, mod N."""
    b, r, p = table()
    for n in (1, 2, 3, 4):
        b.route(r, "0.0.0.0/0", p[f"up{n}"], gw=f"192.0.{n}.2", route_id=f"ecmp{n}")
    routes = routing.lookup(routing.matching_dst(b.view().routes_of("r"), "8.8.8.8"),
                            "10.9.0.5")
    picks = []
    for sport in (1000, 1001, 1002, 1003):
        key = f"10.9.0.5|8.8.8.8|6|{sport}|80".encode()
        n = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") % 4
        assert routing.ecmp_pick(routes, tcp("10.9.0.5", "8.8.8.8", sport=sport)) is routes[n]
        picks.append(routes[n]["id"])
    assert picks == ["ecmp2", "ecmp2", "ecmp1", "ecmp4"]


def test_ecmp_fields_depend_on_the_protocol() -> None:
    assert routing.ecmp_fields(tcp("1.1.1.1", "2.2.2.2")) == (
        "ipv4_src", "ipv4_dst", "ip_proto", "ip_frag", "tcp_src", "tcp_dst")
    udp = packets.udp(HOST, RMAC, "1.1.1.1", "2.2.2.2", 1, 2, ttl=None)
    assert routing.ecmp_fields(udp)[-2:] == ("udp_src", "udp_dst")
    icmp = udp.replace(ip_proto=IP_ICMP, udp_src=None, udp_dst=None)
    assert routing.ecmp_fields(icmp) == ("ipv4_src", "ipv4_dst", "ip_proto")


def ecmp_table(n: int = 4) -> tuple[MemoryTopology, State]:
    b, r, p = table()
    state = State.in_memory()
    for i in range(1, n + 1):
        b.route(r, "0.0.0.0/0", p[f"up{i}"], gw=f"192.0.{i}.2", route_id=f"ecmp{i}")
        state.arps.put("r", f"192.0.{i}.2", f"02:00:00:00:0{i}:02")
    return b, state


def udp_fragments(src: str, sport: int) -> tuple[Packet, Packet]:
    first = packets.udp(HOST, RMAC, src, "8.8.8.8", sport, 53, ip_frag="first")
    return first, first.replace(ip_frag="later", udp_src=None, udp_dst=None)


def test_every_fragment_of_a_datagram_takes_the_same_path() -> None:
    b, state = ecmp_table()
    for host in range(1, 40):
        for sport in (1000, 2000, 3000):
            first, later = udp_fragments(f"10.9.0.{host}", sport)
            a = simulate(b.view(), state, "in", first)
            z = simulate(b.view(), state, "in", later)
            assert a.outputs == z.outputs and len(a.outputs) == 1
            # the first fragment's flow does not depend on its ports, so it is exact for the
            # first fragments of every datagram between the two hosts
            assert a.fields_read == z.fields_read == {
                "eth_dst", "eth_type", "vlan_vid", "ipv4_src", "ipv4_dst", "ip_proto", "ip_frag"}


def test_fragments_still_spread_over_the_paths_by_address() -> None:
    b, state = ecmp_table()
    used = {simulate(b.view(), state, "in", udp_fragments(f"10.9.0.{h}", 1)[1]).outputs[0]
            for h in range(1, 60)}
    assert len(used) == 4


def test_an_unfragmented_packet_flow_is_not_one_for_first_fragments() -> None:
    b, state = ecmp_table()
    whole = packets.udp(HOST, RMAC, "10.9.0.5", "8.8.8.8", 1000, 53)
    result = simulate(b.view(), state, "in", whole)
    assert {"udp_src", "udp_dst", "ip_frag"} <= result.fields_read
    assert match_for(whole, 1, result.fields_read)["ip_frag"] == (0, 3)
    first = udp_fragments("10.9.0.5", 1000)[0]
    match = match_for(first, 1, simulate(b.view(), state, "in", first).fields_read)
    assert match["ip_frag"] == (1, 3) and "udp_src" not in match


def test_simulated_ecmp_reads_the_five_tuple() -> None:
    b, r, p = table()
    state = State.in_memory()
    for n in (1, 2):
        b.route(r, "0.0.0.0/0", p[f"up{n}"], gw=f"192.0.{n}.2", route_id=f"ecmp{n}")
        state.arps.put("r", f"192.0.{n}.2", f"02:00:00:00:0{n}:02")
    result = simulate(b.view(), state, "in", tcp("10.9.0.5", "8.8.8.8"))
    assert result.cacheable and len(result.outputs) == 1
    assert {"ipv4_src", "ipv4_dst", "ip_proto", "tcp_src", "tcp_dst"} <= result.fields_read
    assert has_step(result, "ECMP, 1 of 2")


def test_single_route_does_not_read_the_source() -> None:
    b, r, p = table()
    state = State.in_memory()
    b.route(r, "0.0.0.0/0", p["up1"], gw="192.0.1.2")
    state.arps.put("r", "192.0.1.2", "02:00:00:00:01:02")
    result = simulate(b.view(), state, "in", tcp("10.9.0.5", "8.8.8.8"))
    assert not result.dropped
    assert not {"ipv4_src", "tcp_src", "tcp_dst"} & result.fields_read


def test_a_source_restricted_candidate_makes_the_source_read() -> None:
    b, r, p = table()
    state = State.in_memory()
    b.route(r, "0.0.0.0/0", p["up1"], gw="192.0.1.2")
    b.route(r, "8.0.0.0/8", p["up2"], gw="192.0.2.2", src="10.9.0.0/25")
    state.arps.put("r", "192.0.1.2", "02:00:00:00:01:02")
    result = simulate(b.view(), state, "in", tcp("10.9.0.200", "8.8.8.8"))
    assert result.outputs[0].port_id == "up1"
    assert "ipv4_src" in result.fields_read
