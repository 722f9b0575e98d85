"""The DHCP feature on one host: the frames a client sends are parsed, answered with a frame
whose options a client reads back, and a local port's DHCP reaches the agent only."""

from __future__ import annotations

import struct
from typing import Any

from os_ken.lib.packet import dhcp as oskdhcp
from os_ken.lib.packet import ethernet, ipv4, packet, udp

from ryu_midonet.agent import features
from ryu_midonet.apps.dhcp import DhcpApp, DhcpService
from ryu_midonet.datapath import dhcpwire, packets
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.fakeswitch import FakeSwitch
from ryu_midonet.datapath.flows import FlowSpec, Message, PacketOut, output
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.devices import dhcp

VM, STRANGER = "02:00:00:00:00:01", "02:00:00:00:00:09"
KEY, OFPORT = 7, 3


def client_frame(msg_type: int, mac: str = VM, *, src: str = "0.0.0.0",
                 dst: str = "255.255.255.255", ciaddr: str = "0.0.0.0", flags: int = 0,
                 more: tuple[tuple[int, bytes], ...] = ()) -> bytes:
    """What a DHCP client sends (built as a client would, with os-ken)."""
    opts = [oskdhcp.option(tag=53, value=bytes([msg_type]))]
    opts += [oskdhcp.option(tag=t, value=v) for t, v in more]
    msg = oskdhcp.dhcp(op=1, chaddr=mac, xid=0x1234, flags=flags, ciaddr=ciaddr,
                       options=oskdhcp.options(option_list=opts))
    eth_dst = "ff:ff:ff:ff:ff:ff" if dst == "255.255.255.255" else "02:dd:00:00:00:01"
    frame = packet.Packet()
    frame.add_protocol(ethernet.ethernet(dst=eth_dst, src=mac, ethertype=0x0800))
    frame.add_protocol(ipv4.ipv4(src=src, dst=dst, proto=17))
    frame.add_protocol(udp.udp(src_port=68, dst_port=67))
    frame.add_protocol(msg)
    frame.serialize()
    return bytes(frame.data)


def read_reply(data: bytes) -> tuple[Any, Any, oskdhcp.dhcp, dict[int, bytes]]:
    pkt = packet.Packet(data)
    msg = pkt.get_protocol(oskdhcp.dhcp)
    assert msg is not None
    opts = {o.tag: bytes(o.value) for o in msg.options.option_list}
    return pkt.get_protocol(ethernet.ethernet), pkt.get_protocol(ipv4.ipv4), msg, opts


def objects(enabled: bool = True) -> dict[str, Any]:
    return {
        "bridge": {"br": {"id": "br"}, "plain": {"id": "plain"}},
        "port": {"vm": {"id": "vm", "type": "Bridge", "deviceId": "br", "tunnelKey": KEY},
                 "other": {"id": "other", "type": "Bridge", "deviceId": "plain",
                           "tunnelKey": 8}},
        "dhcpSubnet": {"s1": {
            "id": "s1", "bridgeId": "br", "subnetPrefix": "10.0.0.0", "subnetLength": 24,
            "defaultGateway": "10.0.0.1", "serverAddr": "10.0.0.2",
            "dnsServerAddrs": ["10.0.0.53"], "interfaceMTU": 1400,
            "opt121Routes": [{"destinationPrefix": "172.16.0.0", "destinationLength": 12,
                              "gatewayAddr": "10.0.0.254"}],
            "enabled": enabled}},
        "dhcpHost": {"h1": {"id": "h1", "bridgeId": "br", "subnetId": "s1", "macAddr": VM,
                            "ipAddr": "10.0.0.11", "name": "vm1"}},
    }


def service(enabled: bool = True, metered: bool = True) -> DhcpService:
    feature = DhcpService()
    feature.start(features.AgentContext("host1", None, DictView(objects(enabled)),
                                        {"vm": OFPORT}, metered))
    return feature


def ask(feature: DhcpService, data: bytes, port_id: str = "vm") -> list[Message] | None:
    parsed = packets.parse(data)
    assert parsed is not None
    return feature.packet_in(port_id, OFPORT, parsed, data)


# -- the wire --------------------------------------------------------------------------------

def test_a_clients_discover_is_parsed() -> None:
    received = dhcpwire.parse(client_frame(dhcp.DISCOVER, VM.upper(), flags=0x8000,
                                           more=((50, bytes([10, 0, 0, 11])),)))
    assert received is not None
    assert received.request == dhcp.Request(dhcp.DISCOVER, VM, "0.0.0.0", "10.0.0.11", None)
    assert (received.xid, received.flags) == (0x1234, 0x8000)


def test_what_is_not_a_dhcp_request_is_not_parsed() -> None:
    good = client_frame(dhcp.DISCOVER)
    assert dhcpwire.parse(good[:60]) is None  # truncated
    assert dhcpwire.parse(b"\x00" * 20) is None
    no_type = client_frame(dhcp.DISCOVER).replace(b"\x35\x01\x01", b"\x0c\x01x")
    assert dhcpwire.parse(no_type) is None
    reply = bytearray(good)
    reply[14 + 20 + 8] = 2  # BOOTREPLY
    assert dhcpwire.parse(bytes(reply)) is None


def test_the_offer_carries_the_address_and_every_option() -> None:
    answer = dhcp.answer(DictView(objects()), "br", dhcp.Request(dhcp.DISCOVER, VM))
    received = dhcpwire.parse(client_frame(dhcp.DISCOVER))
    assert answer is not None and received is not None
    eth, ip, msg, opts = read_reply(dhcpwire.build(answer, received))
    assert (eth.dst, eth.src) == (VM, answer.server_mac)
    assert (ip.src, ip.dst) == ("10.0.0.2", "10.0.0.11")
    assert (msg.op, msg.xid, msg.yiaddr, msg.chaddr) == (2, 0x1234, "10.0.0.11", VM)
    assert opts[53] == bytes([dhcp.OFFER])
    assert opts[54] == bytes([10, 0, 0, 2])
    assert opts[1] == bytes([255, 255, 255, 0])
    assert opts[3] == bytes([10, 0, 0, 1])
    assert opts[6] == bytes([10, 0, 0, 53])
    assert opts[26] == struct.pack("!H", 1400)
    assert opts[51] == struct.pack("!I", dhcp.LEASE_TIME)
    assert opts[12] == b"vm1"
    # 172.16.0.0/12 via 10.0.0.254, then the default route via the gateway
    routes = bytes([12, 172, 16, 10, 0, 0, 254, 0, 10, 0, 0, 1])
    assert opts[121] == routes and opts[249] == routes


def test_extra_options_replace_the_subnets() -> None:
    answer = dhcp.Answer(dhcp.ACK, "10.0.0.2", "02:dd:00:00:00:01", "10.0.0.11", mtu=1400,
                         extra=((26, struct.pack("!H", 9000)), (42, bytes([10, 0, 0, 9]))))
    received = dhcpwire.parse(client_frame(dhcp.REQUEST))
    assert received is not None
    _, _, _, opts = read_reply(dhcpwire.build(answer, received))
    assert opts[26] == struct.pack("!H", 9000) and opts[42] == bytes([10, 0, 0, 9])


def test_nak_and_broadcast_replies_are_broadcast() -> None:
    nak = dhcp.Answer(dhcp.NAK, "10.0.0.2", "02:dd:00:00:00:01")
    received = dhcpwire.parse(client_frame(dhcp.REQUEST))
    assert received is not None
    eth, ip, msg, opts = read_reply(dhcpwire.build(nak, received))
    assert (eth.dst, ip.dst, msg.yiaddr) == ("ff:ff:ff:ff:ff:ff", "255.255.255.255",
                                             "0.0.0.0")
    assert set(opts) == {53, 54}
    answer = dhcp.answer(DictView(objects()), "br", dhcp.Request(dhcp.DISCOVER, VM))
    flagged = dhcpwire.parse(client_frame(dhcp.DISCOVER, flags=0x8000))
    assert answer is not None and flagged is not None
    eth, ip, _, _ = read_reply(dhcpwire.build(answer, flagged))
    assert (eth.dst, ip.dst) == ("ff:ff:ff:ff:ff:ff", "255.255.255.255")


# -- the feature -----------------------------------------------------------------------------

def test_discover_is_answered_on_the_port_it_came_from() -> None:
    out = ask(service(), client_frame(dhcp.DISCOVER))
    assert out is not None and len(out) == 1
    assert isinstance(out[0], PacketOut) and out[0].actions == (output(OFPORT),)
    _, _, msg, opts = read_reply(out[0].data)
    assert msg.yiaddr == "10.0.0.11" and opts[53] == bytes([dhcp.OFFER])


def test_renewal_unicast_to_the_server_is_acked() -> None:
    out = ask(service(), client_frame(dhcp.REQUEST, src="10.0.0.11", dst="10.0.0.2",
                                      ciaddr="10.0.0.11"))
    assert out is not None and isinstance(out[0], PacketOut)
    _, ip, msg, opts = read_reply(out[0].data)
    assert opts[53] == bytes([dhcp.ACK]) and ip.dst == "10.0.0.11"


def test_unknown_mac_and_disabled_subnet_are_claimed_without_an_answer() -> None:
    assert ask(service(), client_frame(dhcp.DISCOVER, STRANGER)) == []
    # a bridge with no enabled subnet: simulated like any packet (the tenant's own server)
    assert ask(service(enabled=False), client_frame(dhcp.DISCOVER)) is None
    assert ask(service(), client_frame(dhcp.DISCOVER), port_id="other") is None
    assert ask(service(), client_frame(dhcp.RELEASE, ciaddr="10.0.0.11")) == []


def test_each_port_sends_its_dhcp_to_the_agent_only() -> None:
    feature = service()
    switch = FakeSwitch()
    limit = tr.MissLimit(100, 10)
    switch.apply([*tr.base_flows([]), *tr.port_flows(OFPORT, KEY, limit),
                  *feature.port_flows("vm", OFPORT, True)])
    dhcp_headers = {"in_port": OFPORT, "eth_src": VM, "eth_dst": "ff:ff:ff:ff:ff:ff",
                    "eth_type": 0x0800, "ip_proto": 17, "ipv4_src": "0.0.0.0",
                    "ipv4_dst": "255.255.255.255", "udp_src": 68, "udp_dst": 67}
    flood = FlowSpec(1, 100, {"in_port": OFPORT, "eth_dst": "ff:ff:ff:ff:ff:ff"},
                        (output(9),))  # a broadcast flood built from a simulation
    switch.apply([flood])
    out = switch.process(dhcp_headers)
    assert out.to_controller and out.meters == [KEY] and not out.outputs
    assert out.flows_hit[-1].cookie == dhcpwire.punt_flow(OFPORT, KEY, True).cookie
    assert feature.port_flows("vm", OFPORT, False) == [dhcpwire.punt_delete(KEY)]
    switch.apply([dhcpwire.punt_delete(KEY)])
    assert switch.process(dhcp_headers).outputs  # the flood's, once the port is unplugged


def test_without_miss_meters_the_flow_has_none() -> None:
    flows = service(metered=False).port_flows("vm", OFPORT, True)
    assert flows == [dhcpwire.punt_flow(OFPORT, KEY, False)]
    assert all(a.kind != "meter" for a in dhcpwire.punt_flow(OFPORT, KEY, False).actions)


def test_the_app_registers_its_feature_with_the_agent() -> None:
    app = DhcpApp()
    try:
        assert app.feature in features.REGISTRY.features
        assert isinstance(app.feature, features.Feature)
    finally:
        features.REGISTRY.features.remove(app.feature)
