"""The flow-mod match built once per field gives the switch the same bytes, and its readers
the same fields, as os-ken's own ``OFPMatch(**fields)`` ordered after prerequisites."""

from __future__ import annotations

import random
from typing import Any

import pytest
from os_ken.ofproto import ofproto_v1_3_parser as parser

from ryu_midonet.datapath import ofmsgs

CASES: list[dict[str, Any]] = [
    {},
    {"in_port": 3},
    {"in_port": 1, "eth_src": "02:EE:00:00:00:01", "eth_dst": "02:aa:00:00:00:01",
     "eth_type": 0x0800, "ipv4_src": "10.0.0.2", "ipv4_dst": "10.0.1.100", "ip_proto": 17,
     "udp_src": 1024, "udp_dst": 5001, "ip_frag": (0, 3)},
    {"eth_type": 0x0800, "ip_frag": (1, 1), "in_port": 2, "nw_ttl": 1},
    {"eth_dst": ("01:00:00:00:00:00", "01:00:00:00:00:00"), "in_port": 4},
    {"eth_dst": ("03:ff:00:00:00:00", "01:00:00:00:00:00")},
    {"eth_type": 0x0800, "ipv4_dst": ("10.1.2.3", "255.255.255.0")},
    {"eth_type": 0x0800, "ipv4_dst": "10.1.2.0/24", "ipv4_src": "10.0.0.1/32"},
    {"eth_type": 0x0806, "arp_op": 1, "arp_tpa": "10.0.0.1", "arp_spa": "10.0.0.9",
     "arp_sha": "aa-bb-cc-dd-ee-ff", "arp_tha": "00:00:00:00:00:00"},
    {"vlan_vid": (0x1000, 0x1000), "tunnel_id": 77, "metadata": (5, 0xFF)},
    {"eth_type": 0x0800, "ct_state": (0x21, 0x21), "ct_zone": 9, "ct_mark": (1, 1),
     "reg6": 4, "in_port": 1},
    {"eth_type": 0x0800, "ip_proto": 1, "icmpv4_type": 8, "icmpv4_code": 0,
     "ip_dscp": 4, "ip_ecn": 1},
    {"eth_type": 0x0800, "ip_proto": 6, "tcp_src": 80, "tcp_dst": 443, "ipv4_src": "0.0.0.0"},
]


def _reference(fields: dict[str, Any]) -> Any:
    ordered = sorted(parser.OFPMatch(**fields).items(),
                     key=lambda field: field[0] in ("ip_frag",))
    return parser.OFPMatch(_ordered_fields=ordered)


def _wire(match: Any) -> bytes:
    buf = bytearray()
    match.serialize(buf, 0)
    return bytes(buf)


def _random_fields(rng: random.Random) -> dict[str, Any]:
    def mac() -> str:
        text = ":".join(f"{rng.randrange(256):02x}" for _ in range(6))
        return text.upper() if rng.random() < 0.2 else text

    def ip() -> str:
        return ".".join(str(rng.randrange(256)) for _ in range(4))

    pool: dict[str, Any] = {
        "in_port": lambda: rng.randrange(1, 100),
        "eth_src": mac, "eth_dst": lambda: mac() if rng.random() < 0.8 else (mac(), mac()),
        "eth_type": lambda: rng.choice([0x0800, 0x0806]),
        "ipv4_src": lambda: ip() if rng.random() < 0.8 else f"{ip()}/{rng.randrange(33)}",
        "ipv4_dst": lambda: ip() if rng.random() < 0.8 else (ip(), ip()),
        "ip_proto": lambda: rng.choice([1, 6, 17]),
        "udp_src": lambda: rng.randrange(65536), "tunnel_id": lambda: rng.randrange(1 << 24),
        "ip_frag": lambda: rng.choice([(0, 3), (1, 1), (3, 3)]),
        "reg6": lambda: rng.randrange(1 << 16),
    }
    names = rng.sample(sorted(pool), rng.randrange(1, len(pool) + 1))
    return {name: pool[name]() for name in names}


@pytest.mark.parametrize("fields", CASES)
def test_match_is_os_kens(fields: dict[str, Any]) -> None:
    mine, theirs = ofmsgs.match(fields), _reference(fields)
    assert mine.items() == theirs.items()
    assert _wire(mine) == _wire(theirs)
    again = ofmsgs.match(fields)  # served from what the first one converted
    assert again.items() == theirs.items() and _wire(again) == _wire(theirs)


def test_random_matches_are_os_kens() -> None:
    rng = random.Random(7)
    for _ in range(500):
        fields = _random_fields(rng)
        mine, theirs = ofmsgs.match(fields), _reference(fields)
        assert mine.items() == theirs.items(), fields
        assert _wire(mine) == _wire(theirs), fields


def test_a_match_os_ken_refuses_is_refused() -> None:
    for fields in ({"no_such_field": 1}, {"eth_src": "not a mac"}, {"ipv4_dst": "10.0.0"}):
        with pytest.raises(Exception):  # noqa: B017 - whatever os-ken raises
            _reference(fields)
        with pytest.raises(Exception):  # noqa: B017
            ofmsgs.match(fields)


def test_a_flow_mod_with_the_match_parses_back_the_same() -> None:
    fields = CASES[2]
    msg = parser.OFPFlowMod(None, match=ofmsgs.match(fields), instructions=[])
    ref = parser.OFPFlowMod(None, match=_reference(fields), instructions=[])

    class _Dp:
        ofproto = parser.ofproto
        ofproto_parser = parser

    for m in (msg, ref):
        m.datapath = _Dp()
        m.serialize()
    assert bytes(msg.buf) == bytes(ref.buf)


@pytest.mark.parametrize("name,value", [("eth_src", "02:AA:00:00:00:01"),
                                        ("eth_dst", "ff:ff:ff:ff:ff:ff"),
                                        ("ipv4_dst", "10.0.0.1"),
                                        ("tcp_dst", 80), ("vlan_vid", 0x1005)])
def test_set_field_actions_are_os_kens(name: str, value: Any) -> None:
    from ryu_midonet.datapath.flows import Action

    (mine,), _, _ = ofmsgs._actions((Action("set_field", (name, value)),))
    theirs = parser.OFPActionSetField(**{name: value})
    a, b = bytearray(), bytearray()
    mine.serialize(a, 0)
    theirs.serialize(b, 0)
    assert bytes(a) == bytes(b) and (mine.key, mine.value, mine.len) == (
        theirs.key, theirs.value, theirs.len)
