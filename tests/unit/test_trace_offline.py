"""The offline trace on an in-memory topology: the packet, the path, the outcome, the flows."""

from __future__ import annotations

import pytest

from ryu_midonet.sim.state import State
from ryu_midonet.tracing import offline, render
from ryu_midonet.tracing.packet import BadField, Description, build
from tests.support.topology import MemoryTopology

MAC1, MAC2 = "02:00:00:00:00:01", "02:00:00:00:00:02"


def _topology() -> tuple[MemoryTopology, dict[str, str]]:
    t = MemoryTopology()
    bridge = t.bridge("net")
    p1, p2 = t.port(bridge), t.port(bridge)
    t.bind(p1, "host0", "tap1")
    t.bind(p2, "host0", "tap2")
    chain = t.chain("guard")
    rule = t.rule(chain, "drop", nwDstAddress="10.0.0.99", nwDstLength=32, dlType=0x0800)
    p1["inboundFilterId"] = chain["id"]
    state = State.in_memory()
    state.macs.learn(bridge["id"], MAC2, None, p2["id"])
    return t, {"p1": p1["id"], "p2": p2["id"], "rule": rule["id"], "bridge": bridge["id"],
               "state": state}  # type: ignore[dict-item]


def _trace(dst: str) -> tuple[list[str], offline.OfflineTrace]:
    t, ids = _topology()
    view = t.view()
    packet = build(Description(eth_src=MAC1, eth_dst=MAC2, ip_src="10.0.0.1", ip_dst=dst,
                               ip_protocol="tcp", dst_port="22"))
    state = offline.trace_state(ids["state"])  # type: ignore[arg-type]
    traced = offline.trace(view, state, ids["p1"], packet, conntrack_in_datapath=False)
    return render.render(traced, view), traced


def test_an_allowed_packet_names_its_egress_and_its_flow() -> None:
    lines, traced = _trace("10.0.0.2")
    _, ids = _topology()
    text = "\n".join(lines)
    assert f"out of port {ids['p2']} on host host0" in text
    flows = [line for line in lines if line.strip().startswith("flow table=")]
    assert len(flows) == 1 and "tcp_dst" not in flows[0] and "actions: output:2" in flows[0]
    assert "2: " + ids["p2"] + " (tap2)" in text


def test_a_dropped_packet_names_the_rule_that_dropped_it() -> None:
    lines, traced = _trace("10.0.0.99")
    _, ids = _topology()
    outcome = next(line for line in lines if line.strip().startswith("dropped:"))
    assert ids["rule"] in outcome and "drop" in outcome
    assert any(line.strip().startswith("flow table=") and line.endswith("actions: drop")
               for line in lines)


def test_tracing_writes_nothing_to_the_tables() -> None:
    t, ids = _topology()
    state: State = ids["state"]  # type: ignore[assignment]
    packet = build(Description(eth_src="02:00:00:00:00:09", eth_dst=MAC2,
                               ip_src="10.0.0.1", ip_dst="10.0.0.2"))
    offline.trace(t.view(), offline.trace_state(state), ids["p1"], packet)
    assert ("02:00:00:00:00:09", None) not in state.macs.entries(ids["bridge"])


def test_the_port_can_be_named_by_device_and_number() -> None:
    t, ids = _topology()
    assert offline.find_port(t.view(), ("bridge", "net"), "1") == ids["p2"]
    with pytest.raises(offline.UnknownPort):
        offline.find_port(t.view(), ("bridge", "net"), "7")
    with pytest.raises(offline.UnknownPort):
        offline.find_port(t.view(), None, "no-such-port")


@pytest.mark.parametrize(("fields", "option"), [
    ({"ip_src": "10.0.0.300", "ip_dst": "10.0.0.2"}, "--ip-src"),
    ({"ip_src": "10.0.0.1"}, "--ip-dst"),
    ({"ip_src": "10.0.0.1", "ip_dst": "10.0.0.2", "eth_src": "zz"}, "--eth-src"),
    ({"ip_src": "10.0.0.1", "ip_dst": "10.0.0.2", "dst_port": "70000"}, "--dst-port"),
    ({"ip_src": "10.0.0.1", "ip_dst": "10.0.0.2", "ip_protocol": "icmp", "src_port": "1"},
     "--src-port"),
    ({"ip_src": "10.0.0.1", "ip_dst": "10.0.0.2", "ip_protocol": "udp", "icmp_type": "8"},
     "--icmp-type"),
])
def test_bad_fields_are_named(fields: dict[str, str], option: str) -> None:
    with pytest.raises(BadField) as caught:
        build(Description(**fields))
    assert caught.value.option == option


def test_defaults_make_an_echo_request_or_an_arp_broadcast() -> None:
    ping = build(Description(ip_src="10.0.0.1", ip_dst="10.0.0.2"))
    assert (ping.ip_proto, ping.icmpv4_type) == (1, 8)
    arp = build(Description(ethertype="arp", ip_src="10.0.0.1", ip_dst="10.0.0.2"))
    assert (arp.eth_dst, arp.arp_op, arp.arp_tpa) == ("ff:ff:ff:ff:ff:ff", 1, "10.0.0.2")


def test_a_packet_for_the_tracker_is_traced_again_as_a_new_connection() -> None:
    t = MemoryTopology()
    bridge = t.bridge("net")
    p1, p2 = t.port(bridge), t.port(bridge)
    t.bind(p1, "host0", "tap1")
    t.bind(p2, "host0", "tap2")
    chain = t.chain("stateful")
    t.rule(chain, "accept", matchReturnFlow=True)
    rule = t.rule(chain, "drop", dlType=0x0800, nwProto=6, tpDst={"start": 22, "end": 22})
    p2["outboundFilterId"] = chain["id"]
    packet = build(Description(eth_dst=MAC2, ip_src="10.0.0.1", ip_dst="10.0.0.2",
                               ip_protocol="tcp", dst_port="22"))
    traced = offline.trace(t.view(), offline.trace_state(State.in_memory()), p1["id"], packet)
    assert [p.title for p in traced.passes] == [
        "the packet enters", "back from the connection tracker: a new connection"]
    lines = render.render(traced, t.view())
    assert any("goes through the connection tracker" in line for line in lines)
    assert any(line.strip().startswith("dropped:") and rule["id"] in line for line in lines)


def test_a_tracer_lists_as_the_options_that_added_it() -> None:
    from ryu_midonet.tracing import tracers

    body = tracers.body("--trace", ("--router", "r1"),
                        {"--ip-src": "10.0.0.0/8", "--dst-port": "80", "--mac-src": None},
                        5)
    assert tracers.args(body) == "--trace --router r1 --ip-src 10.0.0.0/8 --dst-port 80 --limit 5"
    with pytest.raises(tracers.BadOption):
        tracers.body("--debug", ("--port", "p"), {"--src-port": "http"}, None)
