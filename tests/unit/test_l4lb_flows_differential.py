"""The flows and groups the agent installs for load-balanced traffic do what the simulator
decides, without the agent: connections to the VIP reach a member as the simulator sends a
connection to that member (the one the select group picked by weight, or the simulator's
own choice with source-IP persistence), the members' replies come back from the VIP as the
simulator sends them, and after the first packets of a client no packet reaches an agent
(in-memory switches on a fake underlay, real TCP flags, the connection tracker's model).

    client 203.0.113.5 (hostA) --[out]-- r:out 203.0.113.1/24
                                         router r  (load balancer lb, VIP 198.51.100.10:80)
    m1 10.0.0.11 (hostA), m2 10.0.0.12 (hostB) --[net]-- r:in 10.0.0.1/24
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import pytest

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import PacketHandler
from ryu_midonet.agent.lbfast import Aside, fast_vips
from ryu_midonet.datapath import lbflows, pipeline
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.fakenet import Delivery, FakeNetwork
from ryu_midonet.datapath.fakeswitch import PacketIn
from ryu_midonet.datapath.flows import FlowDelete, Message, SwitchConfig
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import FIELDS, Packet, Result
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.devices import l4lb
from ryu_midonet.sim.rules.tuples import Conn
from ryu_midonet.sim.state import State
from tests.support import randomtopo
from tests.support.flowcheck import TUNNEL, frame, rewritten
from tests.support.packets import tcp
from tests.support.topology import MemoryTopology

CLIENT, VIP = "02:00:00:00:00:0c", "198.51.100.10"
M1, M2 = "02:00:00:00:00:01", "02:00:00:00:00:02"
R_IN, R_OUT = "02:00:00:01:00:01", "02:00:00:01:00:02"
SYN, SYN_ACK, ACK = 0x02, 0x12, 0x10
BINDINGS = {"hostA": {"m1": 1, "client": 2}, "hostB": {"m2": 1}}
UNDERLAY = {"hostA": "192.0.2.1", "hostB": "192.0.2.2"}
MEMBERS = {"m1": ("hostA", 1, "10.0.0.11", M1), "m2": ("hostB", 1, "10.0.0.12", M2)}


class Host:
    """A host's switch and agent (the packet handler, with load balancing in the datapath)."""

    def __init__(self, name: str, view: DictView, state: State, net: FakeNetwork) -> None:
        self.view, self.state = view, state
        self.ofports = dict(BINDINGS[name])
        self.port_at = {v: k for k, v in self.ofports.items()}
        self.handler = PacketHandler(view, state, FlowIndex(), name, self.ofports,
                                     {"vxlan": TUNNEL})
        self.switch = net.add_host(name, UNDERLAY[name], TUNNEL, self.agent).switch
        self.calls = 0
        setup: list[Message] = [SwitchConfig(), FlowDelete(0, 0), *tr.base_flows([TUNNEL])]
        for port_id, ofport in self.ofports.items():
            setup += tr.port_flows(ofport, int(view.get("port", port_id)["tunnelKey"]))
        setup += [*lbflows.miss_flows(), *self.handler.lb.host_flows()]
        self.switch.apply(setup)

    def agent(self, packet_in: PacketIn) -> list[Message]:
        self.calls += 1
        headers = packet_in.headers
        in_port = headers["in_port"]
        packet = Packet(**{f: headers[f] for f in FIELDS if f in headers})
        data = _with_flags(frame(packet), headers.get("tcp_flags", 0))
        port_id = self.port_at[in_port]
        zone = headers.get("ct_zone")
        if zone and any(tr.zone_of(v.scope) == zone for v in fast_vips(self.view).values()):
            return self.handler.lb.reply_miss(
                port_id, in_port, packet, data, headers.get("ct_state", 0), zone,
                lambda: self.handler.handle(port_id, in_port, packet, data))
        return self.handler.handle(port_id, in_port, packet, data)


def _with_flags(data: bytes, flags: int) -> bytes:
    out = bytearray(data)
    out[14 + 20 + 13] = flags  # IPv4 without options, TCP flags
    return bytes(out)


class Lab:
    def __init__(self, persistence: str | None) -> None:
        b = MemoryTopology()
        net, out, r = b.bridge("net"), b.bridge("out"), b.router("r", loadBalancerId="lb")
        b.bridge_port(net, host="hostA", port_id="m1")
        b.bridge_port(net, host="hostB", port_id="m2")
        b.bridge_port(out, host="hostA", port_id="client")
        b.link(b.bridge_port(net, host=None), b.router_port(r, "10.0.0.1/24", R_IN))
        b.link(b.bridge_port(out, host=None), b.router_port(r, "203.0.113.1/24", R_OUT))
        b.chain("pre")
        b.rule(b.objects["chain"]["pre"], "drop")
        r["inboundFilterId"] = "pre"  # balanced traffic skips it
        b._put("tunnelZone", "tz", name="tz", type="vxlan", hostIds=["hostA", "hostB"],
               tzHosts=[{"hostId": h, "ipAddress": ip} for h, ip in UNDERLAY.items()])
        for key, port in enumerate(b.objects["port"].values(), start=1):
            port["tunnelKey"] = key
        b.objects["loadBalancer"] = {"lb": {"id": "lb", "routerId": r["id"]}}
        b.objects["pool"] = {"p": {"id": "p", "loadBalancerId": "lb",
                                   "lbMethod": "ROUND_ROBIN"}}
        b.objects["poolMember"] = {  # pm1 serves on port m1, pm2 on m2
            f"pm{n}": {"id": f"pm{n}", "poolId": "p", "address": f"10.0.0.1{n}",
                       "protocolPort": 8080, "weight": n} for n in (1, 2)}
        b.objects["vip"] = {"v": {"id": "v", "poolId": "p", "address": VIP,
                                  "protocolPort": 80, "sessionPersistence": persistence}}
        self.state = State.in_memory(clock=lambda: randomtopo.CLOCK)
        for bridge, mac, port in (("net", M1, "m1"), ("net", M2, "m2"),
                                  ("out", CLIENT, "client")):
            self.state.macs.learn(b.objects["bridge"][bridge]["id"], mac, None, port)
        rid = r["id"]
        self.state.arps.put(rid, "10.0.0.11", M1)
        self.state.arps.put(rid, "10.0.0.12", M2)
        self.state.arps.put(rid, "203.0.113.5", CLIENT)
        self.view = b.view()
        self.net = FakeNetwork()
        self.hosts = {name: Host(name, self.view, self.state, self.net) for name in BINDINGS}
        [self.vip] = fast_vips(self.view).values()

    def calls(self) -> int:
        return sum(h.calls for h in self.hosts.values())

    def send(self, port_id: str, packet: Packet, flags: int) -> list[Delivery]:
        host = next(h for h, ports in BINDINGS.items() if port_id in ports)
        return self.net.send(host, BINDINGS[host][port_id],
                             {**packet.headers(), "tcp_flags": flags})

    def decided(self, port_id: str, packet: Packet, given: dict[str, str]) -> list[Any]:
        """Where the simulator sends ``packet`` when the flow state holds ``given``."""
        aside = Aside(self.state.flows, given)
        result: Result = simulate(self.view, dataclasses.replace(self.state, flows=aside),
                                  port_id, packet)
        out = []
        for o in result.outputs:
            host = next(h for h, ports in BINDINGS.items() if o.port_id in ports)
            headers = rewritten(packet, o.rewrites).headers()
            out.append((host, BINDINGS[host][o.port_id], headers))
        return out


def _to_vip(sport: int) -> Packet:
    return tcp(CLIENT, R_OUT, "203.0.113.5", VIP, sport, 80, ip_dscp=0, ip_ecn=0, ip_frag="no")


def _from(member: str, sport: int) -> Packet:
    _, _, ip, mac = MEMBERS[member]
    return tcp(mac, R_IN, ip, "203.0.113.5", 8080, sport, ip_dscp=0, ip_ecn=0, ip_frag="no")


def _seen(deliveries: list[Delivery]) -> list[Any]:
    return [(d.host, d.port, {k: v for k, v in d.headers.items() if k != "tcp_flags"})
            for d in deliveries]


def _member_of(delivery: Delivery) -> str:
    return next(m for m, (h, port, _, _) in MEMBERS.items()
                if (h, port) == (delivery.host, delivery.port))


@pytest.mark.parametrize("persistence", [None, "SOURCE_IP"])
def test_balanced_connections_go_as_the_simulator_sends_them_without_the_agent(
        persistence: str | None) -> None:
    lab = Lab(persistence)
    vip = lab.vip
    chosen = Counter[str]()
    for n in range(40):
        sport = 40000 + n
        syn = _to_vip(sport)
        [delivered] = lab.send("client", syn, SYN)
        member = _member_of(delivered)
        chosen[member] += 1
        _, _, ip, _ = MEMBERS[member]
        dnat = f"nat:dnat:{vip.scope}:{Conn(6, '203.0.113.5', sport, VIP, 80)}"
        # the connection goes as the simulator sends a connection to that member
        assert _seen([delivered]) == lab.decided("client", syn, {dnat: f"{ip}:8080"})
        assert delivered.headers["ipv4_src"] == "203.0.113.5"  # the client's own address
        back = _from(member, sport)
        rev = f"nat:rev_dnat:{vip.scope}:{Conn(6, ip, 8080, '203.0.113.5', sport)}"
        for flags in (SYN_ACK, ACK):
            # the member's reply comes back from the VIP, as the simulator sends it
            replies = lab.send(member, back, flags)
            assert _seen(replies) == lab.decided(member, back, {rev: f"{VIP}:80"})
            assert (replies[0].headers["ipv4_src"], replies[0].headers["tcp_src"]) == (VIP, 80)
            # and the client's next packets reach the same member
            assert [(d.host, d.port) for d in lab.send("client", syn, ACK)] == \
                [(delivered.host, delivered.port)]
    # the agents saw the client's first packet and each member's first reply, nothing more
    assert lab.calls() <= 1 + len(MEMBERS)
    if persistence is None:  # by weight (1:2), by the select group
        assert chosen["m1"] > 0 and chosen["m2"] > chosen["m1"], chosen
    else:  # one member for the source: the simulator's
        member = l4lb.choose(vip, Conn(6, "203.0.113.5", 1, VIP, 80))
        assert member is not None
        assert chosen == {str(member["id"])[1:]: 40}


def test_a_packet_from_a_members_port_that_is_no_balanced_reply_goes_as_usual() -> None:
    lab = Lab(None)
    packet = _from("m2", 50000)
    before = lab.calls()
    # no balanced connection: the simulator routes it through the router's filters (drop)
    assert lab.send("m2", packet, SYN) == []
    assert lab.decided("m2", packet, {}) == []
    assert lab.calls() == before + 1


def _change(lab: Lab, kind: str, obj_id: str, **fields: Any) -> None:
    """An object changes: a new topology copy, and every agent removes the flows built on
    it and syncs its members' flows (as the agent does after a change)."""
    objects = {k: dict(v) for k, v in lab.view.objects().items()}
    objects[kind][obj_id] = {**objects[kind][obj_id], **fields}
    lab.view._objects = objects
    for host in lab.hosts.values():
        host.switch.apply([*host.handler.index.invalidate([obj_id]),
                           *host.handler.lb.host_flows()])


@pytest.mark.parametrize("persistence", [None, "SOURCE_IP"])
def test_a_disabled_member_gets_no_new_connections_and_keeps_its_own_unless_sticky(
        persistence: str | None) -> None:
    lab = Lab(persistence)
    vip = lab.vip
    if persistence is not None:  # the member of the client's source
        member = l4lb.choose(vip, Conn(6, "203.0.113.5", 1, VIP, 80))
        assert member is not None
        gone = str(member["id"])[1:]
    else:
        gone = "m2"
    first: dict[int, str] = {}
    for n in range(12):
        [d] = lab.send("client", _to_vip(41000 + n), SYN)
        first[41000 + n] = _member_of(d)
        lab.send(first[41000 + n], _from(first[41000 + n], 41000 + n), SYN_ACK)
    assert gone in first.values()
    groups = dict(lab.hosts["hostA"].switch.groups)
    _change(lab, "poolMember", f"p{gone}", adminStateUp=False)
    assert persistence is not None or set(lab.hosts["hostA"].switch.groups) != set(groups)
    [vip] = fast_vips(lab.view).values()
    for sport, member in first.items():
        ack = _to_vip(sport)
        _, _, ip, _ = MEMBERS[member]
        dnat = f"nat:dnat:{vip.scope}:{Conn(6, '203.0.113.5', sport, VIP, 80)}"
        expected = lab.decided("client", ack, {dnat: f"{ip}:8080"})
        # without persistence they finish on their member; with it the disabled one's drop
        assert (expected == []) == (persistence is not None and member == gone)
        assert _seen(lab.send("client", ack, ACK)) == expected
    for n in range(12):
        [d] = lab.send("client", _to_vip(42000 + n), SYN)
        assert _member_of(d) != gone


def test_a_deleted_vip_takes_its_group_and_its_members_flows_with_it() -> None:
    lab = Lab(None)
    for n in range(3):
        lab.send("client", _to_vip(44000 + n), SYN)
    host = lab.hosts["hostA"]
    assert host.switch.groups
    objects = {k: dict(v) for k, v in lab.view.objects().items()}
    del objects["vip"]["v"]
    lab.view._objects = objects
    for h in lab.hosts.values():
        h.switch.apply([*h.handler.index.invalidate(["v"]), *h.handler.lb.host_flows()])
        assert h.switch.groups == {}
        assert not [f for f in h.switch.flows  # the members' flows
                    if f.cookie >> pipeline.KIND_SHIFT == pipeline.COOKIE_LB]
    # the VIP is an address like any other now: the router's inbound filter drops it
    assert lab.send("client", _to_vip(44100), SYN) == []
