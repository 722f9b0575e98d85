"""Live tracing through the agent's packet handler: entries, flows copying to the agent,
the limit counted down, copies of traced flows' packets, requests that change."""

from __future__ import annotations

from typing import Any

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import PacketHandler
from ryu_midonet.datapath.flows import TO_CONTROLLER, Action, FlowSpec, PacketOut, output
from ryu_midonet.nsdb.kinds.trace_request import condition
from ryu_midonet.sim import simulate
from ryu_midonet.sim.state import State
from ryu_midonet.tracing.live import LiveTracer, copy_simulator, with_copy
from ryu_midonet.tracing.packet import Description, build
from tests.support.topology import MemoryTopology

MAC1, MAC2 = "02:00:00:00:00:01", "02:00:00:00:00:02"


class _Counter:
    """As the store counts: from the limit down to 0, shared by every tracer given it."""

    def __init__(self) -> None:
        self.left: dict[tuple[str, int], int] = {}

    def take(self, request_id: str, limit: int) -> bool:
        left = self.left.get((request_id, limit), limit)
        self.left[(request_id, limit)] = max(left - 1, 0)
        return left > 0


class _Log:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []

    def write(self, request_id: str, entry: str) -> None:
        self.entries.append((request_id, entry))


def _setup(limit: int = 2, **cond: Any) -> tuple[MemoryTopology, dict[str, str],
                                                  PacketHandler, LiveTracer, _Log]:
    t = MemoryTopology()
    bridge = t.bridge("net")
    p1, p2 = t.port(bridge), t.port(bridge)
    t.bind(p1, "host0", "tap1")
    t.bind(p2, "host0", "tap2")
    t._put("traceRequest", "r1", name="ping", deviceType="BRIDGE", deviceId=bridge["id"],
           condition=condition(cond), limit=limit, enabled=True)
    state = State.in_memory()
    state.macs.learn(bridge["id"], MAC2, None, p2["id"])
    view = t.view()
    handler = PacketHandler(view, state, FlowIndex(), "host0", {p1["id"]: 1, p2["id"]: 2}, {})
    handler.conntrack_in_datapath = False
    log = _Log()
    tracer = LiveTracer(view, _Counter(), log, "host0", copy_simulator(view, state))
    handler.tracer = tracer
    return t, {"p1": p1["id"], "p2": p2["id"], "bridge": bridge["id"]}, handler, tracer, log


def _ping(handler: PacketHandler, port: str) -> list[Any]:
    packet = build(Description(eth_src=MAC1, eth_dst=MAC2, ip_src="10.0.0.1",
                               ip_dst="10.0.0.2"))
    return handler.handle(port, 1, packet, b"")


def test_a_traced_packet_is_logged_with_its_path_and_the_flow_installed() -> None:
    _, ids, handler, tracer, log = _setup(nwProto=1)
    messages = _ping(handler, ids["p1"])
    flow = next(m for m in messages if isinstance(m, FlowSpec))
    assert flow.actions[0] == TO_CONTROLLER  # later packets are copied to the agent
    assert tracer.copied(flow.cookie)
    [(request_id, entry)] = log.entries
    assert request_id == "r1"
    assert f"cookie={flow.cookie:#x}" in entry.splitlines()[0]
    assert ids["bridge"] in entry and f"out of port {ids['p2']}" in entry
    assert f"flow table={flow.table} cookie={flow.cookie:#x}" in entry
    assert "ip_proto" in flow.match or "ip_proto" in str(flow.match)


def test_the_limit_stops_tracing_and_the_device_s_flows_go() -> None:
    _, ids, handler, tracer, log = _setup(limit=2)
    first = next(m for m in _ping(handler, ids["p1"]) if isinstance(m, FlowSpec))
    tracer.trace_copy(ids["p1"], build(Description(eth_src=MAC1, eth_dst=MAC2,
                                                   ip_src="10.0.0.1", ip_dst="10.0.0.2")),
                      first.cookie)
    assert len(log.entries) == 2 and "a copy came to the agent" in log.entries[1][1]
    assert tracer.take_stale() == set()
    messages = _ping(handler, ids["p1"])  # the third packet: the limit was 2
    assert len(log.entries) == 2
    assert all(TO_CONTROLLER not in m.actions for m in messages if isinstance(m, FlowSpec))
    assert tracer.take_stale() == {ids["bridge"]}  # the traced flows are deleted
    assert tracer.live() == []


def test_a_changed_request_deletes_the_flows_of_its_device_and_counts_again() -> None:
    t, ids, handler, tracer, log = _setup(limit=1)
    _ping(handler, ids["p1"])
    _ping(handler, ids["p1"])
    assert len(log.entries) == 1 and tracer.live() == []
    t.objects["traceRequest"]["r1"]["limit"] = 5
    assert tracer.topology_changed("traceRequest", "r1") == {ids["bridge"]}
    _ping(handler, ids["p1"])
    assert len(log.entries) == 2
    del t.objects["traceRequest"]["r1"]
    assert tracer.topology_changed("traceRequest", "r1") == {ids["bridge"]}


def test_packets_the_condition_rejects_are_not_traced() -> None:
    _, ids, handler, _, log = _setup(nwProto=6)
    messages = _ping(handler, ids["p1"])
    assert log.entries == []
    flow = next(m for m in messages if isinstance(m, FlowSpec))
    assert TO_CONTROLLER not in flow.actions and "ip_proto" in flow.match


def test_a_port_request_deletes_the_flows_of_its_port_s_bridge_too() -> None:
    t, ids, _, tracer, _ = _setup()
    t._put("traceRequest", "r2", name="port", deviceType="PORT", deviceId=ids["p2"],
           condition=condition({}), limit=3, enabled=True)
    assert tracer.topology_changed("traceRequest", "r2") == {ids["p2"], ids["bridge"]}


def test_the_copy_goes_before_the_flow_s_actions_after_its_meter() -> None:
    flow = FlowSpec(1, 100, {"in_port": 1}, (Action("meter", (7,)), output(2)), cookie=5)
    assert with_copy(flow).actions == (Action("meter", (7,)), TO_CONTROLLER, output(2))
    assert with_copy(with_copy(flow)) == with_copy(flow)


def test_a_first_packet_sent_through_its_new_flow_is_not_traced_twice() -> None:
    _, ids, handler, tracer, log = _setup(limit=5)
    packet = build(Description(eth_src=MAC1, eth_dst=MAC2, ip_src="10.0.0.1",
                               ip_dst="10.0.0.2"))
    traced = tracer.observe(ids["p1"], packet, simulate(handler.view, handler.state,
                                                        ids["p1"], packet))
    assert traced is not None
    flow = FlowSpec(1, 100, {"in_port": 1}, (output(2),), cookie=9)
    tracer.finish(traced, [flow, PacketOut(b"", (output("table"),), in_port=1)])
    tracer.trace_copy(ids["p1"], packet, 9)  # the copy of the packet sent through the flow
    assert len(log.entries) == 1
    tracer.trace_copy(ids["p1"], packet, 9)  # the next packet's
    assert len(log.entries) == 2
