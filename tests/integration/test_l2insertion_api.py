"""L2 insertions through the REST API (a real API process, real Redis): the root's links, a
round trip, positions kept contiguous per inspected port, bad input answered 400 naming the
field with nothing written, and insertions going with their ports."""

from __future__ import annotations

from typing import Any

import pytest
from rest_call import call, ok

pytestmark = pytest.mark.integration

MEDIA = "application/vnd.org.midonet.L2Insertion-v1+json"
MAC = "fa:16:3e:a4:dd:58"


def _setup(api_url: str) -> tuple[str, list[str], list[str]]:
    """The insertions' collection, two ports of bridge0 and three of bridge1."""
    root = ok("GET", api_url)
    assert root["l2InsertionTemplate"] == api_url + "/l2insertions/{id}"
    ports = []
    for name, count in (("bridge0", 2), ("bridge1", 3)):
        bridge = ok("POST", api_url + "/bridges", {"name": name}, 201)
        ports.append([ok("POST", bridge["ports"], {}, 201)["id"] for _ in range(count)])
    return str(root["l2insertions"]), ports[0], ports[1]


def _add(coll: str, port: str, srv: str, **kw: Any) -> Any:
    status, made = call("POST", coll, {"portId": port, "srvPortId": srv, "mac": MAC, **kw},
                        media=MEDIA)
    assert status == 201, made
    return made


def _order(coll: str) -> list[str]:
    """The service ports in position order, checking the positions are 0, 1, ..."""
    got = sorted((i["position"], i["srvPortId"]) for i in ok("GET", coll))
    assert [pos for pos, _ in got] == list(range(len(got)))
    return [srv for _, srv in got]


def test_an_insertion_round_trips(api_url: str) -> None:
    coll, (p0, _), (s0, _, _) = _setup(api_url)
    made = _add(coll, p0, s0, vlan=10, failOpen=True, mac=MAC.upper())
    assert (made["portId"], made["srvPortId"], made["mac"], made["vlan"], made["position"],
            made["failOpen"]) == (p0, s0, MAC, 10, 0, True)
    assert made["uri"] == f"{api_url}/l2insertions/{made['id']}"
    ok("PUT", made["uri"], {**made, "vlan": 20, "failOpen": False})
    got = ok("GET", made["uri"])
    assert (got["vlan"], got["failOpen"]) == (20, False)
    assert ok("GET", coll) == [got]
    ok("DELETE", made["uri"], status=204)
    assert ok("GET", coll) == []


def test_positions_of_a_port_stay_contiguous(api_url: str) -> None:
    coll, (p0, _), (s0, s1, s2) = _setup(api_url)
    a = _add(coll, p0, s0, position=0)
    _add(coll, p0, s1, position=7)  # past the end: last
    assert _order(coll) == [s0, s1]
    _add(coll, p0, s2, position=0)  # in front: the others move on
    assert _order(coll) == [s2, s0, s1]
    ok("PUT", a["uri"], {**a, "position": 2})
    assert _order(coll) == [s2, s1, s0]
    ok("DELETE", a["uri"], status=204)
    ok("DELETE", a["uri"], status=404)
    assert _order(coll) == [s2, s1]


def test_bad_input_is_refused_naming_the_field(api_url: str) -> None:
    coll, (p0, p1), (s0, s1, _) = _setup(api_url)
    first = _add(coll, p0, s0)
    bad: list[tuple[dict[str, Any], str]] = [
        ({"portId": p0, "srvPortId": s0, "mac": MAC}, "srvPortId"),  # duplicate pair
        ({"portId": p1, "srvPortId": p0, "mac": MAC}, "srvPortId"),  # protected port serves
        ({"portId": s0, "srvPortId": s1, "mac": MAC}, "portId"),  # service port protected
        ({"portId": p0, "srvPortId": p0, "mac": MAC}, "srvPortId"),
        ({"portId": p1, "srvPortId": s1, "mac": MAC, "vlan": 4096}, "vlan"),
        ({"portId": p1, "srvPortId": s1, "mac": MAC, "vlan": -1}, "vlan"),
        ({"portId": p1, "srvPortId": s1, "mac": MAC, "position": -1}, "position"),
        ({"portId": p1, "srvPortId": s1, "mac": "fa:16"}, "mac"),
        ({"portId": p1, "srvPortId": s1}, "mac"),
        ({"srvPortId": s1, "mac": MAC}, "portId"),
        ({"portId": p1, "srvPortId": "6d1b3bd2-0000-4000-8000-000000000000", "mac": MAC},
         "srvPortId"),
    ]
    for body, field in bad:
        status, error = call("POST", coll, body, media=MEDIA)
        assert status == 400, (body, error)
        assert field in str(error), (body, error)
    for field, value in (("portId", p1), ("srvPortId", s1)):
        status, error = call("PUT", first["uri"], {**first, field: value}, media=MEDIA)
        assert status == 400 and field in str(error), error
    assert ok("GET", coll) == [first]


def test_insertions_go_with_their_ports(api_url: str) -> None:
    coll, (p0, _), (s0, s1, _) = _setup(api_url)
    _add(coll, p0, s0)
    _add(coll, p0, s1)
    ok("DELETE", f"{api_url}/ports/{s0}", status=204)
    assert [i["srvPortId"] for i in ok("GET", coll)] == [s1]
    ok("DELETE", f"{api_url}/ports/{p0}", status=204)
    assert ok("GET", coll) == []
