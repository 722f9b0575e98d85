"""Connection tracking in the datapath (``conntrack_in_datapath``): the agents' flows, on fake
switches with Open vSwitch's tracker modelled, let return packets through and drop new
connections as the simulator says, without an agent round trip per connection.

    h1: vm1 10.0.0.11 (ofport 1), vm2 10.0.0.12 (ofport 2) --[br]-- vm3 10.0.0.13 (h2, ofport 1)

vm1's chain for traffic from it (``vm1-in``) accepts return flows, then everything (so its
connections are tracked); its chain for traffic to it (``vm1-out``) accepts return flows only.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_nat_datapath import frame

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import PacketHandler
from ryu_midonet.builders.chains import port_group
from ryu_midonet.datapath import ctlookup as ctl
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.fakenet import FakeNetwork
from ryu_midonet.datapath.fakeswitch import PacketIn
from ryu_midonet.datapath.flows import FlowDelete, FlowSpec, Message, SwitchConfig
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import FIELDS, IP_TCP, DatapathCt, Packet
from ryu_midonet.sim.rules.conntrack import ct_key, scope_of
from ryu_midonet.sim.rules.tuples import Conn
from ryu_midonet.sim.state import State
from tests.support.packets import tcp, udp
from tests.support.topology import MemoryTopology

TUNNEL = 100
UNDERLAY = {"h1": "10.90.0.1", "h2": "10.90.0.2"}
PORTS = {"vm1": ("h1", 1, 1), "vm2": ("h1", 2, 2), "vm3": ("h2", 1, 3)}  # host, ofport, key
MACS = {vm: f"02:00:00:00:00:0{n}" for n, vm in enumerate(PORTS, start=1)}
IPS = {vm: f"10.0.0.1{n}" for n, vm in enumerate(PORTS, start=1)}
SYN, SYN_ACK, ACK = 0x02, 0x12, 0x10


def topology() -> MemoryTopology:
    b = MemoryTopology()
    br = b.bridge("br")
    for port_id, (host, _, key) in PORTS.items():
        b.bridge_port(br, host=host, port_id=port_id, tunnelKey=key)
    b._put("tunnelZone", "tz", name="tz", type="vxlan", hostIds=list(UNDERLAY),
           tzHosts=[{"hostId": h, "ipAddress": ip} for h, ip in UNDERLAY.items()])
    vm_in, vm_out = b.chain("vm1-in"), b.chain("vm1-out")
    b.rule(vm_in, "accept", matchReturnFlow=True)
    b.rule(vm_in, "accept")
    b.rule(vm_out, "accept", matchReturnFlow=True)
    b.rule(vm_out, "drop")
    b.objects["port"]["vm1"].update(inboundFilterId="vm1-in", outboundFilterId="vm1-out")
    return b


class Host:
    """One host: its fake switch and the agent's packet handler, the option on."""

    def __init__(self, name: str, b: MemoryTopology, state: State, net: FakeNetwork) -> None:
        self.ofports = {pid: ofport for pid, (host, ofport, _) in PORTS.items() if host == name}
        self.view = b.view()
        self.handler = PacketHandler(self.view, state, FlowIndex(), name, self.ofports,
                                     {"vxlan": TUNNEL})
        self.handler.conntrack_in_datapath = True
        self.switch = net.add_host(name, UNDERLAY[name], TUNNEL, self._agent).switch
        messages: list[Message] = [SwitchConfig(), FlowDelete(0, 0), *tr.base_flows([TUNNEL]),
                                   ctl.miss_flow()]
        for port_id, ofport in self.ofports.items():
            messages += tr.port_flows(ofport, PORTS[port_id][2])
        self.delivery = ctl.CommitDelivery()
        messages += self.delivery.flows(self.ofports, lambda pid: self.view.get("port", pid),
                                        lambda port: scope_of(self.view, port))
        self.switch.apply(messages)
        self.calls = 0
        self.flows: list[FlowSpec] = []

    def _agent(self, packet_in: PacketIn) -> list[Message]:
        """What the agent does with a packet-in (apps/agent.py ``handle_miss``)."""
        self.calls += 1
        h = packet_in.headers
        packet = Packet(**{f: h[f] for f in (*FIELDS, "payload") if f in h})
        port_id = next(pid for pid, n in self.ofports.items() if n == h["in_port"])
        msgs = self.handler.handle(port_id, h["in_port"], packet, frame(packet, h),
                                   tracked=h.get("ct_state"))
        self.flows += [m for m in msgs if isinstance(m, FlowSpec)]
        return msgs


class Net:
    def __init__(self, b: MemoryTopology | None = None) -> None:
        self.b = b or topology()
        self.state = State.in_memory()
        for vm, mac in MACS.items():
            self.state.macs.learn("br", mac, None, vm)
        self.fake = FakeNetwork()
        self.hosts = {name: Host(name, self.b, self.state, self.fake) for name in UNDERLAY}

    def send(self, vm: str, packet: Packet, flags: int = ACK) -> list[str]:
        """Where ``packet`` from ``vm`` comes out: the VMs that receive it."""
        host, ofport, _ = PORTS[vm]
        headers: dict[str, Any] = {**packet.headers(), "in_port": ofport}
        if packet.ip_proto == 6:
            headers["tcp_flags"] = flags
        at = {(h, n): pid for pid, (h, n, _) in PORTS.items()}
        return [at[(d.host, d.port)] for d in self.fake.send(host, ofport, headers)]

    def calls(self) -> int:
        return sum(h.calls for h in self.hosts.values())


def seg(src: str, dst: str, sport: int, dport: int) -> Packet:
    return tcp(MACS[src], MACS[dst], IPS[src], IPS[dst], sport, dport)


def connect(net: Net, client: str, server: str, sport: int, dport: int = 80) -> bool:
    """A TCP handshake from ``client`` to ``server``: whether every segment arrived."""
    return (net.send(client, seg(client, server, sport, dport), SYN) == [server]
            and net.send(server, seg(server, client, dport, sport), SYN_ACK) == [client]
            and net.send(client, seg(client, server, sport, dport), ACK) == [server])


@pytest.mark.parametrize("server", ["vm3", "vm2"])  # on the other host, on the same
def test_connections_out_work_and_connections_in_are_dropped(server: str) -> None:
    net = Net()
    assert connect(net, "vm1", server, 40000)
    assert net.send(server, seg(server, "vm1", 50000, 22), SYN) == []  # a new one, in
    assert net.send(server, seg(server, "vm1", 80, 40001), SYN_ACK) == []  # no such conn


@pytest.mark.parametrize("server", ["vm3", "vm2"])
def test_new_connections_need_no_agent_after_the_first(server: str) -> None:
    net = Net()
    assert connect(net, "vm1", server, 40000)
    assert net.send(server, seg(server, "vm1", 50000, 22), SYN) == []
    before = net.calls()
    for sport in range(41000, 41020):
        assert connect(net, "vm1", server, sport, dport=80 + sport % 3)
        assert net.send(server, seg(server, "vm1", 50000 + sport, 22), SYN) == []
    assert net.calls() == before


def test_udp_replies_pass_unrequested_datagrams_do_not() -> None:
    net = Net()
    out = udp(MACS["vm1"], MACS["vm3"], IPS["vm1"], IPS["vm3"], 5353, 53)
    back = udp(MACS["vm3"], MACS["vm1"], IPS["vm3"], IPS["vm1"], 53, 5353)
    assert net.send("vm3", back) == []  # nothing asked yet
    assert net.send("vm1", out) == ["vm3"]
    assert net.send("vm3", back) == ["vm1"]


def test_flows_are_megaflows_matching_the_trackers_answer() -> None:
    net = Net()
    assert connect(net, "vm1", "vm3", 40000)
    assert net.send("vm3", seg("vm3", "vm1", 50000, 22), SYN) == []
    h2 = net.hosts["h2"]
    lookups = [f for f in h2.flows if f.table == p.TABLE_FLOWS]
    answered = [f for f in h2.flows if f.table == p.TABLE_CT_LOOKUP]
    assert lookups and answered
    for flow in lookups + answered:
        assert not {"ipv4_src", "ipv4_dst", "tcp_src", "tcp_dst"} & flow.match.keys()
    assert {f.match["ct_state"] for f in answered} == {
        ctl.state_match(seg("vm3", "vm1", 80, 40000), back) for back in (True, False)}
    # the egress host commits what came through the tunnel with the commit bit
    assert ctl.commit_delivery(1, 3, "br") in h2.delivery.sent.values()


def test_a_stateful_group_on_two_hosts_keeps_the_flow_state_table() -> None:
    b = topology()
    port_group(b, "g", ["vm1", "vm3"], stateful=True)
    net = Net(b)
    assert connect(net, "vm1", "vm3", 40000)
    assert net.send("vm3", seg("vm3", "vm1", 50000, 22), SYN) == []
    before = net.calls()
    assert connect(net, "vm1", "vm3", 40001)
    assert net.calls() > before  # per connection, through the agent, as without the option
    recorded = ct_key("g", Conn(IP_TCP, IPS["vm3"], 80, IPS["vm1"], 40001))
    assert net.state.flows.get(recorded) is not None


def test_the_simulator_asks_the_tracker_once_and_reads_no_tuple() -> None:
    b = topology()
    state = State.in_memory()
    for vm, mac in MACS.items():
        state.macs.learn("br", mac, None, vm)
    view = b.view()
    packet = seg("vm3", "vm1", 80, 40000)
    first = simulate(view, state, "vm3", packet, datapath_ct=DatapathCt())
    assert first.ct_scope == "br" and first.ct_return is None and first.dropped
    back = simulate(view, state, "vm3", packet, datapath_ct=DatapathCt(True))
    assert [o.port_id for o in back.outputs] == ["vm1"] and back.ct_return is True
    assert not {"ipv4_src", "ipv4_dst", "tcp_src", "tcp_dst"} & back.fields_read
    new = simulate(view, state, "vm3", packet, datapath_ct=DatapathCt(False))
    assert new.dropped and new.ct_return is False
    out = simulate(view, state, "vm1", seg("vm1", "vm3", 40000, 80),
                   datapath_ct=DatapathCt(False))
    assert [(o.port_id, o.commit) for o in out.outputs] == [("vm3", "br")]
    assert not out.state_keys  # nothing in the flow-state table
