"""The capacity benchmark's load is what it claims: every packet-in a new flow that the agent
forwards (bridged or routed, never flooded nor held for ARP) with a flow-mod and a packet-out,
its source MAC learned."""

from __future__ import annotations

from typing import Any

from ryu_midonet.bench import capacity
from ryu_midonet.sim.state import State


class Recorder(capacity._Datapath):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Any] = []

    def send_msg(self, msg: Any) -> None:
        super().send_msg(msg)
        self.sent.append(msg)


def test_every_packet_in_is_a_new_flow_forwarded_with_a_flow_and_a_packet_out() -> None:
    topo = capacity.topology()
    stream = capacity.load(topo, 40)
    state = State.in_memory()
    capacity.seed(state, topo)
    dp = Recorder()
    handle = capacity.agent(dp, topo, state)
    servers = {mac: port for port, (mac, _) in topo.servers.items()}
    for raw in stream:
        dp.sent.clear()
        handle(raw)
        kinds = [type(m).__name__ for m in dp.sent]
        assert kinds == ["OFPFlowMod", "OFPPacketOut", "OFPBarrierRequest"], kinds
        out = [a.port for a in dp.sent[1].actions if type(a).__name__ == "OFPActionOutput"]
        assert len(out) == 1  # one port: neither flooded nor held
    learned = state.macs.entries("net-a")
    assert len(learned) == 40 + len([m for m in servers if topo.bridges[servers[m]] == "net-a"])


def test_the_empty_app_answers_each_packet_in_with_one_packet_out() -> None:
    topo = capacity.topology()
    dp = Recorder()
    handle = capacity.empty_app(dp)
    for raw in capacity.load(topo, 4):
        handle(raw)
    assert [type(m).__name__ for m in dp.sent] == ["OFPPacketOut"] * 4
