"""FRR configuration from the topology, and the commands that change a running bgpd."""

from __future__ import annotations

from ryu_midonet.bgp import config
from ryu_midonet.bgp.config import Peer, Speaker

ROUTER = {"id": "r1", "asNumber": 64512}
UPLINK = {"id": "p1", "portAddress": "198.51.100.2", "networkLength": 24}
INSIDE = {"id": "p2", "portAddress": "10.0.0.1", "networkLength": 24}
PEER = {"id": "b1", "address": "198.51.100.1", "asNumber": 64513, "keepAlive": 5,
        "holdTime": 5, "connectRetry": 10, "password": "BGP_PASSWORD"}
NET = {"id": "n1", "subnetAddress": "192.0.2.0", "subnetLength": 24}


def test_the_guides_router_renders_its_peer_timers_password_and_network() -> None:
    spk = config.speaker(ROUTER, UPLINK, [PEER], [NET])
    assert spk is not None
    text = config.render(spk)
    assert "router bgp 64512\n bgp router-id 198.51.100.2\n" in text
    for line in (" neighbor 198.51.100.1 remote-as 64513",
                 " neighbor 198.51.100.1 timers 5 5",
                 " neighbor 198.51.100.1 timers connect 10",
                 " neighbor 198.51.100.1 password BGP_PASSWORD",
                 "  network 192.0.2.0/24"):
        assert line + "\n" in text


def test_a_port_speaks_only_to_the_peers_its_subnet_holds() -> None:
    assert config.speaker(ROUTER, INSIDE, [PEER], [NET]) is None
    inside_peer = {**PEER, "id": "b2", "address": "10.0.0.9"}
    spk = config.speaker(ROUTER, UPLINK, [PEER, inside_peer], [NET])
    assert spk is not None and [p.address for p in spk.peers] == ["198.51.100.1"]


def test_no_speaker_without_an_as_number_or_an_address() -> None:
    assert config.speaker({**ROUTER, "asNumber": 0}, UPLINK, [PEER], [NET]) is None
    assert config.speaker(ROUTER, {**UPLINK, "portAddress": None}, [PEER], [NET]) is None


def test_a_password_that_could_break_the_file_leaves_its_peer_out() -> None:
    for bad in ("two words", "line\nrouter bgp 1", "é"):
        assert config.speaker(ROUTER, UPLINK, [{**PEER, "password": bad}], [NET]) is None


def test_unset_timers_are_frrs_defaults_and_one_timer_sets_both() -> None:
    assert not any("timers" in line for line in Peer("1.1.1.1", 1).lines())
    assert "neighbor 1.1.1.1 timers 10 30" in Peer("1.1.1.1", 1, hold=30).lines()
    assert "neighbor 1.1.1.1 timers 0 0" in Peer("1.1.1.1", 1, keepalive=5, hold=0).lines()
    assert "neighbor 1.1.1.1 timers 20 180" in Peer("1.1.1.1", 1, keepalive=20).lines()


def _spk(*peers: Peer, nets: tuple[str, ...] = ("192.0.2.0/24",)) -> Speaker:
    return Speaker("p1", 64512, "198.51.100.2", peers, nets)


def test_changes_touch_only_what_differs() -> None:
    a, b = Peer("198.51.100.1", 64513), Peer("198.51.100.3", 64514)
    assert config.changes(_spk(a), _spk(a)) == []
    assert config.changes(_spk(a), _spk(a, b)) == [
        "configure terminal", "router bgp 64512", "neighbor 198.51.100.3 remote-as 64514", "end"]
    assert config.changes(_spk(a, b), _spk(b)) == [
        "configure terminal", "router bgp 64512", "no neighbor 198.51.100.1", "end"]
    assert config.changes(_spk(a), _spk(a, nets=("203.0.113.0/24",))) == [
        "configure terminal", "router bgp 64512", "address-family ipv4 unicast",
        "no network 192.0.2.0/24", "network 203.0.113.0/24", "exit-address-family", "end"]


def test_a_peers_changed_settings_are_set_or_cleared_in_place() -> None:
    a = Peer("198.51.100.1", 64513)
    changed = Peer("198.51.100.1", 64513, 5, 15, 10, "pw")
    body = config.changes(_spk(a), _spk(changed))
    assert body is not None and body[2:-1] == [
        "neighbor 198.51.100.1 timers 5 15", "neighbor 198.51.100.1 timers connect 10",
        "neighbor 198.51.100.1 password pw"]
    back = config.changes(_spk(changed), _spk(a))
    assert back is not None and back[2:-1] == [
        "no neighbor 198.51.100.1 timers", "no neighbor 198.51.100.1 timers connect",
        "no neighbor 198.51.100.1 password"]
    other_as = config.changes(_spk(a), _spk(Peer("198.51.100.1", 65000)))
    assert other_as is not None and other_as[2:-1] == [
        "no neighbor 198.51.100.1", "neighbor 198.51.100.1 remote-as 65000"]


def test_a_new_as_or_router_id_restarts_bgpd() -> None:
    a = Peer("198.51.100.1", 64513)
    assert config.changes(_spk(a), Speaker("p1", 64999, "198.51.100.2", (a,))) is None
    assert config.changes(_spk(a), Speaker("p1", 64512, "198.51.100.9", (a,))) is None
