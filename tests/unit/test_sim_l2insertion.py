"""L2 insertion scenarios: given two service functions (on bridge1) protecting VM1's MAC on
bridge0's port p1, when a frame enters here, then it leaves there, tagged so."""

from __future__ import annotations

from typing import Any

from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import Output, Packet, Rewrite, RewriteOp
from ryu_midonet.sim.state import State
from tests.support.matchers import assert_dropped, has_step
from tests.support.packets import udp
from tests.support.topology import MemoryTopology

VM1, VM2 = "fa:16:3e:a4:dd:58", "02:00:00:00:00:02"


def frame(src: str, dst: str, **kw: Any) -> Packet:
    return udp(src, dst, "10.0.0.1", "10.0.0.2", 1000, 2000).replace(**kw)


def setup(vlans: tuple[int, int] = (10, 20), fail_open: tuple[bool, bool] = (True, True)
          ) -> tuple[MemoryTopology, State]:
    """bridge0: p1 (VM1, protected), p2 (VM2); bridge1: s1, s2 (the functions)."""
    b = MemoryTopology()
    br0, br1 = b.bridge("bridge0"), b.bridge("bridge1")
    for name in ("p1", "p2"):
        b.bridge_port(br0, port_id=name)
    for name in ("s1", "s2"):
        b.bridge_port(br1, port_id=name)
    for pos, (srv, vlan, fo) in enumerate(zip(("s1", "s2"), vlans, fail_open, strict=True)):
        b.objects.setdefault("l2Insertion", {})[f"i{pos}"] = {
            "id": f"i{pos}", "portId": "p1", "srvPortId": srv, "mac": VM1, "vlan": vlan,
            "position": pos, "failOpen": fo}
    state = State.in_memory()
    # each bridge knows where the VMs are
    simulate(b.view(), state, "p1", frame(VM1, VM2))
    simulate(b.view(), state, "p2", frame(VM2, VM1))
    return b, state


def tag(vid: int, pcp: int) -> tuple[Rewrite, ...]:
    return (Rewrite(RewriteOp.PUSH_VLAN), Rewrite(RewriteOp.SET, "vlan_vid", vid),
            Rewrite(RewriteOp.SET, "vlan_pcp", pcp))


POP = (Rewrite(RewriteOp.POP_VLAN),)


def test_from_the_protected_mac_through_both_functions_then_to_the_destination() -> None:
    b, state = setup()
    first = simulate(b.view(), state, "p1", frame(VM1, VM2))
    assert first.outputs == [Output("s1", tag(10, 1))]
    assert has_step(first, "l2insertion i0: to service port s1 tagged vlan 10 pcp 1")
    back1 = simulate(b.view(), state, "s1", frame(VM1, VM2, vlan_vid=10, vlan_pcp=1))
    assert back1.outputs == [Output("s2", (Rewrite(RewriteOp.SET, "vlan_vid", 20),))]
    assert {"vlan_vid", "vlan_pcp", "eth_src"} <= back1.fields_read
    back2 = simulate(b.view(), state, "s2", frame(VM1, VM2, vlan_vid=20, vlan_pcp=1))
    assert back2.outputs == [Output("p2", POP)]
    assert has_step(back2, "past the last function, into the device of inspected port p1")


def test_to_the_protected_mac_after_its_ports_filters_with_pcp_2() -> None:
    b, state = setup()
    first = simulate(b.view(), state, "p2", frame(VM2, VM1))
    assert first.outputs == [Output("s1", tag(10, 2))]
    back1 = simulate(b.view(), state, "s1", frame(VM2, VM1, vlan_vid=10, vlan_pcp=2))
    assert back1.outputs == [Output("s2", (Rewrite(RewriteOp.SET, "vlan_vid", 20),))]
    back2 = simulate(b.view(), state, "s2", frame(VM2, VM1, vlan_vid=20, vlan_pcp=2))
    assert back2.outputs == [Output("p1", POP)]


def test_untagged_insertions() -> None:
    b, state = setup(vlans=(0, 0))
    assert simulate(b.view(), state, "p1", frame(VM1, VM2)).outputs == [Output("s1")]
    assert simulate(b.view(), state, "s1", frame(VM1, VM2)).outputs == [Output("s2")]
    assert simulate(b.view(), state, "s2", frame(VM2, VM1)).outputs == [Output("p1")]


def test_other_traffic_of_the_inspected_port_is_not_redirected() -> None:
    b, state = setup()
    other = "02:00:00:00:00:99"
    assert simulate(b.view(), state, "p1", frame(other, VM2)).outputs == [Output("p2")]


def test_non_insertion_traffic_into_a_service_port_is_dropped() -> None:
    b, state = setup()
    for packet in (frame(VM2, VM1), frame(VM1, VM2, vlan_vid=10, vlan_pcp=3),
                   frame(VM1, VM2, vlan_vid=11, vlan_pcp=1), frame(VM1, VM2),
                   frame(VM1, VM2, vlan_vid=10, vlan_pcp=2)):
        result = simulate(b.view(), state, "s1", packet)
        assert_dropped(result)
        assert has_step(result, "no insertion traffic: dropping")


def test_a_down_function_is_skipped_when_fail_open() -> None:
    b, state = setup()
    b.objects["port"]["s1"]["linkUp"] = False
    result = simulate(b.view(), state, "p1", frame(VM1, VM2))
    assert result.outputs == [Output("s2", tag(20, 1))]
    assert has_step(result, "service port s1 is down, skipped (fail-open)")
    b.objects["port"]["s2"]["linkUp"] = False
    assert simulate(b.view(), state, "p1", frame(VM1, VM2)).outputs == [Output("p2")]


def test_a_down_function_drops_when_not_fail_open() -> None:
    b, state = setup(fail_open=(False, True))
    b.objects["port"]["s1"]["linkUp"] = False
    result = simulate(b.view(), state, "p1", frame(VM1, VM2))
    assert_dropped(result)
    assert has_step(result, "not fail-open: dropping")


def test_without_insertions_traffic_goes_direct() -> None:
    b, state = setup()
    del b.objects["l2Insertion"]
    assert simulate(b.view(), state, "p1", frame(VM1, VM2)).outputs == [Output("p2")]
