"""midonet-cli's BGP commands: the Operations Guide's "BGP Uplink Configuration", as written.

The installed console script against a real API process on a real redis-server. The guide's
first steps are lost; they set the router's AS number and add the first peer. Its timer
listing wraps each peer over two lines; a peer prints on one.
"""

from __future__ import annotations

from typing import Any

import pytest
from cli_guide_helpers import Cli, Seed

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology

pytestmark = pytest.mark.integration


def edge_router(seed: Seed) -> dict[str, Any]:
    router = seed.router("Edge Router")
    seed.router_port(router, "198.51.100.2/30")
    seed.router_port(router, "203.0.113.2/30")
    return router


def test_the_guide_bgp_uplink_configuration(cli: Cli, seed: Seed, redis_url: str) -> None:
    router = edge_router(seed)
    guide = [  # the guide, from its step 4 on, after the lost steps 1-3
        ("router router0 add bgp-peer asn 64514 address 203.0.113.1", ["router0:peer1"]),
        ("router router0 list bgp-peer", [
            "peer peer0 asn 64513 address 198.51.100.1",
            "peer peer1 asn 64514 address 203.0.113.1"]),
        ("router router0 bgp-peer peer0 set password BGP_PASSWORD", []),
        ("router router0 bgp-peer peer1 set password BGP_PASSWORD", []),
        ("router router0 bgp-peer peer0 set connect-retry 10", []),
        ("router router0 bgp-peer peer0 set hold-time 5", []),
        ("router router0 bgp-peer peer0 set keep-alive 5", []),
        ("router router0 bgp-peer peer1 set connect-retry 10", []),
        ("router router0 bgp-peer peer1 set hold-time 5", []),
        ("router router0 bgp-peer peer1 set keep-alive 5", []),
        ("router router0 list bgp-peer", [
            "peer peer0 asn 64513 address 198.51.100.1 keep-alive 5 hold-time 5 connect-retry 10",
            "peer peer1 asn 64514 address 203.0.113.1 keep-alive 5 hold-time 5 connect-retry 10"]),
        ("router router0 add bgp-network net 192.0.2.0/24", ["router0:net0"]),
        ("router router0 list bgp-network", ["net net0 net 192.0.2.0/24"]),
    ]
    lost = [
        ("router router0 set asn 64512", []),
        ("router router0 show", ["router router0 name Edge Router state up asn 64512"]),
        ("router router0 add bgp-peer asn 64513 address 198.51.100.1", ["router0:peer0"]),
    ]
    after = [  # the password was stored, and is never printed
        ("router router0 bgp-peer peer0 show password", []),
        ("router router0 bgp-peer peer1 show", [
            "peer peer1 asn 64514 address 203.0.113.1 keep-alive 5 hold-time 5 connect-retry 10"]),
        ("router router0 bgp-peer peer0 clear password keep-alive", []),
        ("router router0 bgp-peer peer0 show", [
            "peer peer0 asn 64513 address 198.51.100.1 hold-time 5 connect-retry 10"]),
        ("router router0 bgp-peer peer1 delete", []),
        ("router router0 delete bgp-network net0", []),
        ("router router0 list bgp-peer", [
            "peer peer0 asn 64513 address 198.51.100.1 hold-time 5 connect-retry 10"]),
        ("router router0 list bgp-network", []),
    ]
    steps = lost + guide
    outputs, err, rc = cli.session([command for command, _ in steps])
    assert (err, rc) == ("", 0)
    assert outputs == [out for _, out in steps]
    topo = Topology(Store.from_url(redis_url))
    peers = topo.list("bgpPeer", "routerId", router["id"])
    assert [p["password"] for p in peers] == ["BGP_PASSWORD", "BGP_PASSWORD"]

    outputs, err, rc = cli.session([command for command, _ in after])
    assert (err, rc) == ("", 0)
    assert outputs == [out for _, out in after]
    assert [p["password"] for p in topo.list("bgpPeer", "routerId", router["id"])] == [None]
    assert cli.ok("router router0 delete bgp-peer peer0") == []
    assert cli.ok("router router0 list bgp-peer") == []


def test_refused_input_names_the_attribute_and_writes_nothing(cli: Cli, seed: Seed) -> None:
    edge_router(seed)
    err = cli.fails("router router0 add bgp-peer asn 64513 address 198.51.100.1")
    assert "set the router's asNumber before adding BGP peers" in err
    assert cli.ok("router router0 set asn 64512") == []  # then the same peer is added
    assert cli.ok("router router0 add bgp-peer asn 64513 address 198.51.100.1") == [
        "router0:peer0"]
    assert cli.ok("router router0 add bgp-network net 192.0.2.0/24") == ["router0:net0"]
    err = cli.fails("router router0 add bgp-peer asn 64514 address 192.0.2.1")
    assert "peer address must be reachable through one of the router's port subnets" in err
    assert "(attribute address)" in err
    assert "(attribute address)" in cli.fails(
        "router router0 add bgp-peer asn 64515 address 198.51.100.1")
    assert "asn: 4294967296 is not between 1 and 4294967295" in cli.fails(
        "router router0 add bgp-peer asn 4294967296 address 203.0.113.1")
    assert "asn" in cli.fails("router router0 set asn 4294967296")
    assert "hold-time" in cli.fails("router router0 bgp-peer peer0 set hold-time 2")
    assert "keep-alive" in cli.fails("router router0 bgp-peer peer0 set hold-time 5 "
                                     "keep-alive 6")
    err = cli.fails("router router0 add bgp-network net 192.0.2.5/24")
    assert "host bits" in err and "(attribute net)" in err
    assert "already advertises" in cli.fails("router router0 add bgp-network net 192.0.2.0/24")
    assert cli.ok("router router0 list bgp-peer") == ["peer peer0 asn 64513 address 198.51.100.1"]
    assert cli.ok("router router0 list bgp-network") == ["net net0 net 192.0.2.0/24"]
    assert cli.ok("router router0 show") == [
        "router router0 name Edge Router state up asn 64512"]
