"""VLAN-aware bridge scenarios (MidoNet's native L2 gateway).

    physical switches ==trunk t1 (h1)==+                 +-- v5 (VLAN 5) -- u5 [vub5] -- vm5 (h1)
                       ==trunk t2 (h2)==+---- [vab] -----+-- v8 (VLAN 8) -- u8 [vub8] -- vm8 (h2)
"""

from __future__ import annotations

from ryu_midonet.builders.topology import TopologyBuilder
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import MacLearning, Output, Packet, Result, Rewrite, RewriteOp
from ryu_midonet.sim.state import State
from tests.support.matchers import assert_dropped, has_step
from tests.support.packets import udp

VM5, VM8 = "02:00:00:00:05:01", "02:00:00:00:08:01"
PH5, PH8 = "0a:00:00:00:05:02", "0a:00:00:00:08:02"  # physical hosts behind the switches
BCAST, BPDU = "ff:ff:ff:ff:ff:ff", "01:80:c2:00:00:00"
POP = (Rewrite(RewriteOp.POP_VLAN),)


def push(vlan: int) -> tuple[Rewrite, ...]:
    return (Rewrite(RewriteOp.PUSH_VLAN), Rewrite(RewriteOp.SET, "vlan_vid", vlan))


def frame(src: str, dst: str, vlan: int | None = None) -> Packet:
    return udp(src, dst, "10.0.0.1", "10.0.0.2", 1000, 2000).replace(vlan_vid=vlan)


def topology() -> TopologyBuilder:
    b = TopologyBuilder()
    vab = b.bridge("vab")
    b.bridge_port(vab, "h1", port_id="t1")
    b.bridge_port(vab, "h2", port_id="t2")
    for vlan, host in ((5, "h1"), (8, "h2")):
        vub = b.bridge(f"vub{vlan}")
        b.link(b.bridge_port(vab, None, port_id=f"v{vlan}", vlanId=vlan),
               b.bridge_port(vub, None, port_id=f"u{vlan}"))
        b.bridge_port(vub, host, port_id=f"vm{vlan}")
    return b


def run(b: TopologyBuilder, state: State, port: str, packet: Packet) -> Result:
    return simulate(b.view(), state, port, packet)


def test_a_tagged_frame_from_a_trunk_is_untagged_into_its_vlan_only() -> None:
    b, state = topology(), State.in_memory()
    result = run(b, state, "t1", frame(PH5, VM5, 5))
    # unknown on VLAN 5: the other trunk keeps the tag, VLAN 5's bridge gets it untagged
    assert result.outputs == [Output("t2"), Output("vm5", POP)]
    assert "vlan_vid" in result.fields_read
    assert MacLearning("vab", PH5, 5, "t1") in result.learned
    assert has_step(result, "popping VLAN 5")
    for dst in (VM8, BCAST):
        outputs = run(b, state, "t1", frame(PH8, dst, 8)).outputs
        assert outputs == [Output("t2"), Output("vm8", POP)]


def test_a_frame_from_a_vlan_port_is_tagged_to_the_trunks() -> None:
    b, state = topology(), State.in_memory()
    result = run(b, state, "vm5", frame(VM5, PH5))
    assert result.outputs == [Output("t1", push(5)), Output("t2", push(5))]
    assert has_step(result, "pushing VLAN 5")
    assert state.macs.get("vab", VM5, 5) == "v5"  # keyed (mac, vlan)
    assert state.macs.get("vab", VM5, None) is None


def test_learned_macs_choose_the_trunk_and_the_vlan_port() -> None:
    b, state = topology(), State.in_memory()
    run(b, state, "t2", frame(PH5, BCAST, 5))
    assert run(b, state, "vm5", frame(VM5, PH5)).outputs == [Output("t2", push(5))]
    assert run(b, state, "t2", frame(PH5, VM5, 5)).outputs == [Output("vm5", POP)]


def test_vlans_never_leak() -> None:
    b, state = topology(), State.in_memory()
    run(b, state, "vm5", frame(VM5, BCAST))
    run(b, state, "vm8", frame(VM8, BCAST))
    # VLAN 8 asks for VLAN 5's VM: unknown on VLAN 8, it floods VLAN 8 only
    result = run(b, state, "t1", frame(PH8, VM5, 8))
    assert result.outputs == [Output("t2"), Output("vm8", POP)]
    # a stale entry naming the VLAN 5 port for a VLAN 8 MAC is not followed
    state.macs.learn("vab", VM5, 8, "v5")
    assert Output("vm5", POP) not in run(b, state, "t1", frame(PH8, VM5, 8)).outputs
    # VLAN 5's VM reaches VLAN 8's VM only through the trunks, tagged 5
    assert run(b, state, "vm5", frame(VM5, VM8)).outputs == [
        Output("t1", push(5)), Output("t2", push(5))]


def test_untagged_frames_and_bpdus_cross_between_trunks_only() -> None:
    b, state = topology(), State.in_memory()
    for dst in (BPDU, BCAST, VM5):
        assert run(b, state, "t1", frame(PH5, dst)).outputs == [Output("t2")]
    assert has_step(run(b, state, "t2", frame(PH8, BPDU)), "BPDU")
    # a VLAN no port has is bridged between the trunks, tag kept
    assert run(b, state, "t1", frame(PH5, BCAST, 99)).outputs == [Output("t2")]


def test_a_mac_that_moves_to_the_other_trunk_is_relearned() -> None:
    b, state = topology(), State.in_memory()
    run(b, state, "t1", frame(PH5, BCAST, 5))
    assert run(b, state, "vm5", frame(VM5, PH5)).outputs == [Output("t1", push(5))]
    moved = run(b, state, "t2", frame(PH5, BCAST, 5))  # spanning tree flipped
    assert has_step(moved, f"learned {PH5} (vlan 5) behind port t2")
    assert run(b, state, "vm5", frame(VM5, PH5)).outputs == [Output("t2", push(5))]


def test_a_tagged_frame_entering_a_vlan_port_is_dropped() -> None:
    b, state = topology(), State.in_memory()
    result = run(b, state, "vm5", frame(VM5, PH5, 7))
    assert_dropped(result)
    assert has_step(result, "already tagged")


def test_vlan_zero_is_no_vlan() -> None:
    b = TopologyBuilder()
    br = b.bridge("br")
    for name in ("p1", "p2"):
        b.bridge_port(br, port_id=name)
    b.bridge_port(br, port_id="zero", vlanId=0)
    result = run(b, State.in_memory(), "zero", frame(VM5, BCAST, 3))
    assert result.outputs == [Output("p1"), Output("p2")]  # tags carried unchanged
    assert "vlan_vid" not in result.fields_read
