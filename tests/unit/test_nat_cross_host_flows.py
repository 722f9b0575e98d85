"""Source NAT in the datapath when the translated packets leave the topology on another host:
the VMs' host translates, the uplink's host sends the replies back to it through the tunnel
(the entry port in the key), and the VMs' host takes them through its tracker. Fake switches
on a fake network, the connection tracker modelled.

    host0: vm1 10.0.0.11 (ofport 1), vm2 (ofport 2) --[br]-- router r
    gw:    r:out 198.51.100.1/24 (ofport 3, the uplink), masquerade to 198.51.100.2
    gw2:   r:out2 203.0.113.1/24 (ofport 4; with ``group``: a second uplink, in one stateful
           port group with r:out)
"""

from __future__ import annotations

from typing import Any

import pytest
from sim_tenant import FAR, GW_IP, REMOTE, RIN, ROUT, VM1, tcp, tenant, tenant_state
from test_fakeswitch_ct import udp_quote
from test_nat_datapath import frame

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import NatReturn, PacketHandler
from ryu_midonet.agent.natsteer import path_cookie
from ryu_midonet.datapath import ctlookup as ctl
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.fakenet import FakeNetwork
from ryu_midonet.datapath.fakeswitch import PacketIn
from ryu_midonet.datapath.flows import Ct, FlowDelete, Message, SwitchConfig
from ryu_midonet.sim.core.model import FIELDS, Packet
from ryu_midonet.sim.state.natranges import MemoryNatRanges, RangeBoard, ReturnPath
from tests.support.packets import icmp, udp

TUNNEL = 100
UNDERLAY = {"host0": "10.93.0.1", "gw": "10.93.0.2"}
GROUP_UNDERLAY = {**UNDERLAY, "gw2": "10.93.0.3"}
OFPORTS = {"host0": {"vm1": 1, "vm2": 2}, "gw": {"r:out": 3}, "gw2": {"r:out2": 4}}
KEYS = {"vm1": 1, "vm2": 2, "r:out": 3, "r:out2": 4}
UPLINK, UPLINK2 = 3, 4
ROUT2 = "02:00:00:00:00:07"
BLOCK = range(4096, 8192)  # host0's block: the first aligned block of 4096 in 1024-65535
SYN, ACK = 0x02, 0x10


class Host:
    """One host: its fake switch and the agent's packet handler."""

    def __init__(self, name: str, view: Any, board: RangeBoard, net: FakeNetwork) -> None:
        self.name = name
        self.view = view
        state = tenant_state()
        state.nat_ranges = MemoryNatRanges(name, board)
        self.ofports = OFPORTS[name]
        self.handler = PacketHandler(view, state, FlowIndex(), name, self.ofports,
                                     {"vxlan": TUNNEL})
        self.switch = net.add_host(name, GROUP_UNDERLAY[name], TUNNEL, self._agent).switch
        messages: list[Message] = [SwitchConfig(), FlowDelete(0, 0),
                                   *tr.base_flows([TUNNEL], nat_return=True), ctl.miss_flow()]
        for port_id, ofport in self.ofports.items():
            messages += tr.port_flows(ofport, KEYS[port_id])
        self.switch.apply(messages)
        self.calls = 0

    def _agent(self, packet_in: PacketIn) -> list[Message]:
        """What the agent does with a packet-in (apps/agent.py ``handle_miss``)."""
        self.calls += 1
        h = packet_in.headers
        packet = Packet(**{f: h[f] for f in (*FIELDS, "payload") if f in h})
        nat = None
        state = h.get("ct_state", 0)
        if h.get(p.NAT_REG):
            nat = NatReturn.of(h[p.NAT_REG], state, h.get(p.ENTRY_REG, 0), h.get("ct_zone", 0))
        if nat is not None and nat.entry_key:
            port_id = next(pid for pid, key in KEYS.items() if key == nat.entry_key)
        else:
            port_id = next(pid for pid, n in self.ofports.items() if n == h["in_port"])
        if nat is None and state:  # from the ct-lookup table
            return self.handler.handle(port_id, h["in_port"], packet, frame(packet, h),
                                       tracked=state)
        return self.handler.handle(port_id, h["in_port"], packet, frame(packet, h), nat)


class Net:
    def __init__(self, group: bool = False, return_only: bool = False) -> None:
        b = tenant()
        hosts = GROUP_UNDERLAY if group else UNDERLAY
        uplinks = ["r:out"]
        if group:
            b.router_port(b.objects["router"]["r"], "203.0.113.1/24", ROUT2, host="gw2",
                          port_id="r:out2")
            uplinks.append("r:out2")
            b._put("portGroup", "pg", name="pg", stateful=True, portIds=list(uplinks))
        b.rule(b.objects["chain"]["pre"], "rev_snat", nwDstAddress=GW_IP, inPorts=uplinks)
        b.rule(b.objects["chain"]["post"], "snat", outPorts=["r:out"],
               natTargets=[f"{GW_IP}:1024-65535"])
        if return_only:  # the uplinks accept return flows in only, and track what leaves
            up_in, up_out = b.chain("up-in"), b.chain("up-out")
            b.rule(up_in, "accept", matchReturnFlow=True)
            b.rule(up_in, "drop")
            b.rule(up_out, "accept", matchForwardFlow=True)
            for uplink in uplinks:
                b.objects["port"][uplink].update(inboundFilterId="up-in",
                                                 outboundFilterId="up-out")
        b.objects["port"]["r:in"]["tunnelKey"] = 90
        b.objects["port"]["br:up"]["tunnelKey"] = 91
        for port_id, key in KEYS.items():
            if port_id in b.objects["port"]:
                b.objects["port"][port_id]["tunnelKey"] = key
        b.objects["port"]["vm1"]["hostId"] = b.objects["port"]["vm2"]["hostId"] = "host0"
        b._put("tunnelZone", "tz", name="tz", type="vxlan", hostIds=list(hosts),
               tzHosts=[{"hostId": h, "ipAddress": ip} for h, ip in hosts.items()])
        view = b.view()
        board = RangeBoard(bits=12)
        self.fake = FakeNetwork()
        self.hosts = {name: Host(name, view, board, self.fake) for name in hosts}

    def send(self, host: str, in_port: int, packet: Packet,
             flags: int = ACK) -> list[tuple[str, int, dict[str, Any]]]:
        headers: dict[str, Any] = {**packet.headers(), "in_port": in_port}
        if packet.payload:
            headers["payload"] = packet.payload
        if packet.ip_proto == 6:
            headers["tcp_flags"] = flags
        return [(d.host, d.port, d.headers) for d in self.fake.send(host, in_port, headers)]

    def calls(self) -> int:
        return sum(h.calls for h in self.hosts.values())


def out_tcp(sport: int) -> Packet:
    return tcp(VM1, RIN, "10.0.0.11", REMOTE, sport, 443)


def reply(nat_port: int) -> Packet:
    return tcp(FAR, ROUT, REMOTE, GW_IP, 443, nat_port)


@pytest.fixture
def net() -> Net:
    return Net()


def test_connections_leave_by_the_other_hosts_uplink_translated_by_the_switch(
        net: Net) -> None:
    ((host, port, first),) = net.send("host0", 1, out_tcp(40000), SYN)
    assert (host, port, first["ipv4_src"]) == ("gw", UPLINK, GW_IP)
    assert first["tcp_src"] in BLOCK
    ((host, port, back),) = net.send("gw", UPLINK, reply(first["tcp_src"]), SYN | ACK)
    assert (host, port) == ("host0", 1)
    assert (back["ipv4_dst"], back["tcp_dst"], back["eth_dst"]) == ("10.0.0.11", 40000, VM1)
    calls = net.calls()
    for sport in range(40001, 40006):  # later connections: neither host's agent
        ((host, port, out),) = net.send("host0", 1, out_tcp(sport), SYN)
        assert (host, port, out["ipv4_src"]) == ("gw", UPLINK, GW_IP)
        assert out["tcp_src"] in BLOCK and out["tcp_src"] != first["tcp_src"]
        ((host, port, back),) = net.send("gw", UPLINK, reply(out["tcp_src"]), SYN | ACK)
        assert (host, port, back["tcp_dst"]) == ("host0", 1, sport)
    assert net.calls() == calls


def test_the_uplinks_host_steers_replies_with_a_flow_in_its_table(net: Net) -> None:
    ((_, _, first),) = net.send("host0", 1, out_tcp(40000), SYN)
    gw = net.hosts["gw"]
    steer = [f for f in gw.handler.steering.installed
             for f in gw.handler.steering.installed[f]]
    assert not steer  # not yet: the first reply's miss installs it
    net.send("gw", UPLINK, reply(first["tcp_src"]), SYN | ACK)
    (path,) = gw.handler.steering.installed
    assert (path.host, path.port_id, path.first, path.last) == ("host0", "r:out", 4096, 8191)
    flows = gw.handler.steering.installed[path]
    assert {f.match["in_port"] for f in flows} == {UPLINK}
    assert all(f.priority > p.PRIORITY_PROACTIVE for f in flows)


def test_a_reply_to_no_connection_is_not_let_in(net: Net) -> None:
    net.send("host0", 1, out_tcp(40000), SYN)
    # no such connection: the router does as the simulator says (it asks who has the address)
    assert not [d for d in net.send("gw", UPLINK, reply(BLOCK[-1]), SYN) if d[0] == "host0"]


def test_udp_and_an_icmp_error_about_it_reach_the_vm(net: Net) -> None:
    ((host, port, out),) = net.send("host0", 1, udp(VM1, RIN, "10.0.0.11", REMOTE, 5000, 53))
    assert (host, port, out["ipv4_src"]) == ("gw", UPLINK, GW_IP) and out["udp_src"] in BLOCK
    quote = udp_quote(GW_IP, REMOTE, out["udp_src"], 53)
    error = icmp(FAR, ROUT, REMOTE, GW_IP, icmp_type=3, code=3, payload=quote)
    ((host, port, back),) = net.send("gw", UPLINK, error)
    assert (host, port, back["ipv4_dst"], back["icmpv4_type"]) == ("host0", 1, "10.0.0.11", 3)


def test_a_reconnecting_switch_gets_its_steering_back(net: Net) -> None:
    ((_, _, out),) = net.send("host0", 1, out_tcp(40000), SYN)
    net.send("gw", UPLINK, reply(out["tcp_src"]), SYN | ACK)
    for host in net.hosts.values():
        messages: list[Message] = [FlowDelete(0, 0), *tr.base_flows([TUNNEL], nat_return=True)]
        for port_id, ofport in host.ofports.items():
            messages += tr.port_flows(ofport, KEYS[port_id])
        host.switch.apply([*messages, *host.handler.switch_connected()])
    ((host, port, back),) = net.send("gw", UPLINK, reply(out["tcp_src"]), ACK)
    assert (host, port, back["tcp_dst"]) == ("host0", 1, 40000)


class Unannounced(MemoryNatRanges):
    """The uplink host's view of the paths before their announcement: only what it read
    itself (:meth:`refresh`)."""

    def __init__(self, host_id: str, board: RangeBoard) -> None:
        super().__init__(host_id, board)
        self.known: set[ReturnPath] = set()
        self.asked = 0

    def paths(self) -> frozenset[ReturnPath]:
        return frozenset(self.known)

    def refresh(self, ip: str, port: int) -> bool:
        self.asked += 1
        found = {p for p in self.board.paths if p.ip == ip and p.first <= port <= p.last}
        new = bool(found - self.known)
        self.known |= found
        return new


def test_a_reply_before_its_paths_announcement_still_reaches_the_vm(net: Net) -> None:
    gw = net.hosts["gw"]
    ranges = Unannounced("gw", gw.handler.state.nat_ranges.board)  # type: ignore[union-attr]
    gw.handler.state.nat_ranges = ranges
    ((_, _, out),) = net.send("host0", 1, out_tcp(40000), SYN)
    ((host, port, back),) = net.send("gw", UPLINK, reply(out["tcp_src"]), SYN | ACK)
    assert (host, port, back["tcp_dst"]) == ("host0", 1, 40000)
    assert ranges.asked == 1
    calls = net.calls()
    ((_, _, out),) = net.send("host0", 1, out_tcp(40001), SYN)
    assert net.send("gw", UPLINK, reply(out["tcp_src"]), SYN | ACK)[0][:2] == ("host0", 1)
    assert net.calls() == calls  # the steering flow is in place


def test_steering_goes_with_its_path_or_its_port(net: Net) -> None:
    ((_, _, out),) = net.send("host0", 1, out_tcp(40000), SYN)
    net.send("gw", UPLINK, reply(out["tcp_src"]), SYN | ACK)
    gw, host0 = net.hosts["gw"], net.hosts["host0"]
    (path,) = gw.handler.steering.installed
    cookie = path_cookie(path)
    # the uplink is unbound: both hosts remove the path's flows
    del gw.view.get("port", "r:out")["hostId"]
    for host in (gw, host0):
        assert [m for m in host.handler.nat_steering() if isinstance(m, FlowDelete)] == [
            FlowDelete(cookie)]
    gw.view.get("port", "r:out")["hostId"] = "gw"
    for host in (gw, host0):
        host.switch.apply(host.handler.nat_steering())  # back
    assert net.send("gw", UPLINK, reply(out["tcp_src"]), ACK)[0][:2] == ("host0", 1)
    # the lease went (with its paths): the flows go too
    board = gw.handler.state.nat_ranges.board  # type: ignore[union-attr]
    board.paths.clear()
    removed = gw.handler.nat_steering()
    assert removed == [FlowDelete(cookie)]
    gw.switch.apply(removed)
    assert not [d for d in net.send("gw", UPLINK, reply(out["tcp_src"]), ACK) if d[0] == "host0"]


def test_a_new_block_takes_new_connections_without_either_agent(net: Net) -> None:
    ((_, _, old),) = net.send("host0", 1, out_tcp(40000), SYN)
    net.send("gw", UPLINK, reply(old["tcp_src"]), SYN | ACK)
    host0, gw = net.hosts["host0"], net.hosts["gw"]
    ranges = host0.handler.state.nat_ranges
    assert isinstance(ranges, MemoryNatRanges)
    new_block = ranges.grow(GW_IP, 1024, 65535)
    assert new_block == (8192, 12287)
    host0.switch.apply(host0.handler.nat_blocks_changed())  # the flows take the new block
    gw.switch.apply(gw.handler.nat_steering())  # the new path's announcement
    assert host0.handler.nat_blocks_changed() == []  # nothing left to move
    calls = net.calls()
    for sport in range(40001, 40004):
        ((host, port, out),) = net.send("host0", 1, out_tcp(sport), SYN)
        assert (host, port, out["ipv4_src"]) == ("gw", UPLINK, GW_IP)
        assert new_block[0] <= out["tcp_src"] <= new_block[1]
        ((host, port, back),) = net.send("gw", UPLINK, reply(out["tcp_src"]), SYN | ACK)
        assert (host, port, back["tcp_dst"]) == ("host0", 1, sport)
    # the connection from before keeps its port, and its replies their way
    ((_, _, again),) = net.send("host0", 1, out_tcp(40000), ACK)
    assert again["tcp_src"] == old["tcp_src"] in BLOCK
    ((host, port, back),) = net.send("gw", UPLINK, reply(old["tcp_src"]), ACK)
    assert (host, port, back["tcp_dst"]) == ("host0", 1, 40000)
    assert net.calls() == calls


# -- two uplinks in a stateful port group -------------------------------------------------------

def reply2(nat_port: int) -> Packet:
    """A reply that comes back by the other uplink, r:out2 on gw2."""
    return tcp(FAR, ROUT2, REMOTE, GW_IP, 443, nat_port)


@pytest.fixture
def group() -> Net:
    return Net(group=True)


def test_replies_by_the_other_member_of_a_stateful_group_reach_the_vm(group: Net) -> None:
    ((host, port, first),) = group.send("host0", 1, out_tcp(40000), SYN)
    assert (host, port, first["ipv4_src"]) == ("gw", UPLINK, GW_IP)
    assert first["tcp_src"] in BLOCK  # translated by host0's switch
    ((host, port, back),) = group.send("gw2", UPLINK2, reply2(first["tcp_src"]), SYN | ACK)
    assert (host, port) == ("host0", 1)
    assert (back["ipv4_dst"], back["tcp_dst"], back["eth_dst"]) == ("10.0.0.11", 40000, VM1)
    for host in group.hosts.values():  # the path's announcement
        host.switch.apply(host.handler.nat_steering())
    # the first reply by r:out: host0's agent decides once for replies entering there
    ((_, _, out),) = group.send("host0", 1, out_tcp(40001), SYN)
    assert group.send("gw", UPLINK, reply(out["tcp_src"]), SYN | ACK)[0][:2] == ("host0", 1)
    calls = group.calls()
    for sport in range(40002, 40008):  # later connections: no agent, by either uplink
        ((host, port, out),) = group.send("host0", 1, out_tcp(sport), SYN)
        assert (host, port, out["ipv4_src"]) == ("gw", UPLINK, GW_IP)
        assert out["tcp_src"] in BLOCK and out["tcp_src"] != first["tcp_src"]
        back_by = reply2 if sport % 2 else reply
        entry = ("gw2", UPLINK2) if sport % 2 else ("gw", UPLINK)
        ((host, port, back),) = group.send(*entry, back_by(out["tcp_src"]), SYN | ACK)
        assert (host, port, back["tcp_dst"]) == ("host0", 1, sport)
    assert group.calls() == calls
    # each uplink's host steers the block's replies at its own member
    for name, ofport in (("gw", UPLINK), ("gw2", UPLINK2)):
        (flows,) = group.hosts[name].handler.steering.installed.values()
        assert {f.match["in_port"] for f in flows} == {ofport}
    # host0 takes them in from either member, the entry port in the key
    (flows,) = group.hosts["host0"].handler.steering.installed.values()
    assert {f.match["tunnel_id"] for f in flows} == {tr.steered_key(3), tr.steered_key(4)}
    # the translating flow commits the connection once, with its translation: no ct-copy
    (snat,) = [flow for flow, _ in group.hosts["host0"].handler.snat_flows._flows.values()]
    (ct,) = [a.args[0] for a in snat.actions if a.kind == "ct"]
    assert isinstance(ct, Ct) and ct.commit and ct.nat is not None and ct.table is None


def test_return_only_uplinks_of_a_stateful_group_need_no_agent_per_connection() -> None:
    """The group's uplinks accept return flows in only: the source NAT of host0's switch
    records each connection in the group's zone, where its replies, steered to host0 from
    either uplink, are replies. Packets from outside that are no replies stay out."""
    net = Net(group=True, return_only=True)
    ((_, _, out),) = net.send("host0", 1, out_tcp(40000), SYN)
    assert net.send("gw2", UPLINK2, reply2(out["tcp_src"]), SYN | ACK)[0][:2] == ("host0", 1)
    for host in net.hosts.values():  # the path's announcement
        host.switch.apply(host.handler.nat_steering())
    ((_, _, out),) = net.send("host0", 1, out_tcp(40001), SYN)
    assert net.send("gw", UPLINK, reply(out["tcp_src"]), SYN | ACK)[0][:2] == ("host0", 1)
    calls = net.calls()
    for sport in range(40002, 40008):
        ((host, port, out),) = net.send("host0", 1, out_tcp(sport), SYN)
        assert (host, port, out["ipv4_src"]) == ("gw", UPLINK, GW_IP)
        entry = ("gw2", UPLINK2, reply2) if sport % 2 else ("gw", UPLINK, reply)
        ((host, port, back),) = net.send(entry[0], entry[1], entry[2](out["tcp_src"]),
                                         SYN | ACK)
        assert (host, port, back["tcp_dst"]) == ("host0", 1, sport)
    assert net.calls() == calls
    back_flows = [f for f in net.hosts["host0"].switch.table(p.TABLE_NAT_RETURN)
                  if "ct_zone" in f.match]
    assert back_flows and {f.match["ct_zone"][0] for f in back_flows} == {tr.zone_of("pg")}
    stranger = tcp(FAR, ROUT, REMOTE, "10.0.0.11", 443, 40000)
    assert not [d for d in net.send("gw", UPLINK, stranger, SYN) if d[0] == "host0"]
    assert not [d for d in net.send("gw", UPLINK, reply(BLOCK[-1]), SYN | ACK)
                if d[0] == "host0"]


def test_an_icmp_error_entering_by_the_other_member_reaches_the_vm(group: Net) -> None:
    ((_, _, out),) = group.send("host0", 1, udp(VM1, RIN, "10.0.0.11", REMOTE, 5000, 53))
    assert out["udp_src"] in BLOCK
    quote = udp_quote(GW_IP, REMOTE, out["udp_src"], 53)
    error = icmp(FAR, ROUT2, REMOTE, GW_IP, icmp_type=3, code=3, payload=quote)
    ((host, port, back),) = group.send("gw2", UPLINK2, error)
    assert (host, port, back["ipv4_dst"], back["icmpv4_type"]) == ("host0", 1, "10.0.0.11", 3)


def test_group_membership_moves_the_steering(group: Net) -> None:
    ((_, _, out),) = group.send("host0", 1, out_tcp(40000), SYN)
    group.send("gw2", UPLINK2, reply2(out["tcp_src"]), SYN | ACK)
    gw2, host0 = group.hosts["gw2"], group.hosts["host0"]
    (path,) = gw2.handler.steering.installed
    members = group.hosts["gw"].view.get("portGroup", "pg")["portIds"]
    # r:out2 leaves the group: gw2 steers nothing, host0 takes replies from r:out only
    members.remove("r:out2")
    assert gw2.handler.nat_steering() == [FlowDelete(path_cookie(path))]
    gw2.switch.apply([FlowDelete(path_cookie(path))])
    moved = host0.handler.nat_steering()
    assert moved[0] == FlowDelete(path_cookie(path))
    assert {m.match["tunnel_id"] for m in moved[1:]} == {tr.steered_key(3)}  # type: ignore[union-attr]
    host0.switch.apply(moved)
    assert not [d for d in group.send("gw2", UPLINK2, reply2(out["tcp_src"]), ACK)
                if d[0] == "host0"]
    # back in the group, but unbound: nothing to steer at it on gw2
    members.append("r:out2")
    uplink2 = gw2.view.get("port", "r:out2")
    del uplink2["hostId"]
    assert gw2.handler.nat_steering() == []
    # bound again: steered again, without an agent
    uplink2["hostId"] = "gw2"
    for host in group.hosts.values():
        host.switch.apply(host.handler.nat_steering())
    calls = group.calls()
    ((host, port, back),) = group.send("gw2", UPLINK2, reply2(out["tcp_src"]), ACK)
    assert (host, port, back["tcp_dst"]) == ("host0", 1, 40000)
    assert group.calls() == calls
