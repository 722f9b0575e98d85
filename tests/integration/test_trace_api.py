"""Trace requests through the REST API (a real API process, real Redis): the root's
``traceRequests`` link, a request round trip with its condition, bad input answered 400
naming the field with nothing written, and requests going with their device."""

from __future__ import annotations

import uuid

import pytest
from rest_call import call, ok

pytestmark = pytest.mark.integration

MEDIA = "application/vnd.org.midonet.TraceRequest-v1+json"


def _traces(api_url: str) -> str:
    root = ok("GET", api_url)
    assert root["traceRequestTemplate"] == api_url + "/traces/{id}"
    return str(root["traceRequests"])


def test_a_trace_request_round_trips(api_url: str) -> None:
    traces = _traces(api_url)
    bridge = ok("POST", api_url + "/bridges", {"name": "net"}, 201)
    status, made = call("POST", traces, {
        "name": "web", "deviceType": "BRIDGE", "deviceId": bridge["id"], "limit": 10,
        "condition": {"dlType": 2048, "nwDstAddress": "10.0.0.2", "nwDstLength": 32,
                      "nwProto": 6, "tpDst": {"start": 80, "end": 80}}}, media=MEDIA)
    assert status == 201, made
    assert (made["name"], made["deviceType"], made["deviceId"], made["limit"],
            made["enabled"]) == ("web", "BRIDGE", bridge["id"], 10, False)
    assert made["uri"] == f"{api_url}/traces/{made['id']}"
    assert made["condition"]["nwDstAddress"] == "10.0.0.2"
    assert made["condition"]["tpDst"] == {"start": 80, "end": 80}
    assert made["condition"]["invNwSrc"] is False and made["creationTimestampMs"] > 0
    assert "bridgeId" not in made
    ok("PUT", made["uri"], {**made, "enabled": True})
    assert ok("GET", made["uri"])["enabled"] is True
    assert ok("GET", traces) == [{**made, "enabled": True}]
    ok("DELETE", made["uri"], status=204)
    assert ok("GET", traces) == []


@pytest.mark.parametrize(("body", "field"), [
    ({"deviceType": "SWITCH"}, "deviceType"),
    ({"deviceId": "not-a-uuid"}, "deviceId"),
    ({"deviceType": "ROUTER"}, "deviceId"),  # the bridge is no router
    ({"limit": -1}, "limit"),
    ({"condition": {"nwSrcAddress": "10.0.0.300"}}, "condition.nwSrcAddress"),
    ({"condition": {"tpDst": {"start": 70000}}}, "condition.tpDst"),
])
def test_bad_input_is_refused_naming_the_field(api_url: str, body: dict[str, object],
                                               field: str) -> None:
    traces = _traces(api_url)
    bridge = ok("POST", api_url + "/bridges", {"name": "net"}, 201)
    status, error = call("POST", traces, {"deviceType": "BRIDGE", "deviceId": bridge["id"],
                                          **body})
    assert status == 400, error
    assert [v["property"] for v in error["violations"]][0].startswith(field.split(".")[0]), \
        error
    assert field in str(error)
    assert ok("GET", traces) == []


def test_requests_go_with_their_device(api_url: str) -> None:
    traces = _traces(api_url)
    router = ok("POST", api_url + "/routers", {"name": "edge"}, 201)
    ok("POST", traces, {"deviceType": "ROUTER", "deviceId": router["id"]}, 201)
    status, _ = call("POST", traces, {"deviceType": "PORT", "deviceId": str(uuid.uuid4())})
    assert status == 400
    ok("DELETE", router["uri"], status=204)
    assert ok("GET", traces) == []
