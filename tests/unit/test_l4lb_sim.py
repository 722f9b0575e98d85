"""The router's L4 load balancer in the simulator: VIP translation, member choice by weight
and by source, replies translated back, filters skipped, member and persistence changes.

The topology (sim_tenant)::

    vm1 10.0.0.11, vm2 10.0.0.12 --[br]-- br:up ~ r:in 10.0.0.1/24
                                        router r   r:out 198.51.100.1/24 (uplink)

Load balancer ``lb`` on ``r``, pool ``p`` with members vm1:8080 (m1) and vm2:8080 (m2), VIP
198.51.100.10:80. The router's inbound chain drops everything: only balanced traffic passes.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import pytest
from fakeclock import Clock
from sim_tenant import FAR, REMOTE, RIN, ROUT, VM1, tcp, tenant, tenant_state

from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import Packet, Result
from ryu_midonet.sim.state import State
from ryu_midonet.sim.state.flowstate import STICKY_PREFIX, STICKY_TTL, MemoryFlowTable
from tests.support.topology import MemoryTopology

VIP = "198.51.100.10"


@pytest.fixture
def b() -> MemoryTopology:
    b = tenant()
    b.rule(b.objects["chain"]["pre"], "drop")
    b.objects["router"]["r"]["loadBalancerId"] = "lb"
    b.objects["loadBalancer"] = {"lb": {"id": "lb", "routerId": "r", "adminStateUp": True}}
    b.objects["pool"] = {"p": {"id": "p", "loadBalancerId": "lb", "protocol": "TCP",
                               "lbMethod": "ROUND_ROBIN", "adminStateUp": True}}
    b.objects["poolMember"] = {
        f"m{n}": {"id": f"m{n}", "poolId": "p", "address": f"10.0.0.1{n}",
                  "protocolPort": 8080, "weight": 1, "adminStateUp": True, "status": "ACTIVE"}
        for n in (1, 2)}
    b.objects["vip"] = {"v": {"id": "v", "poolId": "p", "loadBalancerId": "lb",
                              "address": VIP, "protocolPort": 80, "sessionPersistence": None,
                              "adminStateUp": True}}
    return b


@pytest.fixture
def state() -> State:
    return tenant_state()


def to_vip(sport: int = 40000, src: str = REMOTE, dport: int = 80) -> Packet:
    return tcp(FAR, ROUT, src, VIP, sport, dport)


def sets(result: Result) -> dict[str, Any]:
    (output,) = result.outputs
    return {r.field: r.value for r in output.rewrites if r.op == "set"}


def member_of(result: Result) -> str:
    return {"vm1": "m1", "vm2": "m2"}[result.outputs[0].port_id]


def reply(result: Result, sport: int = 40000, src: str = REMOTE) -> Packet:
    s = sets(result)
    vm = VM1 if result.outputs[0].port_id == "vm1" else "02:00:00:00:00:02"
    return tcp(vm, RIN, s["ipv4_dst"], src, 8080, sport)


def edit(b: MemoryTopology, kind: str, obj_id: str, **fields: Any) -> None:
    b.objects[kind][obj_id] = {**b.objects[kind][obj_id], **fields}  # a new topology version


def test_vip_traffic_reaches_a_member_with_its_source_kept_and_skips_filters(
        b: MemoryTopology, state: State) -> None:
    forward = simulate(b.view(), state, "r:out", to_vip())
    assert forward.outputs, forward.trace
    s = sets(forward)
    assert s["ipv4_dst"] in ("10.0.0.11", "10.0.0.12") and s["tcp_dst"] == 8080
    assert "ipv4_src" not in s  # the member sees the client's address
    assert {"lb", "p", "v", "m1", "m2"} <= forward.tags
    back = simulate(b.view(), state, forward.outputs[0].port_id, reply(forward))
    assert [o.port_id for o in back.outputs] == ["r:out"], back.trace
    assert sets(back)["ipv4_src"] == VIP and sets(back)["tcp_src"] == 80
    again = simulate(b.view(), state, "r:out", to_vip())
    assert sets(again) == s  # every packet of the connection reaches the same member


def test_other_traffic_still_goes_through_the_filters(b: MemoryTopology, state: State) -> None:
    assert not simulate(b.view(), state, "r:out", to_vip(dport=81)).outputs
    plain = tcp(FAR, ROUT, REMOTE, "10.0.0.11", 40000, 8080)
    assert not simulate(b.view(), state, "r:out", plain).outputs
    stray = tcp(VM1, RIN, "10.0.0.11", REMOTE, 8080, 40000)  # no balanced connection
    assert not simulate(b.view(), state, "vm1", stray).outputs


def test_connections_spread_by_weight(b: MemoryTopology, state: State) -> None:
    edit(b, "poolMember", "m2", weight=3)
    counts = Counter(member_of(simulate(b.view(), state, "r:out", to_vip(sport=30000 + n)))
                     for n in range(400))
    assert 60 <= counts["m1"] <= 140 and counts["m1"] + counts["m2"] == 400
    edit(b, "poolMember", "m1", weight=0)
    assert {member_of(simulate(b.view(), state, "r:out", to_vip(sport=20000 + n)))
            for n in range(20)} == {"m2"}


def test_source_ip_persistence_keeps_a_source_on_one_member(
        b: MemoryTopology, state: State) -> None:
    edit(b, "vip", "v", sessionPersistence="SOURCE_IP")
    for n in range(20):
        src = f"203.0.113.{n}"
        assert len({member_of(simulate(b.view(), state, "r:out", to_vip(30000 + i, src)))
                    for i in range(10)}) == 1
    chosen = {member_of(simulate(b.view(), state, "r:out", to_vip(1000, f"203.0.113.{n}")))
              for n in range(40)}
    assert chosen == {"m1", "m2"}  # sources spread


def test_inactive_down_or_weightless_members_get_no_new_connection(
        b: MemoryTopology, state: State) -> None:
    for change in ({"status": "INACTIVE"}, {"adminStateUp": False}, {"weight": 0}):
        edit(b, "poolMember", "m1", **change)
        assert {member_of(simulate(b.view(), state, "r:out", to_vip(sport=10000 + n)))
                for n in range(20)} == {"m2"}
        edit(b, "poolMember", "m1", status="ACTIVE", adminStateUp=True, weight=1)
    edit(b, "poolMember", "m2", status="INACTIVE")
    edit(b, "poolMember", "m1", status="INACTIVE")
    assert not simulate(b.view(), state, "r:out", to_vip(sport=9)).outputs


@pytest.mark.parametrize("down", ["vip", "pool", "loadBalancer"])
def test_a_vip_down_is_not_balanced(b: MemoryTopology, state: State, down: str) -> None:
    obj_id = {"vip": "v", "pool": "p", "loadBalancer": "lb"}[down]
    edit(b, down, obj_id, adminStateUp=False)
    assert not simulate(b.view(), state, "r:out", to_vip()).outputs  # the filters drop it


def connection_to(b: MemoryTopology, state: State, member: str) -> tuple[int, Result]:
    for n in range(200):
        forward = simulate(b.view(), state, "r:out", to_vip(sport=50000 + n))
        if member_of(forward) == member:
            return 50000 + n, forward
    raise AssertionError(f"no connection reached {member}")


def test_a_disabled_member_finishes_its_connections_without_persistence(
        b: MemoryTopology, state: State) -> None:
    sport, forward = connection_to(b, state, "m1")
    edit(b, "poolMember", "m1", adminStateUp=False)
    assert member_of(simulate(b.view(), state, "r:out", to_vip(sport=sport))) == "m1"
    assert simulate(b.view(), state, "vm1", reply(forward, sport)).outputs


def test_a_disabled_member_drops_its_connections_with_persistence(
        b: MemoryTopology, state: State) -> None:
    edit(b, "vip", "v", sessionPersistence="SOURCE_IP")
    forward = simulate(b.view(), state, "r:out", to_vip())
    member = member_of(forward)
    edit(b, "poolMember", member, adminStateUp=False)
    assert not simulate(b.view(), state, "r:out", to_vip()).outputs
    assert not simulate(b.view(), state, forward.outputs[0].port_id, reply(forward)).outputs
    assert member_of(simulate(b.view(), state, "r:out", to_vip(sport=1))) != member


def test_toggling_persistence_drops_existing_connections(
        b: MemoryTopology, state: State) -> None:
    forward = simulate(b.view(), state, "r:out", to_vip())
    edit(b, "vip", "v", sessionPersistence="SOURCE_IP")
    assert not simulate(b.view(), state, forward.outputs[0].port_id, reply(forward)).outputs
    assert not simulate(b.view(), state, "r:out", to_vip()).outputs
    assert simulate(b.view(), state, "r:out", to_vip(sport=40001)).outputs  # a new one
    edit(b, "vip", "v", sessionPersistence=None)
    assert simulate(b.view(), state, "r:out", to_vip()).outputs  # its own again
    assert not simulate(b.view(), state, "r:out", to_vip(sport=40001)).outputs


def test_a_removed_member_drops_its_connections(b: MemoryTopology, state: State) -> None:
    sport, forward = connection_to(b, state, "m2")
    del b.objects["poolMember"]["m2"]
    b.objects["poolMember"] = dict(b.objects["poolMember"])
    assert not simulate(b.view(), state, "r:out", to_vip(sport=sport)).outputs


def test_a_router_without_load_balancer_reads_nothing_more(state: State) -> None:
    b = tenant()
    plain = tcp(FAR, ROUT, REMOTE, "10.0.0.11", 40000, 8080)
    assert "tcp_dst" not in simulate(b.view(), state, "r:out", plain).fields_read


def test_members_and_vips_without_an_address_or_port_are_left_out(
        b: MemoryTopology, state: State) -> None:
    edit(b, "poolMember", "m1", address=None)
    edit(b, "poolMember", "m2", protocolPort="8080")
    assert not simulate(b.view(), state, "r:out", to_vip()).outputs
    edit(b, "vip", "v", protocolPort=None)
    assert not simulate(b.view(), state, "r:out", to_vip()).outputs  # not a VIP: filtered


def _source_hashed_to(b: MemoryTopology, member: str) -> str:
    """A source address whose member by hashing alone (no sticky entry) is ``member``."""
    for n in range(100):
        src = f"192.0.2.{n}"
        if member_of(simulate(b.view(), tenant_state(), "r:out", to_vip(1, src))) == member:
            return src
    raise AssertionError(f"no source hashes to {member}")


def test_a_sticky_source_keeps_its_member_when_the_hashed_one_comes_back(
        b: MemoryTopology, state: State) -> None:
    """The sticky entry, not the hash, holds a source: one that moved while its member was
    down stays where it went, and keeps it for a day idle."""
    edit(b, "vip", "v", sessionPersistence="SOURCE_IP")
    src = _source_hashed_to(b, "m1")
    edit(b, "poolMember", "m1", status="INACTIVE")
    assert member_of(simulate(b.view(), state, "r:out", to_vip(2, src))) == "m2"
    edit(b, "poolMember", "m1", status="ACTIVE")
    assert member_of(simulate(b.view(), state, "r:out", to_vip(3, src))) == "m2"
    key = f"{STICKY_PREFIX}v:{src}"
    assert state.flows.get(key) == "10.0.0.12:8080"


def test_a_sticky_entry_lives_a_day_after_its_last_use(b: MemoryTopology) -> None:
    clock = Clock()
    state = tenant_state()
    state = dataclasses.replace(state, flows=MemoryFlowTable(clock=clock))
    edit(b, "vip", "v", sessionPersistence="SOURCE_IP")
    src = _source_hashed_to(b, "m1")
    edit(b, "poolMember", "m1", status="INACTIVE")
    assert member_of(simulate(b.view(), state, "r:out", to_vip(2, src))) == "m2"
    edit(b, "poolMember", "m1", status="ACTIVE")
    clock.now += STICKY_TTL - 60
    assert member_of(simulate(b.view(), state, "r:out", to_vip(3, src))) == "m2"  # used
    clock.now += STICKY_TTL - 60
    assert member_of(simulate(b.view(), state, "r:out", to_vip(4, src))) == "m2"
    clock.now += STICKY_TTL + 1  # a day idle: the hash decides again
    assert member_of(simulate(b.view(), state, "r:out", to_vip(5, src))) == "m1"
