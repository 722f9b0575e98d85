"""Which trace requests a simulated packet meets, and what its flow must then match."""

from __future__ import annotations

from typing import Any

from ryu_midonet.nsdb.kinds.trace_request import condition
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import Packet, Result
from ryu_midonet.sim.state import State
from ryu_midonet.tracing import matching
from ryu_midonet.tracing.live import LiveTracer
from ryu_midonet.tracing.packet import Description, build
from tests.support.topology import MemoryTopology

MAC1, MAC2 = "02:00:00:00:00:01", "02:00:00:00:00:02"


def _net() -> tuple[MemoryTopology, dict[str, str], State]:
    t = MemoryTopology()
    bridge, other = t.bridge("net"), t.bridge("other")
    p1, p2 = t.port(bridge), t.port(bridge)
    t.bind(p1, "host0", "tap1")
    t.bind(p2, "host1", "tap2")
    state = State.in_memory()
    state.macs.learn(bridge["id"], MAC2, None, p2["id"])
    return t, {"p1": p1["id"], "p2": p2["id"], "bridge": bridge["id"],
               "other": other["id"]}, state


def _request(t: MemoryTopology, rid: str, device: tuple[str, str], limit: int = 10,
             enabled: bool = True, **cond: Any) -> None:
    t._put("traceRequest", rid, name="t", deviceType=device[0], deviceId=device[1],
           condition=condition(cond), limit=limit, enabled=enabled)


def _packet(proto: str = "icmp") -> Packet:
    return build(Description(eth_src=MAC1, eth_dst=MAC2, ip_src="10.0.0.1",
                             ip_dst="10.0.0.2", ip_protocol=proto,
                             dst_port="22" if proto == "tcp" else None))


def _sim(t: MemoryTopology, state: State, port: str, packet: Packet) -> Result:
    return simulate(t.view(), state, port, packet)


def test_a_ping_across_the_traced_bridge_is_met() -> None:
    t, ids, state = _net()
    _request(t, "r1", ("BRIDGE", ids["bridge"]), nwProto=1)
    packet = _packet()
    result = _sim(t, state, ids["p1"], packet)
    met, fields = matching.meeting(matching.requests(t.view()), t.view(), ids["p1"], packet,
                                   result)
    assert [r.id for r in met] == ["r1"]
    assert "ip_proto" in fields


def test_a_packet_the_condition_rejects_gets_a_flow_exact_on_what_it_read() -> None:
    t, ids, state = _net()
    _request(t, "r1", ("BRIDGE", ids["bridge"]), nwProto=1)
    packet = _packet("tcp")
    result = _sim(t, state, ids["p1"], packet)
    tracer = LiveTracer(t.view(), _Unlimited(), _Log(), "host0")
    assert tracer.observe(ids["p1"], packet, result) is None
    assert "ip_proto" in result.fields_read  # its flow never carries an ICMP packet


def test_requests_off_the_path_disabled_or_spent_meet_nothing() -> None:
    t, ids, state = _net()
    _request(t, "r1", ("BRIDGE", ids["other"]))
    _request(t, "r2", ("BRIDGE", ids["bridge"]), enabled=False)
    _request(t, "r3", ("BRIDGE", ids["bridge"]), limit=0)
    packet = _packet()
    result = _sim(t, state, ids["p1"], packet)
    met, fields = matching.meeting(matching.requests(t.view()), t.view(), ids["p1"], packet,
                                   result)
    assert met == [] and fields == set()
    assert [r.id for r in matching.requests(t.view())] == ["r1"]


def test_a_request_on_the_egress_port_or_with_addresses_meets_the_packet() -> None:
    t, ids, state = _net()
    _request(t, "r1", ("PORT", ids["p2"]), nwSrcAddress="10.0.0.0", nwSrcLength=24)
    _request(t, "r2", ("PORT", ids["p1"]), nwDstAddress="10.0.1.0", nwDstLength=24)
    packet = _packet()
    result = _sim(t, state, ids["p1"], packet)
    met, fields = matching.meeting(matching.requests(t.view()), t.view(), ids["p1"], packet,
                                   result)
    assert [r.id for r in met] == ["r1"]
    assert {"ipv4_src", "ipv4_dst"} <= fields


def test_no_proactive_flow_crosses_a_live_request_s_device() -> None:
    t, ids, state = _net()
    tracer = LiveTracer(t.view(), _Unlimited(), _Log(), "host0")
    result = _sim(t, state, ids["p1"], _packet())
    assert not tracer.hides(ids["p1"], result)
    _request(t, "r1", ("BRIDGE", ids["bridge"]), nwProto=6)
    assert tracer.hides(ids["p1"], result)


class _Unlimited:
    def take(self, request_id: str, limit: int) -> bool:
        return True


class _Log:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []

    def write(self, request_id: str, entry: str) -> None:
        self.entries.append((request_id, entry))
