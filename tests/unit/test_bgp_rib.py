"""Sessions and learned routes read from bgpd's JSON (FRR 8.4's shapes)."""

from __future__ import annotations

import json
from collections.abc import Sequence

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


def test_the_reader_asks_for_the_routes_only_when_the_table_version_moved() -> None:
    def summary(version: int) -> str:
        return json.dumps({"ipv4Unicast": {"tableVersion": version, "peers": {
            "198.51.100.1": {"state": "Established", "pfxRcd": 1}}}})

    routes = json.dumps({"routes": {"203.0.113.0/24": [
        {"valid": True, "bestpath": True, "peerId": "198.51.100.1"}]}})
    asked: list[str] = []
    answers = {"show bgp summary json": summary(7), "show ip bgp json": routes}

    def vtysh(commands: Sequence[str]) -> str | None:
        asked.append(commands[0])
        return answers[commands[0]]

    reader = rib.Reader()
    want = [rib.Learned("203.0.113.0/24", "198.51.100.1")]
    for _ in range(3):
        assert reader.read(vtysh, 1)[1] == want
    assert asked.count("show ip bgp json") == 1
    reader.read(vtysh, 2)  # another bgpd: read again
    answers["show bgp summary json"] = summary(8)
    answers["show ip bgp json"] = json.dumps({"routes": {}})
    sessions, learned = reader.read(vtysh, 2)
    assert learned == [] and sessions["198.51.100.1"].state == rib.ESTABLISHED
    assert asked.count("show ip bgp json") == 3
    for _ in range(rib.REFRESH + 1):  # and now and then anyway
        reader.read(vtysh, 2)
    assert asked.count("show ip bgp json") == 4
    answers["show ip bgp json"] = "% Unknown command"  # not kept: asked again next time
    answers["show bgp summary json"] = summary(9)
    assert reader.read(vtysh, 2)[1] == [] and reader.read(vtysh, 2)[1] == []
    assert asked.count("show ip bgp json") == 6
    assert rib.table_version("not json") is None
