"""Source NAT in the datapath in another flow-state scope than the uplink's, on a fake switch
with Open vSwitch's connection tracker modelled: the tenant router ``r`` masquerades to its
gateway port's address, and the provider router ``p``'s uplink accepts return flows only
(and tracks what leaves by it). The translating flow commits each connection in ``r``'s
zone, translated, and in ``p``'s; replies go through ``p``'s zone first.

    vm1, vm2 --[br]-- r:in 10.0.0.1/24  router r  r:out 172.16.0.2/30 ~ p:down 172.16.0.1/30
    router p  p:up 198.51.100.1/24 (ofport 3, the uplink; up-in / up-out)
"""

from __future__ import annotations

from typing import Any

from sim_tenant import FAR, REMOTE, RIN, ROUT, VM1, VM2, tcp, tenant_state, vms_behind_router
from test_fakeswitch_ct import udp_quote
from test_nat_datapath import frame

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import NatReturn, PacketHandler
from ryu_midonet.datapath import ctlookup as ctl
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.fakenet import FakeNetwork
from ryu_midonet.datapath.fakeswitch import PacketIn
from ryu_midonet.datapath.flows import FlowDelete, FlowSpec, Message, SwitchConfig
from ryu_midonet.sim.core.model import FIELDS, Packet
from ryu_midonet.sim.state.natranges import MemoryNatRanges, RangeBoard
from tests.support.packets import icmp, udp

HOST = "host0"
NAT_IP = "172.16.0.2"
PDOWN = "02:00:00:00:00:0a"
OFPORTS = {"vm1": 1, "vm2": 2, "p:up": 3}
UPLINK = 3
BLOCK = (4096, 8191)
SYN, ACK = 0x02, 0x10


class Agent:
    """One host: its fake switch and the agent's packet handler, both options on."""

    def __init__(self) -> None:
        b, gw = vms_behind_router(f"{NAT_IP}/30")
        r, pr = b.objects["router"]["r"], b.router("p")
        down = b.router_port(pr, "172.16.0.1/30", PDOWN, port_id="p:down")
        b.link(gw, down)
        up = b.router_port(pr, "198.51.100.1/24", ROUT, host=HOST, port_id="p:up")
        b.route(r, "0.0.0.0/0", gw, gw="172.16.0.1")
        b.route(pr, "0.0.0.0/0", up, gw="198.51.100.254")
        pre, post = b.chain("pre"), b.chain("post")
        r.update(inboundFilterId="pre", outboundFilterId="post")
        b.rule(pre, "rev_snat", nwDstAddress=NAT_IP, inPorts=["r:out"])
        b.rule(post, "snat", outPorts=["r:out"], natTargets=[f"{NAT_IP}:1024-65535"])
        up_in, up_out = b.chain("up-in"), b.chain("up-out")
        b.rule(up_in, "accept", matchReturnFlow=True)
        b.rule(up_in, "drop")
        b.rule(up_out, "accept", matchForwardFlow=True)
        up.update(inboundFilterId="up-in", outboundFilterId="up-out")
        for n, port_id in enumerate(OFPORTS, start=1):
            b.objects["port"][port_id]["tunnelKey"] = n
        for port in b.objects["port"].values():
            port.setdefault("tunnelKey", 99)
        self.view = b.view()
        self.state = tenant_state()
        self.state.arps.put("p", "198.51.100.254", FAR)
        self.state.nat_ranges = MemoryNatRanges(HOST, RangeBoard(bits=12))
        self.handler = PacketHandler(self.view, self.state, FlowIndex(), HOST, OFPORTS, {})
        self.net = FakeNetwork()
        self.switch = self.net.add_host(HOST, "10.92.0.1", 100, self._agent).switch
        messages: list[Message] = [SwitchConfig(), FlowDelete(0, 0),
                                   *tr.base_flows([], nat_return=True), ctl.miss_flow()]
        for port_id, ofport in OFPORTS.items():
            messages += tr.port_flows(ofport, b.objects["port"][port_id]["tunnelKey"])
        self.switch.apply(messages)
        self.calls = 0
        self.flows: list[FlowSpec] = []

    def _agent(self, packet_in: PacketIn) -> list[Message]:
        """As apps/agent.py ``handle_miss``, the registers and tracker fields it reads."""
        self.calls += 1
        h = packet_in.headers
        packet = Packet(**{f: h[f] for f in (*FIELDS, "payload") if f in h})
        port_id = next(pid for pid, n in OFPORTS.items() if n == h["in_port"])
        state = h.get("ct_state", 0)
        if h.get(p.NAT_REG):
            nat = NatReturn.of(h[p.NAT_REG], state, 0, h.get("ct_zone", 0),
                               h.get(p.EGRESS_REG, 0))
            msgs = self.handler.handle(port_id, h["in_port"], packet, frame(packet, h), nat)
        else:
            msgs = self.handler.handle(port_id, h["in_port"], packet, frame(packet, h),
                                       tracked=state or None)
        self.flows += [m for m in msgs if isinstance(m, FlowSpec)]
        return msgs

    def send(self, in_port: int, packet: Packet, flags: int = ACK) -> list[tuple[int, dict]]:
        headers: dict[str, Any] = {**packet.headers(), "in_port": in_port}
        if packet.payload:
            headers["payload"] = packet.payload
        if packet.ip_proto == 6:
            headers["tcp_flags"] = flags
        return [(d.port, d.headers) for d in self.net.send(HOST, in_port, headers)]


def out_tcp(vm: int, sport: int) -> Packet:
    return tcp(VM1 if vm == 1 else VM2, RIN, f"10.0.0.1{vm}", REMOTE, sport, 443)


def reply(nat_port: int, dst: str = NAT_IP) -> Packet:
    return tcp(FAR, ROUT, REMOTE, dst, 443, nat_port)


def test_new_connections_and_their_replies_reach_no_agent_after_the_first() -> None:
    agent = Agent()
    ((port, out),) = agent.send(1, out_tcp(1, 40000), SYN)
    assert port == UPLINK and out["ipv4_src"] == NAT_IP
    assert BLOCK[0] <= out["tcp_src"] <= BLOCK[1]
    ((port, back),) = agent.send(UPLINK, reply(out["tcp_src"]), SYN | ACK)
    assert port == 1 and (back["ipv4_dst"], back["tcp_dst"]) == ("10.0.0.11", 40000)
    calls = agent.calls
    for sport in range(40001, 40011):
        vm = 1 + sport % 2
        ((port, out),) = agent.send(vm, out_tcp(vm, sport), SYN)
        assert port == UPLINK and out["ipv4_src"] == NAT_IP
        ((port, back),) = agent.send(UPLINK, reply(out["tcp_src"]), SYN | ACK)
        assert port == vm and back["tcp_dst"] == sport
    assert agent.calls == 2 * calls  # vm2's first connection sets its flows up as vm1's did
    (forward, *_) = [f for f in agent.flows if f.table == p.TABLE_CT_LOOKUP]
    cts = [a.args[0] for a in forward.actions if a.kind == p.CT]
    assert [(c.zone, c.nat is not None) for c in cts] == [
        (tr.zone_of("r"), True), (tr.zone_of("p"), False)]  # translated, then committed
    back_flows = [f for f in agent.flows if f.table == p.TABLE_NAT_RETURN]
    assert {f.match[p.EGRESS_REG] for f in back_flows} == {
        tr.zone_of("p") | p.CT_EGRESS_RETURNING}
    assert all("tcp_dst" not in f.match and "ct_zone" not in f.match for f in back_flows)


def test_packets_from_outside_that_are_no_replies_stay_out() -> None:
    agent = Agent()
    ((_, out),) = agent.send(1, out_tcp(1, 40000), SYN)
    agent.send(UPLINK, reply(out["tcp_src"]), SYN | ACK)
    for _ in range(2):  # to a NAT port no connection uses, and to a VM's own address
        assert [port for port, _ in agent.send(UPLINK, reply(BLOCK[1]), SYN)
                if port != UPLINK] == []
        assert agent.send(UPLINK, reply(40000, "10.0.0.11"), SYN) == []


def test_an_icmp_error_about_a_translated_datagram_reaches_its_sender() -> None:
    agent = Agent()
    ((port, out),) = agent.send(1, udp(VM1, RIN, "10.0.0.11", REMOTE, 5000, 53))
    assert port == UPLINK and out["ipv4_src"] == NAT_IP
    error = icmp(FAR, ROUT, REMOTE, NAT_IP, icmp_type=3, code=3,
                 payload=udp_quote(NAT_IP, REMOTE, out["udp_src"], 53))
    ((port, back),) = agent.send(UPLINK, error)
    assert port == 1 and back["ipv4_dst"] == "10.0.0.11"
