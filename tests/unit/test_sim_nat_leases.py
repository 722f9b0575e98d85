"""SNAT port blocks leased per host: exclusive blocks, unique ports across hosts, release."""

from __future__ import annotations

from typing import Any

import pytest
from fakeclock import Clock

from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import Packet, Result
from ryu_midonet.sim.state import MemoryArpTable, MemoryMacTable, State
from ryu_midonet.sim.state.flowstate import MemoryFlowTable
from ryu_midonet.sim.state.leases import (
    BLOCK_SIZE,
    LeaseBoard,
    MemoryBlockLeases,
    PortLeaser,
    block_of,
    block_ports,
)
from tests.support import packets
from tests.support.matchers import assert_dropped
from tests.support.topology import MemoryTopology

VM, RIN, ROUT, FAR = (f"02:00:00:00:00:0{n}" for n in range(1, 5))
NAT_IP, REMOTE = "198.51.100.2", "8.8.8.8"


def test_blocks_and_their_ports() -> None:
    assert BLOCK_SIZE == 64 and block_of(63) == 0 and block_of(64) == 1
    assert block_ports(0, 0, 65535) == range(1, 64)  # port 0 is never handed out
    assert block_ports(15, 1000, 1001) == range(1000, 1002)
    assert block_ports(1023, 1, 65535) == range(65472, 65536)
    assert not block_ports(3, 1000, 1001)


def test_leases_are_exclusive_until_released_or_lapsed(clock: Clock) -> None:
    board = LeaseBoard(ttl=300, clock=clock)
    a, b = MemoryBlockLeases("a", board), MemoryBlockLeases("b", board)
    assert a.acquire(NAT_IP, 10, 11) == 10
    assert b.acquire(NAT_IP, 10, 11) == 11
    assert b.acquire(NAT_IP, 10, 11) is None
    assert a.owner(NAT_IP, 11) == "b" and a.held(NAT_IP) == {10}
    assert not b.renew(NAT_IP, 10) and not b.release(NAT_IP, 10)
    assert b.release(NAT_IP, 11) and a.acquire(NAT_IP, 11, 11) == 11
    clock.now += 200
    assert a.renew(NAT_IP, 10)
    clock.now += 200  # block 11 lapsed; block 10 was renewed
    assert a.held(NAT_IP) == {10} and b.acquire(NAT_IP, 10, 11) == 11


def test_the_leaser_tries_its_blocks_then_leases_more() -> None:
    leaser = PortLeaser(MemoryBlockLeases("a"))
    ports = leaser.candidates(NAT_IP, 1000, 1100)
    first = [next(ports) for _ in range(24)]
    assert first == list(range(1000, 1024))  # block 15, within the range
    assert next(ports) == 1024  # block 16 leased when needed
    leaser.used(NAT_IP, 1000, "k1")
    again = leaser.candidates(NAT_IP, 1000, 1100)
    assert next(again) == 1001  # the search goes on after the last port handed out
    assert leaser.in_use("k1") and not leaser.in_use("k2")


def test_maintain_renews_blocks_in_use_and_releases_the_rest(clock: Clock) -> None:
    board = LeaseBoard(ttl=300, clock=clock)
    flows = MemoryFlowTable(ttl=120, clock=clock)
    leaser = PortLeaser(MemoryBlockLeases("a", board))
    ports = leaser.candidates(NAT_IP, 1, 200)
    next(ports)
    flows.put("k1", "x")
    leaser.used(NAT_IP, 1, "k1")
    for _ in range(70):
        next(ports)  # leases block 1 too, unused
    clock.now += 100
    assert leaser.maintain(flows) == 1  # block 1 released, block 0 renewed
    assert board.owner(NAT_IP, 0) == "a" and board.owner(NAT_IP, 1) is None
    clock.now += 150  # k1 expired
    assert leaser.maintain(flows) == 1
    assert board.owner(NAT_IP, 0) is None and not leaser.users


# -- through the simulator, two hosts -------------------------------------------------------------

@pytest.fixture
def b() -> MemoryTopology:
    b = MemoryTopology()
    r = b.router("r")
    b.router_port(r, "10.0.0.1/16", RIN, host="h1", port_id="r:in")
    up = b.router_port(r, "198.51.100.1/24", ROUT, host="gw", port_id="r:out")
    b.route(r, "0.0.0.0/0", up, gw="198.51.100.254")
    post = b.chain("post")
    b.rule(post, "snat", outPorts=["r:out"], natTargets=[f"{NAT_IP}:1024-65535"])
    b.objects["router"]["r"]["outboundFilterId"] = "post"
    return b


def host(name: str, flows: MemoryFlowTable, board: LeaseBoard, clock: Clock) -> State:
    state = State(MemoryMacTable(clock=clock), MemoryArpTable(clock=clock), flows,
                  PortLeaser(MemoryBlockLeases(name, board)))
    state.arps.put("r", "198.51.100.254", FAR)
    return state


def tcp(src: str, sport: int = 40000, dport: int = 443) -> Packet:
    return packets.tcp(VM, RIN, src, REMOTE, sport, dport)


def nat_port(result: Result) -> Any:
    (output,) = result.outputs
    return {r.field: r.value for r in output.rewrites if r.op == "set"}["tcp_src"]


def test_ports_are_unique_across_hosts(b: MemoryTopology, clock: Clock) -> None:
    flows, board = MemoryFlowTable(clock=clock), LeaseBoard(clock=clock)
    hosts = {name: host(name, flows, board, clock) for name in ("a", "b")}
    used: dict[str, set[int]] = {"a": set(), "b": set()}
    for n in range(150):
        name = "ab"[n % 2]
        src = f"10.0.{n // 200}.{n % 200 + 2}"
        used[name].add(nat_port(simulate(b.view(), hosts[name], "r:in", tcp(src))))
    assert len(used["a"]) == len(used["b"]) == 75 and not used["a"] & used["b"]
    blocks = {name: {block_of(p) for p in ports} for name, ports in used.items()}
    assert not blocks["a"] & blocks["b"]  # each host picks in its own blocks
    assert all(board.owner(NAT_IP, blk) == name for name in blocks for blk in blocks[name])


def test_a_full_range_drops_until_connections_expire(b: MemoryTopology, clock: Clock) -> None:
    b.objects["rule"]["post/rule0"]["natTargets"] = [
        {"addressFrom": NAT_IP, "addressTo": NAT_IP, "portFrom": 1000, "portTo": 1001}]
    flows, board = MemoryFlowTable(ttl=120, clock=clock), LeaseBoard(ttl=300, clock=clock)
    a, other = host("a", flows, board, clock), host("b", flows, board, clock)
    assert nat_port(simulate(b.view(), a, "r:in", tcp("10.0.0.2"))) == 1000
    assert nat_port(simulate(b.view(), a, "r:in", tcp("10.0.0.3"))) == 1001
    full = simulate(b.view(), a, "r:in", tcp("10.0.0.4"))
    assert full.dropped and not full.cacheable
    assert_dropped(simulate(b.view(), other, "r:in", tcp("10.0.0.5")))  # the block is a's
    other_dst = simulate(b.view(), a, "r:in", tcp("10.0.0.4", dport=80))
    assert nat_port(other_dst) == 1000  # another destination: the port may be shared
    clock.now += 121  # the connections went idle: their entries expire
    assert a.leases.maintain(flows) == 1
    assert nat_port(simulate(b.view(), other, "r:in", tcp("10.0.0.5"))) == 1000


def test_a_restarted_host_adopts_its_blocks_and_skips_ports_in_use(
        b: MemoryTopology, clock: Clock) -> None:
    flows, board = MemoryFlowTable(clock=clock), LeaseBoard(clock=clock)
    first = nat_port(simulate(b.view(), host("a", flows, board, clock), "r:in",
                              tcp("10.0.0.2")))
    restarted = host("a", flows, board, clock)  # same host id, nothing in memory
    second = nat_port(simulate(b.view(), restarted, "r:in", tcp("10.0.0.3")))
    assert block_of(first) == block_of(second) and first != second
    assert restarted.leases.maintain(flows) == 0  # still in use: renewed
