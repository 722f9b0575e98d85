"""The flows the agent emits, applied to in-memory switches, deliver packets where the
simulator says: on one host, across two hosts through a tunnel, and through a router."""

from __future__ import annotations

from typing import Any

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import PacketHandler
from ryu_midonet.datapath import packets
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.fakenet import FakeNetwork
from ryu_midonet.datapath.fakeswitch import PacketIn
from ryu_midonet.datapath.flows import FlowDelete, FlowSpec, Message, PacketOut, SwitchConfig
from ryu_midonet.sim.core.model import FIELDS, Packet
from ryu_midonet.sim.state import State
from tests.support.packets import arp, icmp
from tests.support.topology import MemoryTopology

TUNNEL = 100  # the vxlan port's OpenFlow number on every host
HOSTS = {"hostA": "10.99.0.1", "hostB": "10.99.0.2"}
MAC1, MAC2, MAC3 = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"
RMAC1, RMAC2 = "02:00:00:00:01:01", "02:00:00:00:02:01"


class Host:
    """One host on the fake network: its switch and the agent's packet handler."""

    def __init__(self, name: str, objects: Any, state: State, ofports: dict[str, int],
                 net: FakeNetwork | None = None) -> None:
        self.name = name
        self.net = net if net is not None else FakeNetwork()
        self.switch = self.net.add_host(name, HOSTS[name], TUNNEL, self._agent).switch
        self.index = FlowIndex()
        self.handler = PacketHandler(objects, state, self.index, name, ofports,
                                     {"vxlan": TUNNEL})
        self.ofports = ofports
        keys = {pid: objects.get("port", pid)["tunnelKey"] for pid in ofports}
        # what the agent sends when its switch connects
        messages: list[Message] = [SwitchConfig(), FlowDelete(0, 0), *tr.base_flows([TUNNEL])]
        for pid, ofport in ofports.items():
            messages += tr.port_flows(ofport, keys[pid])
        self.switch.apply(messages)
        self.agent_calls = 0
        self.installed = 0
        self.packet_outs: list[PacketOut] = []

    def _agent(self, packet_in: PacketIn) -> list[Message]:
        """What the agent answers a packet-in with (applied to the switch by the network)."""
        self.agent_calls += 1
        headers = packet_in.headers
        packet = Packet(**{f: headers[f] for f in FIELDS if f in headers})
        ofport = headers["in_port"]
        port_id = next(p for p, n in self.ofports.items() if n == ofport)
        msgs = self.handler.handle(port_id, ofport, packet, packets.build(packet))
        self.installed += sum(isinstance(m, FlowSpec) for m in msgs)
        self.packet_outs += [m for m in msgs if isinstance(m, PacketOut)]
        return msgs

    def send(self, ofport: int, packet: Packet, hosts: dict[str, Host]) -> list[tuple]:
        """A VM sends ``packet`` into port ``ofport``: where does it come out, on any host?"""
        calls = {name: h.agent_calls for name, h in hosts.items()}
        installed = self.installed
        delivered = self.net.send(self.name, ofport, packet.headers())
        for name, h in hosts.items():
            if h is not self:
                assert h.agent_calls == calls[name]  # egress hosts never simulate
        if self.agent_calls > calls[self.name] and self.installed > installed:
            # the flow installed for the first packet takes the next ones
            assert not self.switch.process({**packet.headers(), "in_port": ofport}
                                           ).to_controller
        return [(hosts[d.host], d.port, d.headers) for d in delivered]


def _zone(b: MemoryTopology) -> None:
    b._put("tunnelZone", "tz", name="tz", type="vxlan", hostIds=list(HOSTS),
           tzHosts=[{"hostId": h, "ipAddress": ip} for h, ip in HOSTS.items()])


def _keys(b: MemoryTopology) -> None:
    for n, port in enumerate(b.objects["port"].values(), start=1):
        port["tunnelKey"] = n


def _icmp(src_mac: str, dst_mac: str, src: str, dst: str, ttl: int = 64) -> Packet:
    return icmp(src_mac, dst_mac, src, dst, ttl=ttl, payload=b"\0\1\0\1")


def _bridge_across_two_hosts() -> tuple[Any, State, FakeNetwork, dict[str, Any],
                                          dict[str, Any]]:
    """Bridge br with vm1 (tap1) on hostA and vm2 (tap2) on hostB, in one tunnel zone."""
    b = MemoryTopology()
    br = b.bridge("br")
    vm1 = b.bridge_port(br, host="hostA", interfaceName="tap1")
    vm2 = b.bridge_port(br, host="hostB", interfaceName="tap2")
    _zone(b)
    _keys(b)
    return b.view(), State.in_memory(), FakeNetwork(), vm1, vm2


def _hosts_of(view: Any, state: State, net: FakeNetwork, vm1: dict[str, Any],
              vm2: dict[str, Any]) -> dict[str, Host]:
    """Host A with vm1 and host B with vm2, each on OpenFlow port 1."""
    return {"hostA": Host("hostA", view, state, {vm1["id"]: 1}, net),
            "hostB": Host("hostB", view, state, {vm2["id"]: 1}, net)}


def test_bridge_across_two_hosts_goes_through_the_tunnel_once_learned() -> None:
    view, state, net, vm1, vm2 = _bridge_across_two_hosts()
    hosts = _hosts_of(view, state, net, vm1, vm2)
    a, bb = hosts["hostA"], hosts["hostB"]

    # unknown destination: flooded to the other host's port over the tunnel
    out = a.send(1, _icmp(MAC1, MAC2, "10.0.0.1", "10.0.0.2"), hosts)
    assert [(h, p) for h, p, _ in out] == [(bb, 1)]
    # the answer is unicast back (MAC1 was learned), and the request again reaches B
    back = bb.send(1, _icmp(MAC2, MAC1, "10.0.0.2", "10.0.0.1"), hosts)
    assert [(h, p) for h, p, _ in back] == [(a, 1)]
    again = a.send(1, _icmp(MAC1, MAC2, "10.0.0.1", "10.0.0.2"), hosts)
    assert [(h, p) for h, p, _ in again] == [(bb, 1)]
    calls = (a.agent_calls, bb.agent_calls)
    # now flows exist on both sides: further packets never reach an agent
    for _ in range(3):
        a.send(1, _icmp(MAC1, MAC2, "10.0.0.1", "10.0.0.2"), hosts)
        bb.send(1, _icmp(MAC2, MAC1, "10.0.0.2", "10.0.0.1"), hosts)
    assert (a.agent_calls, bb.agent_calls) == calls


def test_router_between_bridges_rewrites_and_decrements_ttl() -> None:
    b = MemoryTopology()
    br1, br2, rtr = b.bridge("br1"), b.bridge("br2"), b.router("r")
    vm1 = b.bridge_port(br1, host="hostA", interfaceName="tap1")
    vm2 = b.bridge_port(br2, host="hostB", interfaceName="tap2")
    up1 = b.bridge_port(br1, host=None)
    up2 = b.bridge_port(br2, host=None)
    rp1 = b.router_port(rtr, "10.0.1.1/24", RMAC1)
    rp2 = b.router_port(rtr, "10.0.2.1/24", RMAC2)
    for x, y in ((up1, rp1), (up2, rp2)):
        x["peerId"], y["peerId"] = y["id"], x["id"]
    _zone(b)
    _keys(b)
    view, state = b.view(), State.in_memory()
    state.arps.put("r", "10.0.2.12", MAC2)
    state.macs.learn("br2", MAC2, None, vm2["id"])
    net = FakeNetwork()
    hosts = _hosts_of(view, state, net, vm1, vm2)
    a, bb = hosts["hostA"], hosts["hostB"]

    out = a.send(1, _icmp(MAC1, RMAC1, "10.0.1.11", "10.0.2.12"), hosts)
    assert len(out) == 1
    host, port, headers = out[0]
    assert host is bb and port == 1
    assert headers["eth_src"] == RMAC2 and headers["eth_dst"] == MAC2
    assert headers["nw_ttl"] == 63
    # a second source on the same network reuses the same megaflow: no simulation
    calls = a.agent_calls
    a.send(1, _icmp(MAC1, RMAC1, "10.0.1.99", "10.0.2.12"), hosts)
    assert a.agent_calls == calls
    # a TTL of 1 cannot cross the router: the flow's dec_ttl hands it back to the agent
    expired = a.switch.process({**_icmp(MAC1, RMAC1, "10.0.1.11", "10.0.2.12", ttl=1)
                                .headers(), "in_port": 1})
    assert expired.to_controller


def test_arp_for_the_router_is_answered_locally() -> None:
    b = MemoryTopology()
    br1, rtr = b.bridge("br1"), b.router("r")
    vm1 = b.bridge_port(br1, host="hostA", interfaceName="tap1")
    up1 = b.bridge_port(br1, host=None)
    rp1 = b.router_port(rtr, "10.0.1.1/24", RMAC1)
    up1["peerId"], rp1["peerId"] = rp1["id"], up1["id"]
    _zone(b)
    _keys(b)
    a = Host("hostA", b.view(), State.in_memory(), {vm1["id"]: 1})
    request = arp(1, MAC1, "10.0.1.11", "10.0.1.1")
    out = a.send(1, request, {"hostA": a})
    replies = [packets.parse(m.data) for m in a.packet_outs]
    assert [(r.arp_op, r.arp_spa, r.arp_sha, r.eth_dst) for r in replies if r.arp_op] == [
        (2, "10.0.1.1", RMAC1, MAC1)]
    assert [m.actions[-1].args for m in a.packet_outs] == [(1,)]
    # the switch really sends the reply back out of the asking port
    assert [(h, p, hdr["arp_op"], hdr["arp_sha"]) for h, p, hdr in out] == [(a, 1, 2, RMAC1)]


def test_flow_index_refuses_a_flow_whose_inputs_changed_during_simulation() -> None:
    index = FlowIndex()
    since = index.generation()
    first = index.add({"bridge", "port-a"}, since)
    assert first is not None
    since = index.generation()
    deletes = index.invalidate({"port-a"})  # a change lands while a simulation runs
    assert [d.cookie for d in deletes] == [first]
    assert index.add({"bridge", "port-a"}, since) is None  # built from what changed
    assert index.add({"bridge", "port-b"}, since) is not None  # unrelated: fine
    assert index.add({"port-a"}, index.generation()) is not None
    assert len(index) == 2


def test_a_remote_host_registering_again_keeps_the_flows_towards_its_ports() -> None:
    """A host's record is written again whenever its interfaces change (a VM's tap comes or
    goes): flows towards its ports stay; a change of the tunnel zone still removes them."""
    view, state, net, vm1, vm2 = _bridge_across_two_hosts()
    state.macs.learn("br", MAC2, None, vm2["id"])
    hosts = _hosts_of(view, state, net, vm1, vm2)
    a = hosts["hostA"]
    assert [(h.name, p) for h, p, _ in a.send(1, _icmp(MAC1, MAC2, "10.0.0.1", "10.0.0.2"),
                                               hosts)] == [("hostB", 1)]
    assert a.index.invalidate(["hostB"]) == []
    assert a.index.invalidate(["tz"]) != []
