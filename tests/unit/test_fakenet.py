"""The fake network follows packets from switch to switch through tunnels, and hands
packet-ins to each host's agent."""

from __future__ import annotations

import pytest

from ryu_midonet.datapath import translator as t
from ryu_midonet.datapath.fakenet import Delivery, FakeNetwork
from ryu_midonet.datapath.fakeswitch import PacketIn
from ryu_midonet.datapath.flows import (
    FlowDelete,
    FlowSpec,
    Message,
    SwitchConfig,
    output,
    set_field,
)
from ryu_midonet.datapath.ofcheck import NotUnderstood

TUNNEL = 9
HOSTS = {"a": "10.99.0.1", "b": "10.99.0.2", "c": "10.99.0.3"}
FRAME = {"eth_src": "02:00:00:00:00:01", "eth_dst": "02:00:00:00:00:02", "eth_type": 0x0806,
         "arp_op": 1, "arp_spa": "10.0.0.1", "arp_tpa": "10.0.0.2"}


def _net() -> FakeNetwork:
    """Three hosts; on each, port 3 has tunnel key 1, 2 or 3 (a, b, c)."""
    net = FakeNetwork()
    for key, (name, ip) in enumerate(HOSTS.items(), start=1):
        net.add_host(name, ip, TUNNEL).switch.apply(
            [SwitchConfig(), FlowDelete(0, 0), *t.base_flows([TUNNEL]), *t.port_flows(3, key)])
    return net


def _to(host: str, key: int, in_port: int = 3) -> FlowSpec:
    return FlowSpec(1, 100, {"in_port": in_port}, (
        set_field("tunnel_id", key), set_field("tun_ipv4_dst", HOSTS[host]), output(TUNNEL)))


def test_a_tunnelled_packet_comes_out_of_the_port_its_key_names() -> None:
    net = _net()
    net.hosts["a"].switch.apply([_to("c", 3)])
    assert net.send("a", 3, FRAME) == [Delivery("c", 3, FRAME)]
    assert net.is_output("a", 3, FRAME, "c", 3, arp_tpa="10.0.0.2", vlan_vid=None)
    assert not net.is_output("a", 3, FRAME, "b", 3)
    assert not net.is_output("a", 3, FRAME, "c", 3, arp_tpa="10.0.0.9")


def test_the_receiving_host_delivers_by_tunnel_key_without_its_agent() -> None:
    net = _net()
    net.hosts["a"].switch.apply([_to("b", 2)])
    assert net.send("a", 3, FRAME) == [Delivery("b", 3, FRAME)]
    assert net.hosts["b"].switch.packet_ins == []
    net.hosts["a"].switch.apply([_to("b", 99)])
    assert net.send("a", 3, FRAME) == []  # no port of b has that key: dropped


def test_a_tunnel_output_without_a_key_or_to_nowhere() -> None:
    net = _net()
    net.hosts["a"].switch.apply([FlowSpec(1, 100, {"in_port": 3}, (output(TUNNEL),))])
    with pytest.raises(NotUnderstood):
        net.send("a", 3, FRAME)
    net.hosts["a"].switch.apply([FlowSpec(1, 100, {"in_port": 3}, (
        set_field("tunnel_id", 2), set_field("tun_ipv4_dst", "10.99.0.99"), output(TUNNEL)))])
    assert net.send("a", 3, FRAME) == []  # no host has that underlay address


def test_packet_ins_go_to_the_agent_whose_answers_are_followed() -> None:
    net = FakeNetwork()
    seen: list[PacketIn] = []

    def agent(packet_in: PacketIn) -> list[Message]:
        seen.append(packet_in)
        return [_to("b", 2)]  # the first packet's flow; the packet itself is not resent

    net.add_host("a", HOSTS["a"], TUNNEL, agent)
    net.add_host("b", HOSTS["b"], TUNNEL)
    for key, host in enumerate(net.hosts.values(), start=1):
        host.switch.apply([SwitchConfig(), *t.base_flows([TUNNEL]), *t.port_flows(3, key)])
    assert net.send("a", 3, FRAME) == []
    assert [pin.headers["in_port"] for pin in seen] == [3]
    assert net.send("a", 3, FRAME) == [Delivery("b", 3, FRAME)]
    assert len(seen) == 1
