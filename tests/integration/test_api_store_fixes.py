"""What clients see of the store's rules through a real API process: refused creates consume
no tunnel key, violations name the request's field, rules can be updated, and the write
version is served as MidoNet serves it."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
import redis

from ryu_midonet.nsdb.kinds.port import MAX_TUNNEL_KEY
from tests.integration.rest_call import call

SEQ = "{mn}:seq:tunnelKey"
MISSING = "8a5c1f0e-0000-4000-8000-00000000ffff"
WRITE_VERSION_MEDIA = "application/vnd.org.midonet.WriteVersion-v1+json"


def _ok(got: tuple[int, Any], status: int = 200) -> Any:
    assert got[0] == status, got
    return got[1]


def _violation(got: tuple[int, Any]) -> str:
    status, body = got
    assert status == 400, got
    return str(body["violations"][0]["property"])


def test_refused_port_creates_consume_no_tunnel_key(api_url: str, redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    bridge = _ok(call("POST", f"{api_url}/bridges", {"name": "b"}), 201)
    router = _ok(call("POST", f"{api_url}/routers", {"name": "r"}), 201)
    first = _ok(call("POST", f"{api_url}/bridges/{bridge['id']}/ports", {}), 201)
    assert int(r.get(SEQ)) == first["tunnelKey"]

    assert _violation(call("POST", f"{api_url}/routers/{router['id']}/ports",
                           {"networkLength": 24})) == "portAddress"
    assert _violation(call("POST", f"{api_url}/bridges/{bridge['id']}/ports",
                           {"inboundFilterId": MISSING})) == "inboundFilterId"
    assert _violation(call("POST", f"{api_url}/bridges/{bridge['id']}/ports",
                           {"vlanId": 5000})) == "vlanId"
    assert int(r.get(SEQ)) == first["tunnelKey"]

    _ok(call("PUT", f"{api_url}/system_state", {"availability": "READONLY"}))
    try:
        status, _ = call("POST", f"{api_url}/bridges/{bridge['id']}/ports", {})
        assert status == 503
        assert int(r.get(SEQ)) == first["tunnelKey"]
    finally:
        _ok(call("PUT", f"{api_url}/system_state", {"availability": "READWRITE"}))

    second = _ok(call("POST", f"{api_url}/bridges/{bridge['id']}/ports", {}), 201)
    assert second["tunnelKey"] == first["tunnelKey"] + 1


def test_ports_past_the_last_tunnel_key_are_refused(api_url: str, redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    bridge = _ok(call("POST", f"{api_url}/bridges", {"name": "b"}), 201)
    before = int(r.get(SEQ) or 0)
    r.set(SEQ, MAX_TUNNEL_KEY - 1)
    try:
        last = _ok(call("POST", f"{api_url}/bridges/{bridge['id']}/ports", {}), 201)
        assert last["tunnelKey"] == MAX_TUNNEL_KEY
        status, body = call("POST", f"{api_url}/bridges/{bridge['id']}/ports", {})
        assert status == 409 and "no tunnel key is left" in json.dumps(body), body
        assert int(r.get(SEQ)) == MAX_TUNNEL_KEY
    finally:
        r.set(SEQ, before)


def test_violations_name_the_request_field(api_url: str) -> None:
    bridge = _ok(call("POST", f"{api_url}/bridges", {"name": "b"}), 201)
    port = _ok(call("POST", f"{api_url}/bridges/{bridge['id']}/ports", {}), 201)
    pg = _ok(call("POST", f"{api_url}/port_groups", {"name": "pg"}), 201)
    tz = _ok(call("POST", f"{api_url}/tunnel_zones", {"name": "tz", "type": "gre"}), 201)
    for peer in ("not-a-uuid", MISSING):
        assert _violation(call("POST", f"{api_url}/ports/{port['id']}/link",
                               {"peerId": peer})) == "peerId"
        assert _violation(call("POST", f"{api_url}/port_groups/{pg['id']}/ports",
                               {"portId": peer})) == "portId"
        assert _violation(call("POST", f"{api_url}/tunnel_zones/{tz['id']}/hosts",
                               {"hostId": peer, "ipAddress": "10.0.0.1"})) == "hostId"
    assert _ok(call("GET", f"{api_url}/ports/{port['id']}"))["peerId"] is None
    assert _ok(call("GET", f"{api_url}/port_groups/{pg['id']}/ports")) == []
    assert _ok(call("GET", f"{api_url}/tunnel_zones/{tz['id']}/hosts")) == []


def test_a_rule_is_updated_in_place(api_url: str) -> None:
    chain = _ok(call("POST", f"{api_url}/chains", {"name": "c"}), 201)
    target = _ok(call("POST", f"{api_url}/chains", {"name": "target"}), 201)
    rules = f"{api_url}/chains/{chain['id']}/rules"
    first = _ok(call("POST", rules, {"type": "accept", "nwProto": 6,
                                     "tpDst": {"start": 22, "end": 22}}), 201)
    second = _ok(call("POST", rules, {"type": "drop", "position": 2}), 201)

    dto = _ok(call("GET", second["uri"]))
    dto.update(type="jump", jumpChainId=target["id"], nwSrcAddress="10.0.0.0", nwSrcLength=8)
    changed = _ok(call("PUT", second["uri"], dto))  # the whole DTO back, as clients send it
    assert (changed["type"], changed["jumpChainName"], changed["nwSrcLength"]) == (
        "jump", "target", 8)
    assert changed["position"] == 2 and changed["chainId"] == chain["id"]
    assert [r["id"] for r in _ok(call("GET", rules))] == [first["id"], second["id"]]

    before = _ok(call("GET", first["uri"]))
    assert _violation(call("PUT", first["uri"], {"type": "dnat"})) == "natTargets"
    assert _violation(call("PUT", first["uri"], {"type": "jump",
                                                 "jumpChainId": chain["id"]})) == "jumpChainId"
    assert _violation(call("PUT", first["uri"], {"fragmentPolicy": "any"})) == "fragmentPolicy"
    assert _ok(call("GET", first["uri"])) == before
    assert call("PUT", f"{api_url}/rules/{MISSING}", {"type": "drop"})[0] == 404


def test_write_version_is_served_and_set(api_url: str) -> None:
    root = _ok(call("GET", f"{api_url}/"))
    uri = root["writeVersion"]
    assert uri == f"{api_url}/write_version"
    req = urllib.request.Request(uri, headers={"Accept": WRITE_VERSION_MEDIA})
    with urllib.request.urlopen(req, timeout=15) as resp:
        assert resp.headers.get_content_type() == WRITE_VERSION_MEDIA.lower()
        assert json.loads(resp.read()) == {"version": "5.0", "uri": uri}
    assert call("PUT", uri, {"version": "5.1"}, media=WRITE_VERSION_MEDIA) == (204, None)
    assert _ok(call("GET", uri)) == {"version": "5.1", "uri": uri}
    assert _ok(call("GET", f"{api_url}/system_state"))["version"] == "5.1"
    for bad in ({"version": "five"}, {"version": 5}, {}):
        assert _violation(call("PUT", uri, bad)) == "version"
    assert _violation(call("PUT", uri, {"version": "5.4", "extra": 1})) == "extra"
    assert _ok(call("GET", uri))["version"] == "5.1"
    # the DTO sent back whole, as clients do
    assert call("PUT", uri, {"version": "5.2", "uri": uri})[0] == 204
    assert _ok(call("GET", uri))["version"] == "5.2"


@pytest.mark.parametrize("media", ["application/json", WRITE_VERSION_MEDIA])
def test_write_version_takes_its_media_types(api_url: str, media: str) -> None:
    assert call("PUT", f"{api_url}/write_version", {"version": "5.3"}, media=media)[0] == 204
