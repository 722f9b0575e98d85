"""BGP configuration of routers through the REST API (a real API process, real Redis).

What a client sees: the router's ``asNumber`` and its ``bgpPeers`` and ``bgpNetworks`` links,
peers and networks by id through the root's templates; bad input answers 400 naming the field
and writes nothing; the MD5 password is stored but no reply carries it; the readonly role may
read but not write; deleting a router takes its peers and networks with it; a peer needs the
router's AS number; the port through which a peer is reached stays while the peer exists.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
import redis
from rest_call import call, ok

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from tests.support import credentials

pytestmark = pytest.mark.integration

VND = "application/vnd.org.midonet."
SECRET = "s3cret-md5-key"


def edge_router(api_url: str) -> dict[str, Any]:
    """A router with uplink ports on 198.51.100.0/30 and 203.0.113.0/30, AS 64512."""
    router = ok("POST", api_url + "/routers", {"name": "edge", "asNumber": 64512}, 201)
    for addr in ("198.51.100.2", "203.0.113.2"):
        ok("POST", router["ports"], {"portAddress": addr, "networkLength": 30}, 201)
    return dict(router)


def templates(api_url: str) -> tuple[str, str]:
    root = ok("GET", api_url + "/")
    return root["bgpPeerTemplate"], root["bgpNetworkTemplate"]


def test_peers_and_networks_round_trip(api_url: str, redis_url: str) -> None:
    router = edge_router(api_url)
    assert router["asNumber"] == 64512
    assert router["bgpPeers"] == router["uri"] + "/bgp_peers"
    assert router["bgpNetworks"] == router["uri"] + "/bgp_networks"
    peer_tmpl, net_tmpl = templates(api_url)

    peer = ok("POST", router["bgpPeers"], {"asNumber": 64513, "address": "198.51.100.1",
                                           "password": SECRET}, 201)
    assert peer["uri"] == peer_tmpl.replace("{id}", peer["id"])
    assert peer["router"] == router["uri"] and peer["routerId"] == router["id"]
    assert {k: peer[k] for k in ("asNumber", "address", "keepAlive", "holdTime",
                                 "connectRetry")} == {
        "asNumber": 64513, "address": "198.51.100.1", "keepAlive": None, "holdTime": None,
        "connectRetry": None}
    assert "password" not in peer
    other = ok("POST", router["bgpPeers"], {"asNumber": 64514, "address": "203.0.113.1"}, 201)
    assert ok("GET", router["bgpPeers"]) == [peer, other]

    # a client writes back what it read: timers change, the password stays
    changed = ok("PUT", peer["uri"], {**peer, "keepAlive": 5, "holdTime": 5,
                                      "connectRetry": 10})
    assert (changed["keepAlive"], changed["holdTime"], changed["connectRetry"]) == (5, 5, 10)
    assert ok("GET", peer["uri"]) == changed
    store = Topology(Store.from_url(redis_url))
    assert store.get("bgpPeer", peer["id"])["password"] == SECRET
    ok("PUT", peer["uri"], {"password": None})
    assert store.get("bgpPeer", peer["id"])["password"] is None

    net = ok("POST", router["bgpNetworks"], {"subnetAddress": "192.0.2.0",
                                             "subnetLength": 24}, 201)
    assert net["uri"] == net_tmpl.replace("{id}", net["id"])
    assert (net["subnetAddress"], net["subnetLength"], net["router"]) == \
        ("192.0.2.0", 24, router["uri"])
    assert ok("GET", router["bgpNetworks"]) == [net]
    moved = ok("PUT", net["uri"], {**net, "subnetAddress": "192.0.2.128", "subnetLength": 25})
    assert ok("GET", net["uri"]) == moved

    ok("DELETE", other["uri"], status=204)
    assert call("GET", other["uri"])[0] == 404
    assert ok("GET", router["bgpPeers"]) == [ok("GET", peer["uri"])]
    ok("DELETE", net["uri"], status=204)
    assert ok("GET", router["bgpNetworks"]) == []
    ok("DELETE", peer["uri"], status=204)
    assert ok("PUT", router["uri"], {**router, "asNumber": 0})["asNumber"] == 0


def test_bad_input_names_the_field_and_writes_nothing(api_url: str) -> None:
    router = edge_router(api_url)
    peer = ok("POST", router["bgpPeers"], {"asNumber": 64513, "address": "198.51.100.1"}, 201)
    net = ok("POST", router["bgpNetworks"], {"subnetAddress": "192.0.2.0",
                                             "subnetLength": 24}, 201)
    peers, nets = router["bgpPeers"], router["bgpNetworks"]
    good = {"asNumber": 64514, "address": "203.0.113.1"}
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", peers, {**good, "asNumber": 0}, "asNumber"),
        ("POST", peers, {**good, "asNumber": 4294967296}, "asNumber"),
        ("POST", peers, {"address": "203.0.113.1"}, "asNumber"),
        ("POST", peers, {**good, "address": "203.0.113"}, "address"),
        ("POST", peers, {**good, "address": "192.0.2.1"}, "address"),  # behind no port
        ("POST", peers, {**good, "address": "203.0.113.2"}, "address"),  # the router's own
        ("POST", peers, {**good, "address": "198.51.100.1"}, "address"),  # taken
        ("POST", peers, {**good, "keepAlive": 0}, "keepAlive"),
        ("POST", peers, {**good, "connectRetry": 0}, "connectRetry"),
        ("POST", peers, {**good, "holdTime": 2}, "holdTime"),
        ("POST", peers, {**good, "holdTime": -1}, "holdTime"),
        ("POST", peers, {**good, "holdTime": 65536}, "holdTime"),
        ("POST", peers, {**good, "holdTime": 9, "keepAlive": 10}, "keepAlive"),
        ("POST", peers, {**good, "password": "x" * 81}, "password"),
        ("PUT", peer["uri"], {**peer, "address": "203.0.113.9"}, "address"),
        ("PUT", peer["uri"], {**peer, "holdTime": 1}, "holdTime"),
        ("POST", nets, {"subnetAddress": "192.0.2.5", "subnetLength": 24}, "subnetAddress"),
        ("POST", nets, {"subnetAddress": "192.0.2.0", "subnetLength": 24}, "subnetAddress"),
        ("POST", nets, {"subnetAddress": "10.0.0.0", "subnetLength": 33}, "subnetLength"),
        ("POST", nets, {"subnetAddress": "10.0.0", "subnetLength": 8}, "subnetAddress"),
        ("PUT", router["uri"], {**router, "asNumber": 4294967296}, "asNumber"),
        ("PUT", router["uri"], {**router, "asNumber": -1}, "asNumber"),
        ("PUT", router["uri"], {**router, "asNumber": 0}, "asNumber"),  # it has a peer
    ]
    for method, url, body, field in cases:
        status, error = call(method, url, body)
        assert status == 400, (method, body, error)
        assert [v["property"] for v in error["violations"]] == [field], (body, error)
        assert "password" not in json.dumps(error) or field == "password"
        assert SECRET not in json.dumps(error)
    assert ok("GET", peers) == [peer]
    assert ok("GET", nets) == [net]
    assert ok("GET", router["uri"])["asNumber"] == 64512
    status, error = call("POST", peers, {**good, "address": "192.0.2.1"})
    assert "peer address must be reachable through one of the router's port subnets" in \
        error["violations"][0]["message"]


def test_a_peer_needs_the_routers_as_number(api_url: str) -> None:
    router = ok("POST", api_url + "/routers", {"name": "no-as"}, 201)
    ok("POST", router["ports"], {"portAddress": "198.51.100.2", "networkLength": 30}, 201)
    status, error = call("POST", router["bgpPeers"], {"asNumber": 64513,
                                                      "address": "198.51.100.1"})
    assert status == 400 and [v["property"] for v in error["violations"]] == ["asNumber"], error
    assert "router's asNumber" in error["violations"][0]["message"]
    assert ok("GET", router["bgpPeers"]) == []


def test_a_port_that_reaches_a_peer_stays_until_the_peer_goes(api_url: str) -> None:
    """Deleting, or moving to another subnet, the router port through which a BGP peer is
    reached answers 409 naming the peer; within its subnet it may move."""
    router = edge_router(api_url)
    peer = ok("POST", router["bgpPeers"], {"asNumber": 64513, "address": "198.51.100.1"}, 201)
    [port] = [p for p in ok("GET", router["ports"]) if p["portAddress"] == "198.51.100.2"]
    for method, body in [("DELETE", None),
                         ("PUT", {**port, "portAddress": "192.0.2.2", "networkAddress": None}),
                         ("PUT", {**port, "networkLength": 31, "networkAddress": None}),
                         ("PUT", {**port, "portAddress": "198.51.100.1"})]:
        status, error = call(method, port["uri"], body)
        assert status == 409 and peer["id"] in json.dumps(error), (method, body, error)
    assert ok("GET", port["uri"]) == port
    moved = ok("PUT", port["uri"], {**port, "portAddress": "198.51.100.3"})
    assert moved["portAddress"] == "198.51.100.3"
    ok("DELETE", peer["uri"], status=204)
    ok("DELETE", port["uri"], status=204)


def test_peers_and_networks_go_with_their_router(api_url: str, redis_url: str) -> None:
    router = edge_router(api_url)
    peer = ok("POST", router["bgpPeers"], {"asNumber": 64513, "address": "198.51.100.1"}, 201)
    net = ok("POST", router["bgpNetworks"], {"subnetAddress": "192.0.2.0",
                                             "subnetLength": 24}, 201)
    ok("DELETE", router["uri"], status=204)
    for url in (router["bgpPeers"], router["bgpNetworks"], peer["uri"], net["uri"]):
        assert call("GET", url)[0] == 404, url
    client = redis.Redis.from_url(redis_url)
    try:
        assert not list(client.scan_iter(match="{mn}:obj:bgp*"))
    finally:
        client.close()


def test_readonly_role_reads_but_may_not_write(api_url: str, redis_url: str) -> None:
    router = edge_router(api_url)
    peer = ok("POST", router["bgpPeers"], {"asNumber": 64513, "address": "198.51.100.1",
                                           "password": SECRET}, 201)
    net = ok("POST", router["bgpNetworks"], {"subnetAddress": "192.0.2.0",
                                             "subnetLength": 24}, 201)
    send = credentials.readonly_sender(api_url, redis_url, "bgp-viewer")

    for url in (router["bgpPeers"], peer["uri"], router["bgpNetworks"], net["uri"]):
        status, raw = send("GET", url)
        assert status == 200 and SECRET.encode() not in raw, url
    for method, url, body in [
            ("POST", router["bgpPeers"], {"asNumber": 64514, "address": "203.0.113.1"}),
            ("PUT", peer["uri"], {**peer, "password": "other"}),
            ("DELETE", peer["uri"], None),
            ("POST", router["bgpNetworks"], {"subnetAddress": "10.0.0.0", "subnetLength": 8}),
            ("PUT", net["uri"], net), ("DELETE", net["uri"], None),
            ("PUT", router["uri"], {**router, "asNumber": 65000})]:
        assert send(method, url, body)[0] == 403, (method, url)
    assert ok("GET", router["bgpPeers"]) == [peer]
    assert ok("GET", router["uri"])["asNumber"] == 64512


def test_media_types(api_url: str) -> None:
    router = edge_router(api_url)
    peer = ok("POST", router["bgpPeers"], {"asNumber": 64513, "address": "198.51.100.1"}, 201)
    net = ok("POST", router["bgpNetworks"], {"subnetAddress": "192.0.2.0",
                                             "subnetLength": 24}, 201)
    for url, media in [(peer["uri"], "BgpPeer-v1+json"),
                       (router["bgpPeers"], "collection.BgpPeer-v1+json"),
                       (net["uri"], "BgpNetwork-v1+json"),
                       (router["bgpNetworks"], "collection.BgpNetwork-v1+json")]:
        with urllib.request.urlopen(url, timeout=15) as resp:
            assert resp.headers["Content-Type"] == VND + media
