"""DHCP subnets and hosts of bridges through the REST API (a real API process, real Redis).

What a client sees: the bridge's ``dhcpSubnets`` link, subnets named ``prefix_length`` and hosts
named by MAC; bad input answers 400 naming the field and writes nothing; the readonly role may
read but not write; deleting a subnet or its bridge takes the hosts with it.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest
import redis
from rest_call import call, ok

from tests.support import credentials

pytestmark = pytest.mark.integration

VND = "application/vnd.org.midonet."
MAC1, MAC2 = "aa:bb:cc:00:00:01", "aa:bb:cc:00:00:02"


def bridge_with_subnet(api_url: str, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    bridge = ok("POST", api_url + "/bridges", {"name": "net"}, 201)
    subnet = ok("POST", bridge["dhcpSubnets"],
                {"subnetPrefix": "10.0.0.0", "subnetLength": 24, **fields}, 201)
    return bridge, subnet


def test_subnets_and_hosts_round_trip(api_url: str) -> None:
    bridge, subnet = bridge_with_subnet(
        api_url, defaultGateway="10.0.0.1", dnsServerAddrs=["8.8.8.8", "8.8.4.4"],
        interfaceMTU=1450, opt121Routes=[{"destinationPrefix": "169.254.169.254",
                                          "destinationLength": 32, "gatewayAddr": "10.0.0.2"}])
    uri = f"{api_url}/bridges/{bridge['id']}/dhcp/10.0.0.0_24"
    assert subnet["uri"] == uri and subnet["hosts"] == uri + "/hosts"
    assert {k: subnet[k] for k in ("subnetPrefix", "subnetLength", "defaultGateway",
                                   "serverAddr", "dnsServerAddrs", "interfaceMTU", "enabled")} \
        == {"subnetPrefix": "10.0.0.0", "subnetLength": 24, "defaultGateway": "10.0.0.1",
            "serverAddr": "10.0.0.1", "dnsServerAddrs": ["8.8.8.8", "8.8.4.4"],
            "interfaceMTU": 1450, "enabled": True}
    assert subnet["opt121Routes"] == [{"destinationPrefix": "169.254.169.254",
                                       "destinationLength": 32, "gatewayAddr": "10.0.0.2"}]
    assert ok("GET", bridge["dhcpSubnets"]) == [subnet]

    host = ok("POST", subnet["hosts"], {"macAddr": MAC1.upper(), "ipAddr": "10.0.0.5",
                                        "name": "vm1"}, 201)
    assert host["uri"] == f"{uri}/hosts/{MAC1}" and host["macAddr"] == MAC1
    assert ok("GET", f"{uri}/hosts/{MAC1.upper()}") == host  # any case names it
    ok("PUT", host["uri"], {**host, "ipAddr": "10.0.0.6",
                            "extraDhcpOpts": [{"optName": "42", "optValue": "10.0.0.9"}]})
    assert ok("GET", host["uri"])["ipAddr"] == "10.0.0.6"
    assert ok("GET", host["uri"])["extraDhcpOpts"] == [{"optName": "42",
                                                          "optValue": "10.0.0.9"}]

    ok("PUT", uri, {**subnet, "enabled": False, "interfaceMTU": None, "serverAddr": "10.0.0.3"})
    changed = ok("GET", uri)
    assert (changed["enabled"], changed["interfaceMTU"], changed["serverAddr"]) == \
        (False, None, "10.0.0.3")

    ok("DELETE", host["uri"], status=204)
    assert ok("GET", subnet["hosts"]) == []
    moved = ok("PUT", uri, {**changed, "subnetPrefix": "10.0.1.0", "serverAddr": None})
    assert (moved["uri"], moved["serverAddr"]) == (f"{uri[:-len('10.0.0.0_24')]}10.0.1.0_24",
                                                   "10.0.1.1")
    uri = moved["uri"]
    subnet = moved
    assert call("GET", host["uri"])[0] == 404
    ok("POST", subnet["hosts"], {"macAddr": MAC2, "ipAddr": "10.0.1.7"}, 201)
    ok("DELETE", uri, status=204)
    assert ok("GET", bridge["dhcpSubnets"]) == []
    assert call("GET", subnet["hosts"])[0] == 404


def test_bad_input_names_the_field_and_writes_nothing(api_url: str) -> None:
    bridge, subnet = bridge_with_subnet(api_url)
    ok("POST", subnet["hosts"], {"macAddr": MAC1, "ipAddr": "10.0.0.5"}, 201)
    subnets = bridge["dhcpSubnets"]
    cases = [
        (subnet["hosts"], {"macAddr": MAC2, "ipAddr": "10.0.1.5"}, "ipAddr"),
        (subnet["hosts"], {"macAddr": "aa:bb:cc:00:01", "ipAddr": "10.0.0.8"}, "macAddr"),
        (subnet["hosts"], {"macAddr": MAC1, "ipAddr": "10.0.0.9"}, "macAddr"),
        (subnets, {"subnetPrefix": "10.0.0.128", "subnetLength": 25}, "subnetPrefix"),
        (subnets, {"subnetPrefix": "10.0.0.0", "subnetLength": 24}, "subnetPrefix"),
        (subnets, {"subnetPrefix": "10.1.0", "subnetLength": 24}, "subnetPrefix"),
        (subnets, {"subnetPrefix": "10.1.0.0", "subnetLength": 33}, "subnetLength"),
        (subnets, {"subnetPrefix": "10.1.0.0", "subnetLength": 24, "opt121Routes": [
            {"destinationPrefix": "10.9.0", "destinationLength": 16,
             "gatewayAddr": "10.1.0.1"}]}, "opt121Routes.destinationPrefix"),
        (subnets, {"subnetPrefix": "10.1.0.0", "subnetLength": 24, "opt121Routes": [
            {"destinationPrefix": "10.9.0.0", "destinationLength": 16,
             "gatewayAddr": "gateway"}]}, "opt121Routes.gatewayAddr"),
        (subnets, {"subnetPrefix": "10.1.0.0", "subnetLength": 24, "interfaceMTU": 67},
         "interfaceMTU"),
        (subnets, {"subnetPrefix": "10.1.0.0", "subnetLength": 24, "interfaceMTU": 65536},
         "interfaceMTU"),
        (subnets, {"subnetPrefix": "10.1.0.0", "subnetLength": 24,
                   "dnsServerAddrs": ["8.8.8"]}, "dnsServerAddrs"),
    ]
    for url, body, field in cases:
        status, error = call("POST", url, body)
        assert status == 400, (body, error)
        assert [v["property"] for v in error["violations"]] == [field], (body, error)
    # a change that would leave a host outside its subnet is refused too
    status, error = call("PUT", subnet["uri"], {**subnet, "subnetLength": 30})
    assert (status, error["violations"][0]["property"]) == (400, "subnetLength")
    assert ok("GET", subnets) == [subnet]
    assert [h["macAddr"] for h in ok("GET", subnet["hosts"])] == [MAC1]


def test_subnets_go_with_their_bridge(api_url: str, redis_url: str) -> None:
    bridge, subnet = bridge_with_subnet(api_url)
    ok("POST", subnet["hosts"], {"macAddr": MAC1, "ipAddr": "10.0.0.5"}, 201)
    ok("DELETE", bridge["uri"], status=204)
    assert call("GET", bridge["dhcpSubnets"])[0] == 404
    client = redis.Redis.from_url(redis_url)
    try:
        assert not list(client.scan_iter(match="{mn}:obj:dhcp*"))
    finally:
        client.close()


def test_readonly_role_reads_but_may_not_write(api_url: str, redis_url: str) -> None:
    bridge, subnet = bridge_with_subnet(api_url)
    host = ok("POST", subnet["hosts"], {"macAddr": MAC1, "ipAddr": "10.0.0.5"}, 201)
    sender = credentials.readonly_sender(api_url, redis_url, "dhcp-viewer")

    def send(method: str, url: str, body: Any = None) -> int:
        return sender(method, url, body)[0]

    assert send("GET", bridge["dhcpSubnets"]) == 200
    assert send("GET", host["uri"]) == 200
    for method, url, body in [
            ("POST", bridge["dhcpSubnets"], {"subnetPrefix": "10.1.0.0", "subnetLength": 24}),
            ("PUT", subnet["uri"], subnet), ("DELETE", subnet["uri"], None),
            ("POST", subnet["hosts"], {"macAddr": MAC2, "ipAddr": "10.0.0.6"}),
            ("PUT", host["uri"], host), ("DELETE", host["uri"], None)]:
        assert send(method, url, body) == 403, (method, url)
    assert ok("GET", subnet["hosts"]) == [host]


def test_media_types(api_url: str) -> None:
    bridge, subnet = bridge_with_subnet(api_url)
    for url, media in [(subnet["uri"], "DhcpSubnet-v2+json"),
                       (bridge["dhcpSubnets"], "collection.DhcpSubnet-v2+json"),
                       (subnet["hosts"], "collection.DhcpHost-v2+json")]:
        with urllib.request.urlopen(url, timeout=15) as resp:
            assert resp.headers["Content-Type"] == VND + media


def test_the_default_server_address_follows_a_moved_subnet(api_url: str) -> None:
    _, subnet = bridge_with_subnet(api_url)
    assert subnet["serverAddr"] == "10.0.0.1"
    moved = ok("PUT", subnet["uri"], {**subnet, "subnetPrefix": "10.5.0.0", "subnetLength": 16})
    assert moved["serverAddr"] == "10.5.0.1"
    kept = ok("PUT", moved["uri"], {**moved, "serverAddr": "10.5.0.9"})
    assert ok("PUT", kept["uri"], {**kept, "subnetLength": 24})["serverAddr"] == "10.5.0.9"
