"""Source NAT in the datapath: the agent's flows, on a fake switch with Open vSwitch's
connection tracker modelled, translate new connections and their replies as the simulator
says, without an agent round trip per connection.

The topology (``sim_tenant``), all on one host::

    vm1 10.0.0.11 (ofport 1), vm2 10.0.0.12 (ofport 2) --[br]-- r:in 10.0.0.1/24
    router r, r:out 198.51.100.1/24 (ofport 3, the uplink), masquerade to 198.51.100.2
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from sim_tenant import FAR, GW_IP, REMOTE, RIN, ROUT, VM1, VM2, tcp, tenant, tenant_state
from test_fakeswitch_ct import udp_quote

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import NatReturn, PacketHandler
from ryu_midonet.datapath import packets
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.fakenet import FakeNetwork
from ryu_midonet.datapath.fakeswitch import PacketIn
from ryu_midonet.datapath.flows import (
    FlowDelete,
    FlowSpec,
    Message,
    PacketOut,
    SwitchConfig,
)
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import FIELDS, DatapathSnat, Packet, RewriteOp
from ryu_midonet.sim.state.natranges import MemoryNatRanges, RangeBoard, blocks
from tests.support.packets import icmp, udp
from tests.support.topology import MemoryTopology

HOST = "host0"
OFPORTS = {"vm1": 1, "vm2": 2, "r:out": 3}
UPLINK = 3
BLOCK = (4096, 8191)  # the first aligned block of 4096 ports in 1024-65535
SYN, ACK = 0x02, 0x10


def masquerade(b: MemoryTopology) -> None:
    b.rule(b.objects["chain"]["pre"], "rev_snat", nwDstAddress=GW_IP, inPorts=["r:out"])
    b.rule(b.objects["chain"]["post"], "snat", outPorts=["r:out"],
           natTargets=[f"{GW_IP}:1024-65535"])


class Agent:
    """One host: its fake switch and the agent's packet handler with NAT in the datapath."""

    def __init__(self, uplink_host: str = HOST) -> None:
        b = tenant()
        masquerade(b)
        b.objects["port"]["r:out"]["hostId"] = uplink_host
        for n, port_id in enumerate(("vm1", "vm2", "r:out"), start=1):
            b.objects["port"][port_id]["tunnelKey"] = n
        for port in b.objects["port"].values():
            port.setdefault("tunnelKey", 99)
        self.view = b.view()
        self.state = tenant_state()
        self.state.nat_ranges = MemoryNatRanges(HOST, RangeBoard(bits=12))
        self.handler = PacketHandler(self.view, self.state, FlowIndex(), HOST, OFPORTS, {})
        self.net = FakeNetwork()
        self.switch = self.net.add_host(HOST, "10.92.0.1", 100, self._agent).switch
        messages: list[Message] = [SwitchConfig(), FlowDelete(0, 0),
                                   *tr.base_flows([], nat_return=True)]
        for port_id, ofport in OFPORTS.items():
            messages += tr.port_flows(ofport, b.objects["port"][port_id]["tunnelKey"])
        self.switch.apply(messages)
        self.calls = 0
        self.flows: list[FlowSpec] = []
        self.packet_outs: list[PacketOut] = []

    def _agent(self, packet_in: PacketIn) -> list[Message]:
        self.calls += 1
        h = packet_in.headers
        packet = Packet(**{f: h[f] for f in (*FIELDS, "payload") if f in h})
        nat = None
        if h.get(p.NAT_REG):
            nat = NatReturn.of(h[p.NAT_REG], h.get("ct_state", 0))
        port_id = next(pid for pid, n in OFPORTS.items() if n == h["in_port"])
        msgs = self.handler.handle(port_id, h["in_port"], packet, frame(packet, h), nat)
        self.flows += [m for m in msgs if isinstance(m, FlowSpec)]
        self.packet_outs += [m for m in msgs if isinstance(m, PacketOut)]
        return msgs

    def send(self, in_port: int, packet: Packet, flags: int = ACK) -> list[tuple[int, dict]]:
        headers: dict[str, Any] = {**packet.headers(), "in_port": in_port}
        if packet.payload:
            headers["payload"] = packet.payload
        if packet.ip_proto == 6:
            headers["tcp_flags"] = flags
        return [(d.port, d.headers) for d in self.net.send(HOST, in_port, headers)]


def frame(packet: Packet, headers: dict[str, Any]) -> bytes:
    """The frame a packet-in carries: the packet, with its TCP flags."""
    data = bytearray(packets.build(packet))
    if packet.ip_proto == 6:
        data[14 + (data[14] & 0x0F) * 4 + 13] = headers.get("tcp_flags", 0)
    return bytes(data)


def out_tcp(vm: int, sport: int, dst: str = REMOTE, dport: int = 443) -> Packet:
    return tcp(VM1 if vm == 1 else VM2, RIN, f"10.0.0.1{vm}", dst, sport, dport)


def reply(nat_port: int, src: str = REMOTE, sport: int = 443) -> Packet:
    return tcp(FAR, ROUT, src, GW_IP, sport, nat_port)


@pytest.fixture
def agent() -> Agent:
    return Agent()


def test_new_connections_are_translated_by_one_megaflow(agent: Agent) -> None:
    ((port, first),) = agent.send(1, out_tcp(1, 40000), SYN)
    assert port == UPLINK and first["ipv4_src"] == GW_IP
    assert BLOCK[0] <= first["tcp_src"] <= BLOCK[1]
    calls = agent.calls
    seen = {first["tcp_src"]}
    for sport in range(40001, 40011):
        ((port, out),) = agent.send(1, out_tcp(1, sport), SYN)
        assert port == UPLINK and out["ipv4_src"] == GW_IP
        assert BLOCK[0] <= out["tcp_src"] <= BLOCK[1]
        seen.add(out["tcp_src"])
    assert agent.calls == calls  # no agent round trip per connection
    assert len(seen) == 11  # one NAT port each, towards the same server
    (forward,) = [f for f in agent.flows if f.table == p.TABLE_FLOWS
                  and f.priority == p.PRIORITY_FLOW]
    assert "tcp_src" not in forward.match and "tcp_dst" not in forward.match


def test_forward_headers_are_the_simulators_but_for_the_port(agent: Agent) -> None:
    ((_, out),) = agent.send(1, out_tcp(1, 40000), SYN)
    plain = tenant()
    masquerade(plain)
    state = tenant_state()
    (output,) = simulate(plain.view(), state, "vm1", out_tcp(1, 40000)).outputs
    expected = {r.field: r.value for r in output.rewrites if r.op is RewriteOp.SET}
    assert output.port_id == "r:out"
    assert {k: out[k] for k in expected if k != "tcp_src"} == {
        k: v for k, v in expected.items() if k != "tcp_src"}
    assert out["nw_ttl"] == 63 and out["eth_dst"] == FAR


def test_replies_are_translated_back_and_need_the_agent_once(agent: Agent) -> None:
    nat_ports = []
    for sport in (40000, 40001, 40002):
        ((_, out),) = agent.send(1, out_tcp(1, sport), SYN)
        nat_ports.append(out["tcp_src"])
    ((port, back),) = agent.send(UPLINK, reply(nat_ports[0]), SYN | ACK)
    assert port == 1
    assert (back["ipv4_src"], back["ipv4_dst"], back["tcp_src"], back["tcp_dst"]) == (
        REMOTE, "10.0.0.11", 443, 40000)
    assert back["eth_src"] == RIN and back["eth_dst"] == VM1
    calls = agent.calls
    for nat_port, sport in zip(nat_ports[1:], (40001, 40002), strict=True):
        ((port, back),) = agent.send(UPLINK, reply(nat_port), SYN | ACK)
        assert port == 1 and (back["ipv4_dst"], back["tcp_dst"]) == ("10.0.0.11", sport)
    assert agent.calls == calls
    (returning,) = [f for f in agent.flows if f.table == p.TABLE_NAT_RETURN]
    assert "tcp_dst" not in returning.match and "tcp_src" not in returning.match


def test_two_vms_share_the_address_and_get_their_own_replies(agent: Agent) -> None:
    ((_, one),) = agent.send(1, out_tcp(1, 40000), SYN)
    ((_, two),) = agent.send(2, out_tcp(2, 40000), SYN)  # same source port, same server
    assert one["tcp_src"] != two["tcp_src"]
    assert agent.send(UPLINK, reply(two["tcp_src"]), SYN | ACK)[0][0] == 2
    assert agent.send(UPLINK, reply(one["tcp_src"]), SYN | ACK)[0][0] == 1


def test_udp_goes_through_the_tracker_too(agent: Agent) -> None:
    ((port, out),) = agent.send(1, udp(VM1, RIN, "10.0.0.11", REMOTE, 5000, 53))
    assert port == UPLINK and out["ipv4_src"] == GW_IP
    assert BLOCK[0] <= out["udp_src"] <= BLOCK[1]
    ((port, back),) = agent.send(UPLINK, udp(FAR, ROUT, REMOTE, GW_IP, 53, out["udp_src"]))
    assert port == 1 and (back["ipv4_dst"], back["udp_dst"]) == ("10.0.0.11", 5000)


def test_a_packet_to_an_unused_nat_port_is_simulated_every_time(agent: Agent) -> None:
    agent.send(1, out_tcp(1, 40000), SYN)
    calls = agent.calls
    for _ in range(2):  # no such connection: the router does as the simulator says
        assert not [port for port, _ in agent.send(UPLINK, reply(BLOCK[1]), SYN)
                    if port != UPLINK]
    assert agent.calls == calls + 2
    assert not [f for f in agent.flows if f.table == p.TABLE_NAT_RETURN]


def test_icmp_echo_stays_with_the_agent(agent: Agent) -> None:
    echo = icmp(VM1, RIN, "10.0.0.11", REMOTE, payload=b"\0\7\0\1")
    ((port, out),) = agent.send(1, echo)
    assert port == UPLINK and out["ipv4_src"] == GW_IP
    assert not any(r.op is RewriteOp.DATAPATH_SNAT
                   for o in agent.handler.last.outputs for r in o.rewrites)  # type: ignore[union-attr]


def test_host_ranges_are_aligned_blocks_one_per_host() -> None:
    board = RangeBoard(bits=12)
    port = {"id": "up", "hostId": "a"}
    a = MemoryNatRanges("a", board).range_for(GW_IP, 1024, 65535, port, "r")
    b = MemoryNatRanges("b", board).range_for(GW_IP, 1024, 65535, {**port, "hostId": "b"},
                                                  "r")
    assert a == (4096, 8191) and b == (8192, 12287)
    assert list(blocks(1, 8191, 12)) == [1]  # block 0 holds port 0: never whole
    assert tr.port_mask(4096, 8191) == (4096, 0xF000)


def test_a_reconnecting_switch_gets_the_steering_flows_back(agent: Agent) -> None:
    ((_, out),) = agent.send(1, out_tcp(1, 40000), SYN)
    agent.switch.apply([FlowDelete(0, 0), *tr.base_flows([], nat_return=True),
                        *tr.port_flows(1, 1), *tr.port_flows(2, 2), *tr.port_flows(3, 3),
                        *agent.handler.switch_connected()])
    ((port, back),) = agent.send(UPLINK, reply(out["tcp_src"]), SYN | ACK)
    assert port == 1 and (back["ipv4_dst"], back["tcp_dst"]) == ("10.0.0.11", 40000)


def test_an_icmp_error_about_a_translated_datagram_reaches_its_sender(agent: Agent) -> None:
    ((_, out),) = agent.send(1, udp(VM1, RIN, "10.0.0.11", REMOTE, 5000, 53))
    quote = udp_quote(GW_IP, REMOTE, out["udp_src"], 53)
    error = icmp(FAR, ROUT, REMOTE, GW_IP, icmp_type=3, code=3, payload=quote)
    ((port, back),) = agent.send(UPLINK, error)
    assert port == 1 and back["ipv4_dst"] == "10.0.0.11" and back["icmpv4_type"] == 3
    sent = packets.parse(agent.packet_outs[-1].data)  # the quote, as the agent sends it on
    assert sent is not None
    inner = sent.payload
    assert inner[12:16] == bytes([10, 0, 0, 11])
    assert struct.unpack("!HH", inner[20:24]) == (5000, 53)


def test_an_uplink_in_a_stateful_port_group_is_translated_by_the_datapath() -> None:
    """Replies may come back through another member of the group, on another host: the
    connection is tracked in the group's scope (the same zone on every host), and the agents
    steer the replies entering by any member to this host."""
    agent = Agent()
    objects = agent.view.objects()
    objects.setdefault("portGroup", {})["uplinks"] = {"id": "uplinks", "stateful": True,
                                                      "portIds": ["r:out"]}
    agent.view.get("port", "r:out")["portGroupIds"] = ["uplinks"]
    (output,) = simulate(agent.view, agent.state, "vm1", out_tcp(1, 40000)).outputs
    (snat,) = [r.value for r in output.rewrites if r.op is RewriteOp.DATAPATH_SNAT]
    assert isinstance(snat, DatapathSnat) and snat.scope == "uplinks"
