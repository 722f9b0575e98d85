"""Bridge scenarios: given a bridge, when a frame enters a port, then it leaves these ports."""

from __future__ import annotations

from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import MacLearning, Output, Packet
from ryu_midonet.sim.state import State
from tests.support.matchers import assert_dropped, assert_step, has_step, last_step
from tests.support.packets import udp
from tests.support.topology import MemoryTopology

VM1, VM2, VM3 = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"
BCAST = "ff:ff:ff:ff:ff:ff"


def frame(src: str, dst: str) -> Packet:
    return udp(src, dst, "10.0.0.1", "10.0.0.2", 1000, 2000)


def three_port_bridge() -> tuple[MemoryTopology, dict]:
    b = MemoryTopology()
    br = b.bridge("br")
    ports = {n: b.bridge_port(br, port_id=n) for n in ("p1", "p2", "p3")}
    return b, ports


def test_unknown_destination_floods_to_every_other_port() -> None:
    b, _ = three_port_bridge()
    state = State.in_memory()
    result = simulate(b.view(), state, "p1", frame(VM1, VM2))
    assert result.outputs == [Output("p2"), Output("p3")]
    assert result.fields_read == {"eth_dst", "eth_type"}  # eth_type: is it ARP to learn?
    assert result.cacheable
    # the absence of VM2's entry caused the flood: learning it must remove the flow
    assert {"br", "p1", "p2", "p3", f"mac:br:{VM2}"} <= result.tags


def test_source_is_learned_as_a_side_effect() -> None:
    b, _ = three_port_bridge()
    state = State.in_memory()
    result = simulate(b.view(), state, "p1", frame(VM1, VM2))
    assert result.learned == [MacLearning("br", VM1, None, "p1")]
    assert "eth_src" not in result.fields_read
    assert state.macs.get("br", VM1, None) == "p1"


def test_known_destination_goes_to_its_port_only() -> None:
    b, _ = three_port_bridge()
    state = State.in_memory()
    simulate(b.view(), state, "p2", frame(VM2, VM1))  # VM2 learned on p2
    result = simulate(b.view(), state, "p1", frame(VM1, VM2))
    assert result.outputs == [Output("p2")]
    assert result.fields_read == {"eth_dst", "eth_type"}  # eth_type: is it ARP to learn?
    assert f"mac:br:{VM2}" in result.tags and "p3" not in result.tags
    assert result.cacheable


def test_learning_a_flooded_destination_announces_its_tag() -> None:
    b, _ = three_port_bridge()
    state = State.in_memory()
    heard: list[str] = []
    state.macs.listeners.append(heard.append)  # type: ignore[attr-defined]
    flood = simulate(b.view(), state, "p1", frame(VM1, VM2))
    simulate(b.view(), state, "p2", frame(VM2, VM1))
    assert f"mac:br:{VM2}" in heard
    assert f"mac:br:{VM2}" in flood.tags


def test_destination_behind_ingress_port_is_dropped() -> None:
    b, _ = three_port_bridge()
    state = State.in_memory()
    state.macs.learn("br", VM2, None, "p1")
    result = simulate(b.view(), state, "p1", frame(VM1, VM2))
    assert result.dropped and result.cacheable
    assert result.fields_read == {"eth_dst", "eth_type"}  # eth_type: is it ARP to learn?


def test_broadcast_and_multicast_flood_without_a_table_lookup() -> None:
    b, _ = three_port_bridge()
    state = State.in_memory()
    for dst in (BCAST, "01:00:5e:00:00:01"):
        result = simulate(b.view(), state, "p3", frame(VM3, dst))
        assert result.outputs == [Output("p1"), Output("p2")]
        # the ethertype is read on exterior ports (ARP teaches the bridge's ARP table)
        assert result.fields_read == {"eth_dst", "eth_type"}
        assert not any(t.startswith("mac:") for t in result.tags)


def test_unbound_and_down_ports_get_nothing_but_are_tagged() -> None:
    b = MemoryTopology()
    br = b.bridge("br")
    b.bridge_port(br, port_id="p1")
    b.bridge_port(br, port_id="unbound", host=None)
    b.bridge_port(br, port_id="down", adminStateUp=False)
    b.bridge_port(br, port_id="p4")
    result = simulate(b.view(), State.in_memory(), "p1", frame(VM1, BCAST))
    assert result.outputs == [Output("p4")]
    assert {"unbound", "down"} <= result.tags  # binding or enabling them invalidates the flood
    assert has_step(result, "not bound")
    assert has_step(result, "down")


def test_admin_down_ingress_port_or_bridge_drops() -> None:
    b, ports = three_port_bridge()
    ports["p1"]["adminStateUp"] = False
    result = simulate(b.view(), State.in_memory(), "p1", frame(VM1, BCAST))
    assert result.dropped and "p1" in result.tags
    ports["p1"]["adminStateUp"] = True
    b.objects["bridge"]["br"]["adminStateUp"] = False
    state = State.in_memory()
    result = simulate(b.view(), state, "p1", frame(VM1, BCAST))
    assert result.dropped and "br" in result.tags
    assert state.macs.get("br", VM1, None) is None  # nothing learned by a down bridge


def test_port_of_missing_device_drops() -> None:
    b, _ = three_port_bridge()
    del b.objects["bridge"]["br"]
    result = simulate(b.view(), State.in_memory(), "p1", frame(VM1, BCAST))
    assert_dropped(result)
    assert has_step(result, "no device")


def test_unknown_ingress_port_drops() -> None:
    b, _ = three_port_bridge()
    result = simulate(b.view(), State.in_memory(), "nope", frame(VM1, BCAST))
    assert result.dropped and "nope" in result.tags


def test_learned_port_that_no_longer_exists_floods() -> None:
    b, _ = three_port_bridge()
    state = State.in_memory()
    state.macs.learn("br", VM2, None, "gone")
    result = simulate(b.view(), state, "p1", frame(VM1, VM2))
    assert result.outputs == [Output("p2"), Output("p3")]


def test_trace_reads_as_steps() -> None:
    b, _ = three_port_bridge()
    result = simulate(b.view(), State.in_memory(), "p1", frame(VM1, VM2))
    assert_step(result, "bridge br (br) in at port p1", device="br", port="p1")
    assert_step(result, f"learned {VM1} behind port p1", device="br")
    assert_step(result, f"{VM2} is not learned: flooding", device="br")
    assert last_step(result).decision == "result: p2, p3"
