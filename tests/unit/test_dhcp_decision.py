"""The DHCP server's decision: given a bridge's DHCP subnets and hosts, when a client asks,
then it gets this answer (or none)."""

from __future__ import annotations

from typing import Any

from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.devices import dhcp
from ryu_midonet.sim.devices.dhcp import Request, Route

VM, STRANGER = "02:00:00:00:00:01", "02:00:00:00:00:09"


def subnet(**fields: Any) -> dict[str, Any]:
    return {"id": "s1", "bridgeId": "br", "subnetPrefix": "10.0.0.0", "subnetLength": 24,
            "defaultGateway": "10.0.0.1", "serverAddr": "10.0.0.2",
            "dnsServerAddrs": ["10.0.0.53", "192.0.2.53"], "interfaceMTU": 1450,
            "opt121Routes": [{"destinationPrefix": "172.16.0.0", "destinationLength": 12,
                              "gatewayAddr": "10.0.0.254"}],
            "enabled": True, **fields}


def view(**subnet_fields: Any) -> DictView:
    return DictView({
        "bridge": {"br": {"id": "br"}},
        "dhcpSubnet": {"s1": subnet(**subnet_fields)},
        "dhcpHost": {"h1": {"id": "h1", "bridgeId": "br", "subnetId": "s1", "macAddr": VM,
                            "ipAddr": "10.0.0.11", "name": "vm1", "extraDhcpOpts": []}},
    })


def test_discover_gets_an_offer_with_every_option() -> None:
    answer = dhcp.answer(view(), "br", Request(dhcp.DISCOVER, VM.upper()))
    assert answer is not None
    assert answer.msg_type == dhcp.OFFER
    assert (answer.yiaddr, answer.netmask, answer.router) == ("10.0.0.11", "255.255.255.0",
                                                              "10.0.0.1")
    assert answer.dns == ("10.0.0.53", "192.0.2.53")
    assert answer.mtu == 1450
    # RFC 3442 clients ignore option 3 when option 121 is present: the default route is added
    assert answer.routes == (Route("172.16.0.0", 12, "10.0.0.254"), Route("0.0.0.0", 0,
                                                                          "10.0.0.1"))
    assert answer.lease_time == dhcp.LEASE_TIME
    assert answer.server_ip == "10.0.0.2"
    assert answer.host_name == "vm1"


def test_request_for_its_address_is_acked_and_for_another_nakked() -> None:
    v = view()
    ack = dhcp.answer(v, "br", Request(dhcp.REQUEST, VM, requested_ip="10.0.0.11",
                                       server_id="10.0.0.2"))
    assert ack is not None and ack.msg_type == dhcp.ACK and ack.yiaddr == "10.0.0.11"
    renew = dhcp.answer(v, "br", Request(dhcp.REQUEST, VM, ciaddr="10.0.0.11"))
    assert renew is not None and renew.msg_type == dhcp.ACK
    nak = dhcp.answer(v, "br", Request(dhcp.REQUEST, VM, requested_ip="10.0.0.99"))
    assert nak is not None and nak.msg_type == dhcp.NAK and nak.yiaddr == dhcp.ANY


def test_request_for_another_server_is_not_answered() -> None:
    assert dhcp.answer(view(), "br", Request(dhcp.REQUEST, VM, requested_ip="10.0.0.11",
                                             server_id="10.0.0.3")) is None


def test_unknown_mac_is_not_answered() -> None:
    assert dhcp.answer(view(), "br", Request(dhcp.DISCOVER, STRANGER)) is None


def test_disabled_subnet_is_not_answered() -> None:
    v = view(enabled=False)
    assert dhcp.answer(v, "br", Request(dhcp.DISCOVER, VM)) is None
    assert not dhcp.of_bridge(v, "br").serving


def test_other_bridge_is_not_answered() -> None:
    assert dhcp.answer(view(), "other", Request(dhcp.DISCOVER, VM)) is None


def test_release_and_decline_get_nothing_inform_gets_options_only() -> None:
    v = view()
    assert dhcp.answer(v, "br", Request(dhcp.RELEASE, VM, ciaddr="10.0.0.11")) is None
    assert dhcp.answer(v, "br", Request(dhcp.DECLINE, VM)) is None
    inform = dhcp.answer(v, "br", Request(dhcp.INFORM, VM, ciaddr="10.0.0.11"))
    assert inform is not None and inform.msg_type == dhcp.ACK
    assert inform.yiaddr == dhcp.ANY and inform.lease_time is None and inform.mtu == 1450


def test_server_defaults_to_the_first_address_and_a_router_port_lends_its_mac() -> None:
    v = view(serverAddr=None)
    answer = dhcp.answer(v, "br", Request(dhcp.DISCOVER, VM))
    assert answer is not None and answer.server_ip == "10.0.0.1"
    assert answer.server_mac.startswith("02:")  # locally administered, stable
    assert dhcp.of_bridge(v, "br").addresses["10.0.0.1"] == answer.server_mac
    objects: Any = v.objects()
    objects["port"] = {
        "bp": {"id": "bp", "type": "Bridge", "deviceId": "br", "peerId": "rp"},
        "rp": {"id": "rp", "type": "Router", "deviceId": "r", "peerId": "bp",
               "portAddress": "10.0.0.1", "networkLength": 24, "portMac": "02:AA:00:00:00:01"}}
    answer = dhcp.answer(DictView(objects), "br", Request(dhcp.DISCOVER, VM))
    assert answer is not None and answer.server_mac == "02:aa:00:00:00:01"


def test_bad_configuration_is_skipped_not_fatal() -> None:
    v = view(opt121Routes=[{"destinationPrefix": "nonsense"}, "x"], interfaceMTU=0,
             dnsServerAddrs=["not-an-ip"], defaultGateway=None)
    answer = dhcp.answer(v, "br", Request(dhcp.DISCOVER, VM))
    assert answer is not None
    assert (answer.routes, answer.mtu, answer.dns, answer.router) == ((), None, (), None)
    broken = DictView({"dhcpSubnet": {"s1": subnet(subnetPrefix="bad")},
                       "dhcpHost": view().objects()["dhcpHost"]})
    assert dhcp.answer(broken, "br", Request(dhcp.DISCOVER, VM)) is None


def test_extra_options_of_the_host_entry_are_encoded() -> None:
    v = view()
    host: Any = v.objects()["dhcpHost"]["h1"]
    host["extraDhcpOpts"] = [
        {"optName": "42", "optValue": "10.0.0.9, 10.0.0.10"},  # NTP servers: addresses
        {"optName": "domain-name", "optValue": "example.org"},  # text
        {"optName": "MTU", "optValue": "9000"},  # a number option by name
        {"optName": "53", "optValue": "2"},  # the server's own: left out
        {"optName": "no-such-option", "optValue": "x"},
        {"optName": "51", "optValue": "not a number"},
        "not an option",
    ]
    answer = dhcp.answer(v, "br", Request(dhcp.DISCOVER, VM))
    assert answer is not None
    assert answer.extra == ((42, bytes([10, 0, 0, 9, 10, 0, 0, 10])), (15, b"example.org"),
                            (26, (9000).to_bytes(2, "big")))


def test_bad_server_and_gateway_addresses_are_not_used() -> None:
    answer = dhcp.answer(view(serverAddr="bogus", defaultGateway="bogus", interfaceMTU=70000),
                         "br", Request(dhcp.DISCOVER, VM))
    assert answer is not None
    assert (answer.server_ip, answer.router, answer.mtu) == ("10.0.0.1", None, None)
