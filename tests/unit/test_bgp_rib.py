"""Sessions and learned routes read from bgpd's JSON (FRR 8.4's shapes)."""

from __future__ import annotations

import json

from ryu_midonet.bgp import rib

SUMMARY = json.dumps({"ipv4Unicast": {"routerId": "198.51.100.2", "as": 64512, "peers": {
    "198.51.100.1": {"remoteAs": 64513, "pfxRcd": 1, "state": "Established"},
    "198.51.100.3": {"remoteAs": 64514, "state": "Active"}}}})

ROUTES = json.dumps({"routerId": "198.51.100.2", "routes": {
    "192.0.2.0/24": [{"valid": True, "bestpath": True, "peerId": "(unspec)",
                      "nexthops": [{"ip": "0.0.0.0", "used": True}]}],
    "203.0.113.0/24": [{"valid": True, "bestpath": True, "peerId": "198.51.100.1",
                        "nexthops": [{"ip": "198.51.100.1", "used": True}]}],
    "198.18.0.0/15": [{"valid": True, "peerId": "198.51.100.3",
                       "nexthops": [{"ip": "198.51.100.3"}]}]}})


def test_sessions_give_each_peers_state_and_prefix_count() -> None:
    assert rib.sessions(SUMMARY) == {
        "198.51.100.1": rib.Session("Established", 1),
        "198.51.100.3": rib.Session("Active", 0)}


def test_learned_routes_are_the_best_paths_from_peers() -> None:
    assert rib.learned(ROUTES) == [rib.Learned("203.0.113.0/24", "198.51.100.1")]


def test_unexpected_text_gives_nothing() -> None:
    for text in ("", "% bgpd is not running", "[]", '{"routes": {"x": [1]}}',
                 '{"ipv4Unicast": {"peers": {"a": 3}}}', '{"routes": {"10.0.0.0/8": "x"}}'):
        assert rib.sessions(text) == {}
        assert rib.learned(text) == []
