"""Connection tracking in the datapath (``conntrack_in_datapath``): the agents' flows, on fake
switches with Open vSwitch's tracker modelled, let return packets through and drop new
connections as the simulator says, without an agent round trip per connection.

    h1: vm1 10.0.0.11 (ofport 1), vm2 10.0.0.12 (ofport 2) --[br]-- vm3 10.0.0.13 (h2, ofport 1)

vm1's chain for traffic from it (``vm1-in``) accepts return flows, then everything (so its
connections are tracked); its chain for traffic to it (``vm1-out``) accepts return flows only.
"""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest
import test_agent_features as agent_app
import test_nat_datapath as nat_datapath
from test_fakeswitch_ct import udp_quote
from test_nat_datapath import frame

from ryu_midonet.agent.cttimeouts import ZoneTimeouts
from ryu_midonet.agent.features import Features
from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import NatReturn, PacketHandler
from ryu_midonet.agent.seqcheck import SeqCheck
from ryu_midonet.builders.chains import port_group
from ryu_midonet.datapath import ctcopy, packets
from ryu_midonet.datapath import ctlookup as ctl
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.fakenet import FakeNetwork
from ryu_midonet.datapath.fakeswitch import FakeSwitch, PacketIn
from ryu_midonet.datapath.flows import FlowDelete, FlowSpec, Message, SwitchConfig
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import FIELDS, IP_TCP, DatapathCt, Packet
from ryu_midonet.sim.rules.conntrack import ct_key, scope_of
from ryu_midonet.sim.rules.tuples import Conn
from ryu_midonet.sim.state import State
from tests.support.packets import icmp, tcp, udp
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
    return_only_chains(b)
    return b


def return_only_chains(b: MemoryTopology) -> None:
    """vm1's chains: its own connections are tracked on their way out, and only their
    return packets are delivered to it."""
    vm_in, vm_out = b.chain("vm1-in"), b.chain("vm1-out")
    b.rule(vm_in, "accept", matchReturnFlow=True)
    b.rule(vm_in, "accept")
    b.rule(vm_out, "accept", matchReturnFlow=True)
    b.rule(vm_out, "drop")
    b.objects["port"]["vm1"].update(inboundFilterId="vm1-in", outboundFilterId="vm1-out")


class Host:
    """One host: its fake switch and the agent's packet handler, the option on."""

    def __init__(self, name: str, b: MemoryTopology, state: State, net: FakeNetwork,
                 datapath: bool = True) -> None:
        self.ofports = {pid: ofport for pid, (host, ofport, _) in PORTS.items() if host == name}
        self.view = b.view()
        self.handler = PacketHandler(self.view, state, FlowIndex(), name, self.ofports,
                                     {"vxlan": TUNNEL})
        self.handler.conntrack_in_datapath = datapath
        self.switch = net.add_host(name, UNDERLAY[name], TUNNEL, self._agent).switch
        messages: list[Message] = [SwitchConfig(), FlowDelete(0, 0), *tr.base_flows([TUNNEL]),
                                   ctl.miss_flow()]
        for port_id, ofport in self.ofports.items():
            messages += tr.port_flows(ofport, PORTS[port_id][2])
        self.delivery = ctl.CommitDelivery()
        self.copies = ctcopy.CopyFlows()
        plan = ctcopy.plan(self.view, name, self.ofports, self.handler.locator())
        messages += self.delivery.flows(self.ofports, lambda pid: self.view.get("port", pid),
                                        lambda port: scope_of(self.view, port), plan)
        messages += self.copies.flows(plan, [TUNNEL])
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
    def __init__(self, b: MemoryTopology | None = None, datapath: bool = True) -> None:
        self.b = b or topology()
        self.state = State.in_memory()
        for vm, mac in MACS.items():
            self.state.macs.learn("br", mac, None, vm)
        self.fake = FakeNetwork()
        self.hosts = {name: Host(name, self.b, self.state, self.fake, datapath)
                      for name in UNDERLAY}

    def send(self, vm: str, packet: Packet, flags: int = ACK) -> list[str]:
        """Where ``packet`` from ``vm`` comes out: the VMs that receive it."""
        host, ofport, _ = PORTS[vm]
        headers: dict[str, Any] = {**packet.headers(), "in_port": ofport}
        if packet.payload:
            headers["payload"] = packet.payload
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
    assert h2.delivery.sent["vm3"] == (ctl.commit_delivery(1, 3, "br"),)


def test_a_stateful_group_on_two_hosts_copies_new_connections_to_the_other() -> None:
    """vm1 (h1) and vm3 (h2) in one stateful group: h2 commits vm1's connection as it leaves
    by vm3 and copies its SYN to h1, whose tracker then knows vm3's replies; no agent sees
    the connections after the first, nothing is in the flow-state table."""
    b = topology()
    port_group(b, "g", ["vm1", "vm3"], stateful=True)
    net = Net(b)
    assert connect(net, "vm1", "vm3", 40000)
    assert net.send("vm3", seg("vm3", "vm1", 50000, 22), SYN) == []
    before = net.calls()
    for sport in range(40001, 40011):
        assert connect(net, "vm1", "vm3", sport)
        assert net.send("vm3", seg("vm3", "vm1", 80, sport + 100), SYN_ACK) == []
    assert net.calls() == before
    recorded = ct_key("g", Conn(IP_TCP, IPS["vm3"], 80, IPS["vm1"], 40001))
    assert net.state.flows.get(recorded) is None
    h1, h2 = net.hosts["h1"].switch, net.hosts["h2"].switch
    zone = tr.zone_of("g")
    assert {c.key.zone for c in h1.conntrack.connections(zone)} == {zone}
    assert len(h1.conntrack.connections(zone)) == len(h2.conntrack.connections(zone)) == 11
    assert net.hosts["h2"].copies.sent["g"] == tuple(ctcopy.copy_flows(
        "g", [tr.Remote(TUNNEL, UNDERLAY["h1"], 1)], [TUNNEL]))


SERVER_IP, SERVER_MAC = "192.0.2.2", "02:00:00:00:00:99"


def uplinks(grouped: bool = True) -> MemoryTopology:
    """vm1 (h1) and vm3 (h2) as two uplinks of br to one outside server: what leaves by an
    uplink is tracked (``uplink-out``), what enters by one must be a return packet
    (``uplink-in``); with ``grouped``, both are one stateful port group."""
    b = topology()
    up_in, up_out = b.chain("uplink-in"), b.chain("uplink-out")
    b.rule(up_in, "accept", matchReturnFlow=True)
    b.rule(up_in, "drop")
    b.rule(up_out, "accept", matchForwardFlow=True)
    for vm in ("vm1", "vm3"):
        b.objects["port"][vm].update(inboundFilterId="uplink-in", outboundFilterId="uplink-out")
    if grouped:
        port_group(b, "g", ["vm1", "vm3"], stateful=True)
    return b


def out_by_vm1(sport: int, flags: int = SYN) -> tuple[str, Packet, int]:
    """vm2's packet to the server, which leaves by vm1's uplink (on h1)."""
    return "vm2", tcp(MACS["vm2"], MACS["vm1"], IPS["vm2"], SERVER_IP, sport, 80), flags


def back_by_vm3(sport: int, flags: int = SYN_ACK) -> tuple[str, Packet, int]:
    """The server's answer, which enters by vm3's uplink (on h2)."""
    return "vm3", tcp(SERVER_MAC, MACS["vm2"], SERVER_IP, IPS["vm2"], 80, sport), flags


def test_asymmetric_return_through_a_stateful_group_on_two_hosts() -> None:
    """A connection leaves by vm1 (h1); its return enters by vm3 (h2), whose tracker knows
    it from h1's copy of the SYN. Without the group, the return is a stranger at vm3."""
    net = Net(uplinks())
    assert net.send(*out_by_vm1(40000)) == ["vm1"]
    assert net.send(*back_by_vm3(40000)) == ["vm2"]
    assert net.send(*back_by_vm3(40099)) == []  # no such connection
    before = net.calls()
    for sport in range(40001, 40011):
        assert net.send(*out_by_vm1(sport)) == ["vm1"]
        assert net.send(*back_by_vm3(sport)) == ["vm2"]
        assert net.send(*out_by_vm1(sport, ACK)) == ["vm1"]
        assert net.send(*back_by_vm3(sport, ACK)) == ["vm2"]
        assert net.send(*back_by_vm3(sport + 100)) == []
    assert net.calls() == before
    assert not net.state.flows.get(ct_key("g", Conn(IP_TCP, SERVER_IP, 80, IPS["vm2"], 40001)))
    alone = Net(uplinks(grouped=False))
    assert alone.send(*out_by_vm1(40000)) == ["vm1"]
    assert alone.send(*back_by_vm3(40000)) == []


def test_a_lost_copy_costs_a_retransmission() -> None:
    """The copy of a SYN does not arrive: the answer is dropped at vm3 as a stranger; the
    retransmitted SYN is new again for h1's tracker, copied again, and answered."""
    net = Net(uplinks())
    assert net.send(*out_by_vm1(40000)) == ["vm1"]
    assert net.send(*back_by_vm3(40000)) == ["vm2"]
    h1 = net.hosts["h1"]
    lost = h1.copies.sent["g"]
    h1.switch.apply([FlowDelete(lost[0].cookie)])
    assert net.send(*out_by_vm1(40001)) == ["vm1"]
    assert net.send(*back_by_vm3(40001)) == []
    h1.switch.apply(list(lost))
    assert net.send(*out_by_vm1(40001)) == ["vm1"]  # retransmitted
    assert net.send(*back_by_vm3(40001)) == ["vm2"]


def test_copy_flows_follow_the_groups_members() -> None:
    """The ct-copy flows of h1 as members of the group are bound, unbound and removed."""
    b = uplinks()
    view = b.view()
    flows = ctcopy.CopyFlows()
    h1 = Host("h1", b, State.in_memory(), FakeNetwork())

    def sync() -> list[Message]:
        plan = ctcopy.plan(view, "h1", h1.ofports, h1.handler.locator())
        return flows.flows(plan, [TUNNEL])

    to_h2 = ctcopy.copy_flows("g", [tr.Remote(TUNNEL, UNDERLAY["h2"], 3)], [TUNNEL])
    assert sync() == to_h2
    assert sync() == []  # nothing changed
    b.objects["port"]["vm3"]["hostId"] = None  # unbound: the group is on h1 only
    assert sync() == [FlowDelete(to_h2[0].cookie)]
    b.objects["port"]["vm3"]["hostId"] = "h2"
    assert sync() == to_h2
    b.objects["portGroup"]["g"]["portIds"] = ["vm1"]
    assert sync() == [FlowDelete(to_h2[0].cookie)]
    flows.reset()
    assert sync() == []


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


def test_icmp_errors_about_a_connection_and_echo_replies_come_back() -> None:
    net = Net()
    out_udp = udp(MACS["vm1"], MACS["vm3"], IPS["vm1"], IPS["vm3"], 5353, 53)
    assert net.send("vm1", out_udp) == ["vm3"]
    quote = udp_quote(IPS["vm1"], IPS["vm3"], 5353, 53)
    refused = icmp(MACS["vm3"], MACS["vm1"], IPS["vm3"], IPS["vm1"], icmp_type=3, code=3,
                   payload=quote)
    assert net.send("vm3", refused) == ["vm1"]  # related
    other = udp_quote(IPS["vm1"], IPS["vm3"], 5354, 53)
    assert net.send("vm3", refused.replace(payload=other)) == []  # about no connection
    ping = icmp(MACS["vm1"], MACS["vm3"], IPS["vm1"], IPS["vm3"], payload=b"\0\7\0\1")
    pong = icmp(MACS["vm3"], MACS["vm1"], IPS["vm3"], IPS["vm1"], icmp_type=0,
                payload=b"\0\7\0\1")
    assert net.send("vm3", pong) == []
    assert net.send("vm1", ping) == ["vm3"]
    assert net.send("vm3", pong) == ["vm1"]
    assert net.send("vm3", icmp(MACS["vm3"], MACS["vm1"], IPS["vm3"], IPS["vm1"],
                                payload=b"\0\10\0\1")) == []  # vm3 pinging vm1


def _simulate(view: Any, state: State, port: str, packet: Packet,
              answer: bool | None = None) -> Any:
    return simulate(view, state, port, packet, datapath_ct=DatapathCt(answer))


@pytest.mark.parametrize("packet", [
    udp(MACS["vm3"], MACS["vm1"], IPS["vm3"], IPS["vm1"], 53, 5353, ip_frag="later",
        udp_src=None, udp_dst=None),
    udp(MACS["vm3"], MACS["vm1"], IPS["vm3"], IPS["vm1"], 53, 5353, ip_frag="first"),
    tcp(MACS["vm3"], MACS["vm1"], IPS["vm3"], IPS["vm1"]).replace(
        ip_proto=47, tcp_src=None, tcp_dst=None),
], ids=["later fragment", "first fragment", "GRE"])
def test_fragments_and_other_protocols_keep_the_flow_state_table(packet: Packet) -> None:
    net = Net()
    result = _simulate(net.hosts["h2"].view, net.state, "vm3", packet)
    assert result.ct_scope is None and result.dropped  # looked up in the flow-state table
    leaving = packet.replace(eth_src=MACS["vm1"], eth_dst=MACS["vm3"], ipv4_src=IPS["vm1"],
                             ipv4_dst=IPS["vm3"])
    forward = _simulate(net.hosts["h1"].view, net.state, "vm1", leaving, False)
    assert all(o.commit is None for o in forward.outputs)


def test_gre_is_recorded_in_the_flow_state_table() -> None:
    net = Net()
    gre = tcp(MACS["vm1"], MACS["vm3"], IPS["vm1"], IPS["vm3"]).replace(
        ip_proto=47, tcp_src=None, tcp_dst=None)
    forward = _simulate(net.hosts["h1"].view, net.state, "vm1", gre)
    assert forward.state_keys and [o.commit for o in forward.outputs] == [None]


def test_a_router_with_uplinks_on_two_hosts_copies_its_commits() -> None:
    """vm1's bridge behind router r, whose uplinks are bound on h1 and h2 (replies may come
    back through either): r's connections are committed by the tracker and copied to the
    other host; unbinding the second uplink stops the copies."""
    b = topology()
    r, far, far_ip = b.router("r"), "02:00:00:00:00:99", "198.51.100.9"
    b.link(b.bridge_port(b.objects["bridge"]["br"], host=None, port_id="br:up"),
           b.router_port(r, "10.0.0.1/24", "02:aa:00:00:00:01", port_id="r:in"))
    up1 = b.router_port(r, "203.0.113.1/24", "02:aa:00:00:00:02", host="h1", port_id="up1")
    b.router_port(r, "203.0.114.1/24", "02:aa:00:00:00:03", host="h2", port_id="up2")
    b.route(r, "0.0.0.0/0", up1, gw="203.0.113.254")
    up_in = b.chain("up-in")
    b.rule(up_in, "accept", matchReturnFlow=True)
    b.rule(up_in, "drop")
    b.objects["port"]["up1"]["inboundFilterId"] = "up-in"
    state = State.in_memory()
    state.arps.put("r", "203.0.113.254", far)
    state.arps.put("r", IPS["vm1"], MACS["vm1"])
    view = b.view()
    out = tcp(MACS["vm1"], "02:aa:00:00:00:01", IPS["vm1"], far_ip, 40000, 443)
    back = tcp(far, "02:aa:00:00:00:02", far_ip, IPS["vm1"], 443, 40000)
    first = _simulate(view, state, "vm1", out)
    assert first.ct_scope == "br" and first.ct_return is None  # the VM's bridge: the tracker
    forward = _simulate(view, state, "vm1", out, False)
    assert [(o.port_id, o.commit, o.copy) for o in forward.outputs] == [("up1", "r", True)]
    assert not forward.state_keys and {"up1", "up2"} <= forward.tags
    reply = _simulate(view, state, "up1", back)
    assert reply.ct_scope == "r" and reply.ct_return is None  # asks the tracker
    assert [o.port_id for o in _simulate(view, state, "up1", back, True).outputs] == ["vm1"]
    b.objects["port"]["up2"]["hostId"] = None
    forward = _simulate(b.view(), state, "vm1", out, False)
    assert [(o.port_id, o.commit, o.copy) for o in forward.outputs] == [("up1", "r", False)]


@pytest.mark.parametrize("grouped", [False, True], ids=["bridge", "group on two hosts"])
@pytest.mark.parametrize("seed", range(12))
def test_the_trackers_answers_are_the_flow_state_tables(seed: int, grouped: bool) -> None:
    """Differential: random TCP and UDP traffic between the VMs is delivered the same with
    connection tracking in the datapath (flows, fake tracker) as without (flow-state table),
    also when vm1 and vm3 (on two hosts) are one stateful group (commits copied).
    TCP as endpoints send it: a server answers only a SYN it received, no FIN or RST."""
    rnd = random.Random(seed)
    b_on, b_off = topology(), topology()
    if grouped:
        for b in (b_on, b_off):
            port_group(b, "g", ["vm1", "vm3"], stateful=True)
    on, off = Net(b_on), Net(b_off, datapath=False)
    vms = list(PORTS)
    opened: list[tuple[str, str, int, int]] = []  # TCP connections whose SYN arrived
    answered: set[tuple[str, str, int, int]] = set()
    for step in range(40):
        kind = rnd.choice(("open", "open", "answer", "data", "udp", "udp back"))
        client, server = rnd.sample(vms, 2)
        sport, dport = rnd.randint(30000, 30005), rnd.choice((22, 80))
        if kind in ("answer", "data") and opened:
            client, server, sport, dport = conn = rnd.choice(opened)
            if kind == "answer":
                sent = (server, seg(server, client, dport, sport),
                        ACK if conn in answered else SYN_ACK)
                answered.add(conn)
            else:
                sent = (client, seg(client, server, sport, dport), ACK)
        elif kind.startswith("udp"):
            if kind == "udp back":
                client, server, sport, dport = server, client, dport, sport
            sent = (client, udp(MACS[client], MACS[server], IPS[client], IPS[server], sport,
                                dport), 0)
        else:
            conn = (client, server, sport, dport)
            if conn in opened:
                continue  # no SYN again
            sent = (client, seg(client, server, sport, dport), SYN)
        where = on.send(*sent)
        assert where == off.send(*sent), f"step {step}: {kind} {sent}"
        if kind == "open" and where:
            opened.append((client, server, sport, dport))


class Recording:
    """The packet handler, recording what the agent asks it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object, int | None]] = []

    def handle(self, port_id: str, in_port: int, packet: Packet, data: bytes,
               nat: object = None, tracked: int | None = None) -> list[Message]:
        self.calls.append((port_id, nat, tracked))
        return []


def test_the_agent_reads_the_trackers_answer_and_commits_deliveries() -> None:
    app = agent_app.make_agent(Features())
    app.conntrack_in_datapath = True
    app.ct_delivery = ctl.CommitDelivery()
    app.ct_copies = ctcopy.CopyFlows()
    app.host_id = "h1"
    app.seq_check = SeqCheck("ovs-vswitchd", run=lambda argv, env: True)
    app.zone_timeouts = ZoneTimeouts(lambda wanted: [])
    b = topology()
    app.view = b.view()
    app.bindings.want = {"vm1": 1}  # type: ignore[attr-defined]
    app.bindings.reconcile()
    handler = Recording()
    app.handler = handler  # type: ignore[assignment]
    switch = agent_app.connect(app)
    assert switch.lookup(p.TABLE_CT_LOOKUP, {"in_port": 1, "eth_type": 0x0800}) is not None
    commit = ctl.commit_delivery(1, 1, "br")
    assert app.ct_delivery.sent["vm1"] == (commit,)
    data = packets.build(seg("vm3", "vm1", 80, 40000))
    for match in ({"in_port": 1, "ct_state": (0x2a, 0xff)}, {"in_port": 1}):
        app.packet_in(SimpleNamespace(msg=SimpleNamespace(match=match, data=data, reason=0)))
        while app.serve_miss():
            pass
    assert handler.calls[0] == ("vm1", None, 0x2a)  # from the ct-lookup table
    assert handler.calls[1][2] is None  # from the flow table: asks the tracker first
    port_group(b, "g", ["vm1"], stateful=True)  # vm1's scope is the group now
    app.view = b.view()
    assert app._reconcile() == [ctl.commit_delivery(1, 1, "g")]


class NatAgent(nat_datapath.Agent):
    """Source NAT in the datapath, and connection tracking too: vm1 accepts return flows
    only (its own connections are tracked on their way out); with ``uplink``, the uplink
    accepts return flows only instead (what leaves by it is tracked)."""

    def __init__(self, uplink: bool = False) -> None:
        super().__init__()
        b = MemoryTopology()
        b.objects = self.view.objects()
        if uplink:
            up_in, up_out = b.chain("up-in"), b.chain("up-out")
            b.rule(up_in, "accept", matchReturnFlow=True)
            b.rule(up_in, "drop")
            b.rule(up_out, "accept", matchForwardFlow=True)
            b.objects["port"]["r:out"].update(inboundFilterId="up-in",
                                              outboundFilterId="up-out")
        else:
            return_only_chains(b)
        self.handler.conntrack_in_datapath = True
        self.switch.apply([ctl.miss_flow()])

    def _agent(self, packet_in: PacketIn) -> list[Message]:
        """As apps/agent.py ``handle_miss``: from the nat-return table with the tracker's
        ``ct_state``, from the ct-lookup table with it, else from the flow table."""
        h = packet_in.headers
        if not h.get(p.NAT_REG) and not h.get("ct_state"):
            return super()._agent(packet_in)
        self.calls += 1
        packet = Packet(**{f: h[f] for f in (*FIELDS, "payload") if f in h})
        port_id = next(pid for pid, n in nat_datapath.OFPORTS.items() if n == h["in_port"])
        state = h.get("ct_state", 0)
        if h.get(p.NAT_REG):
            nat = NatReturn.of(h[p.NAT_REG], state, zone=h.get("ct_zone", 0))
            msgs = self.handler.handle(port_id, h["in_port"], packet, frame(packet, h), nat)
        else:
            msgs = self.handler.handle(port_id, h["in_port"], packet, frame(packet, h),
                                       tracked=state)
        self.flows += [m for m in msgs if isinstance(m, FlowSpec)]
        return msgs


@pytest.mark.parametrize("uplink", [False, True])
def test_source_nat_in_the_datapath_and_return_only_chains_together(uplink: bool) -> None:
    """The datapath's source NAT commits the connection in the zone of the router, the scope
    of the uplink: nothing else records it, and its replies come back through that zone
    known as replies. New connections after the first reach no agent; packets from outside
    that are no replies are dropped."""
    agent = NatAgent(uplink)
    ((port, out),) = agent.send(1, nat_datapath.out_tcp(1, 40000), SYN)
    assert port == nat_datapath.UPLINK and out["ipv4_src"] == nat_datapath.GW_IP
    ((port, back),) = agent.send(nat_datapath.UPLINK, nat_datapath.reply(out["tcp_src"]),
                                 SYN_ACK)
    assert port == 1 and back["tcp_dst"] == 40000
    calls = agent.calls
    for sport in range(40001, 40006):
        ((_, out),) = agent.send(1, nat_datapath.out_tcp(1, sport), SYN)
        ((port, _),) = agent.send(nat_datapath.UPLINK, nat_datapath.reply(out["tcp_src"]),
                                  SYN_ACK)
        assert port == 1
    assert agent.calls == calls
    (back_flow,) = [f for f in agent.flows if f.table == p.TABLE_NAT_RETURN]
    assert back_flow.match["ct_zone"] == tr.zone_of("r")
    assert back_flow.match["ct_state"] == tr.REPLY
    assert not {"tcp_src", "tcp_dst"} & set(back_flow.match)  # a megaflow
    # from outside, no reply: to vm1's address, and to a NAT port no connection uses (the
    # router sends that one on out of the uplink, unless the uplink's filter drops it)
    stranger = nat_datapath.tcp(nat_datapath.FAR, nat_datapath.ROUT, nat_datapath.REMOTE,
                                "10.0.0.11", 443, 40000)
    for _ in range(2):
        assert agent.send(nat_datapath.UPLINK, stranger, SYN) == []
        sent = agent.send(nat_datapath.UPLINK, nat_datapath.reply(nat_datapath.BLOCK[1]),
                          SYN_ACK)
        assert [port for port, _ in sent if port != nat_datapath.UPLINK or uplink] == []


def test_a_related_icmp_error_reaches_a_vm_behind_a_return_only_uplink() -> None:
    """An ICMP error about a datagram the datapath translated comes back through the
    tracker as related: a return-only uplink lets it through."""
    agent = NatAgent(uplink=True)
    ((_, out),) = agent.send(1, udp(nat_datapath.VM1, nat_datapath.RIN, "10.0.0.11",
                                    nat_datapath.REMOTE, 5000, 53))
    quote = udp_quote(nat_datapath.GW_IP, nat_datapath.REMOTE, out["udp_src"], 53)
    error = icmp(nat_datapath.FAR, nat_datapath.ROUT, nat_datapath.REMOTE,
                 nat_datapath.GW_IP, 3, 3, payload=quote)
    ((port, back),) = agent.send(nat_datapath.UPLINK, error)
    assert port == 1 and back["ipv4_dst"] == "10.0.0.11"


def test_a_ports_ct_lookup_misses_go_through_its_meter() -> None:
    switch = FakeSwitch()
    switch.apply(tr.port_flows(1, 7, tr.MissLimit(10, 5)))
    view = topology().view()
    flows = ctl.CommitDelivery(metered=True).flows(
        {"vm1": 1}, lambda pid: {**(view.get("port", pid) or {}), "tunnelKey": 7},
        lambda port: "br")
    switch.apply(flows)
    done = switch.process({"in_port": 1, **seg("vm1", "vm3", 40000, 80).headers(),
                           "tcp_flags": SYN}, table_id=p.TABLE_CT_LOOKUP)
    assert done.meters == [7] and done.to_controller


def test_a_host_receiving_copies_turns_tcp_sequence_checking_off_once() -> None:
    """Its tracker may see only replies: once per switch connection, and only once it has a
    scope on several hosts (or not at all when the option is off)."""
    ran: list[list[str]] = []
    check = SeqCheck("/run/ovs/vswitchd.ctl", run=lambda argv, env: ran.append(argv) or True)
    check.need(False)
    assert ran == []
    check.need(True)
    check.need(True)
    assert ran == [["ovs-appctl", "-t", "/run/ovs/vswitchd.ctl",
                    "dpctl/ct-disable-tcp-seq-chk"]]
    check.reset()  # the switch reconnected
    check.need(True)
    assert len(ran) == 2
    off = SeqCheck("x", enabled=False, run=lambda argv, env: ran.append(argv) or True)
    off.need(True)
    assert len(ran) == 2
