"""The REST API's wire format and validation, on a real redis-server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import webob

from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.rest import openapi
from ryu_midonet.rest.api import Api

VND = "application/vnd.org.midonet."
REPO = Path(__file__).resolve().parents[2]


class Client:
    """Calls the WSGI application the way an HTTP client would."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def call(self, method: str, path: str, body: Any = None, ctype: str = "application/json",
             accept: str | None = None) -> webob.Response:
        url = path if path.startswith("http") else "http://api.test/midonet-api" + path
        req = webob.Request.blank(url, method=method)
        if body is not None:
            req.body = body if isinstance(body, bytes) else json.dumps(body).encode()
            req.content_type = ctype
        if accept:
            req.accept = accept
        return req.get_response(self.app)

    def post(self, path: str, body: Any, **kw: Any) -> dict[str, Any]:
        resp = self.call("POST", path, body, **kw)
        assert resp.status_int == 201, resp.text
        return self.call("GET", resp.headers["Location"]).json

    def get(self, path: str) -> Any:
        resp = self.call("GET", path)
        assert resp.status_int == 200, resp.text
        return resp.json


@pytest.fixture
def api(topo: Topology) -> Client:
    return Client(Api(topo).app)


def test_root_document_has_collections_and_templates(api: Client) -> None:
    resp = api.call("GET", "/")
    assert resp.content_type == VND + "Application-v5+json"
    root = resp.json
    for key in ("bridges", "routers", "chains", "hosts", "tunnelZones", "portGroups",
                "ipAddrGroups", "tenants", "systemState"):
        assert root[key].startswith("http://api.test/midonet-api/")
    assert root["bridgeTemplate"].endswith("/bridges/{id}")
    assert root["ruleTemplate"].endswith("/rules/{id}")


def test_create_returns_location_and_vendor_types(api: Client) -> None:
    resp = api.call("POST", "/routers", {"name": "edge", "tenantId": "admin"},
                    ctype=VND + "Router-v3+json")
    assert resp.status_int == 201
    loc = resp.headers["Location"]
    got = api.call("GET", loc, accept=VND + "Router-v3+json")
    assert got.content_type == VND + "Router-v3+json"
    router = got.json
    assert router["uri"] == loc and router["name"] == "edge" and router["adminStateUp"] is True
    assert router["ports"] == loc + "/ports" and router["routes"] == loc + "/routes"
    listing = api.call("GET", "/routers", accept=VND + "collection.Router-v3+json")
    assert listing.content_type == VND + "collection.Router-v3+json"
    assert [r["id"] for r in listing.json] == [router["id"]]


def test_tenant_filter_and_tenants(api: Client) -> None:
    api.post("/bridges", {"name": "a", "tenantId": "t1"})
    api.post("/bridges", {"name": "b", "tenantId": "t2"})
    assert [b["name"] for b in api.get("/bridges?tenant_id=t2")] == ["b"]
    assert [t["id"] for t in api.get("/tenants")] == ["t1", "t2"]


def _error(resp: webob.Response, status: int) -> dict[str, Any]:
    assert resp.status_int == status, resp.text
    assert resp.content_type == VND + "Error-v1+json"
    body = resp.json
    assert body["code"] == status and body["message"]
    return body


BAD_INPUTS = [
    ("/bridges", b"{not json", None),
    ("/bridges", {"name": 7}, "name"),
    ("/bridges", {"adminStateUp": "maybe"}, "adminStateUp"),
    ("/bridges", {"inboundFilterId": "not-a-uuid"}, "inboundFilterId"),
    ("/bridges", {"inboundFilterId": "0b0e1f6e-0000-4000-8000-00000000dead"}, "inboundFilterId"),
    ("/routers", {"asNumber": -1}, "asNumber"),
    ("/tunnel_zones", {"name": "z", "type": "ipsec"}, "type"),
    ("/tunnel_zones", {"type": "gre"}, "name"),
    ("/bridges", [1, 2], None),
]


@pytest.mark.parametrize(("path", "body", "field"), BAD_INPUTS)
def test_bad_top_level_input_is_400_and_writes_nothing(api: Client, topo: Topology, path: str,
                                                       body: Any, field: str | None) -> None:
    before = topo.store.snapshot()
    err = _error(api.call("POST", path, body), 400)
    if field:
        assert field in err["message"]
        assert err["violations"][0]["property"] == field
    assert topo.store.snapshot() == before


@pytest.fixture
def router(api: Client) -> dict[str, Any]:
    return api.post("/routers", {"name": "r"})


BAD_PORTS = [
    ({"portAddress": "10.0.0.300", "networkLength": 24}, "portAddress"),
    ({"portAddress": "10.0.0.1", "networkLength": 33}, "networkLength"),
    ({"portAddress": "10.0.0.1"}, "networkLength"),
    ({"portAddress": "10.0.0.1", "networkLength": 24, "portMac": "02:00:00:00:00"}, "portMac"),
    ({"portAddress": "10.0.0.1", "networkLength": 24, "networkAddress": "10.9.0.0"},
     "networkAddress"),
]


@pytest.mark.parametrize(("body", "field"), BAD_PORTS)
def test_bad_router_port_is_400(api: Client, topo: Topology, router: dict[str, Any],
                                body: dict[str, Any], field: str) -> None:
    before = topo.store.snapshot()
    err = _error(api.call("POST", router["ports"], body), 400)
    assert field in err["message"]
    assert topo.store.snapshot() == before


def test_bad_routes_are_400(api: Client, router: dict[str, Any]) -> None:
    port = api.post(router["ports"], {"portAddress": "10.0.0.1", "networkLength": 24})
    other = api.post("/routers", {})
    foreign = api.post(other["ports"], {"portAddress": "10.1.0.1", "networkLength": 24})
    ok = {"dstNetworkAddr": "0.0.0.0", "dstNetworkLength": 0, "nextHopPort": port["id"],
          "type": "Normal"}
    for change, field in [({"dstNetworkAddr": "300.0.0.0"}, "dstNetworkAddr"),
                          ({"dstNetworkLength": 40}, "dstNetworkLength"),
                          ({"srcNetworkLength": "x"}, "srcNetworkLength"),
                          ({"type": "Magic"}, "type"),
                          ({"nextHopPort": foreign["id"]}, "nextHopPort"),
                          ({"nextHopPort": None}, "nextHopPort"),
                          ({"weight": -5}, "weight"),
                          ({"nextHopGateway": "gw"}, "nextHopGateway")]:
        err = _error(api.call("POST", router["routes"], {**ok, **change}), 400)
        assert field in err["message"], (change, err)
    route = api.post(router["routes"], {**ok, "nextHopGateway": "10.0.0.254"})
    assert route["weight"] == 100 and route["srcNetworkAddr"] == "0.0.0.0"
    blackhole = api.post(router["routes"], {"dstNetworkAddr": "192.0.2.0",
                                            "dstNetworkLength": 24, "type": "BlackHole"})
    assert blackhole["nextHopPort"] is None


def test_bad_rules_are_400(api: Client, topo: Topology) -> None:
    chain = api.post("/chains", {"name": "c"})
    before = topo.store.snapshot()
    for body, field in [
        ({"type": "drop", "dlSrc": "zz:00:00:00:00:00"}, "dlSrc"),
        ({"type": "drop", "dlSrcMask": "ffff.ff"}, "dlSrcMask"),
        ({"type": "drop", "nwSrcAddress": "10.0.0.0", "nwSrcLength": 40}, "nwSrcLength"),
        ({"type": "drop", "tpDst": {"start": 0, "end": 70000}}, "tpDst"),
        ({"type": "drop", "tpDst": {"start": 90, "end": 80}}, "tpDst"),
        ({"type": "drop", "tpSrc": {"start": 0, "end": 80}}, "tpSrc"),
        ({"type": "snat", "natTargets": [{"addressFrom": "1.1.1.1", "addressTo": "1.1.1.1",
                                          "portFrom": 0, "portTo": 100}]}, "natTargets"),
        ({"type": "snat", "natTargets": [{"addressFrom": "1.1.1.9", "addressTo": "1.1.1.1"}]},
         "natTargets"),
        ({"type": "accept", "tpDst": {"start": 80, "end": 80}, "fragmentPolicy": "any"},
         "fragmentPolicy"),
        ({"type": "accept", "tpSrc": {"start": 80, "end": 80}, "fragmentPolicy": "nonheader"},
         "fragmentPolicy"),
        ({"type": "jump", "jumpChainId": "0b0e1f6e-0000-4000-8000-00000000dead"}, "jumpChainId"),
        ({"type": "jump"}, "jumpChainId"),
        ({"type": "dnat"}, "natTargets"),
        ({"type": "snat", "natTargets": [{"addressFrom": "1.1.1.1", "addressTo": "1.1.1.1",
                                          "portFrom": 70000, "portTo": 70001}]}, "natTargets"),
        ({"type": "teleport"}, "type"),
        ({}, "type"),
        ({"type": "drop", "position": 5}, "position"),
        ({"type": "drop", "nwProto": 256}, "nwProto"),
        ({"type": "drop", "inPorts": ["0b0e1f6e-0000-4000-8000-00000000dead"]}, "inPorts"),
    ]:
        err = _error(api.call("POST", chain["rules"], body), 400)
        assert field in err["message"], (body, err)
    assert topo.store.snapshot() == before


def test_rule_wire_format(api: Client) -> None:
    chain = api.post("/chains", {"name": "c"})
    first = api.post(chain["rules"], {"type": "drop", "dlType": 2048, "nwSrcAddress": "10.0.0.0",
                                      "nwSrcLength": 16, "invNwSrc": True})
    second = api.post(chain["rules"], {"type": "accept", "position": 2, "nwProto": 6,
                                       "tpDst": {"start": 80, "end": 80}})
    rules = api.get(chain["rules"])
    assert [(r["id"], r["position"]) for r in rules] == [(first["id"], 1), (second["id"], 2)]
    assert first["nwProto"] == 0 and first["nwTos"] == 0 and first["fragmentPolicy"] == "any"
    assert second["fragmentPolicy"] == "header" and second["tpDst"] == {"start": 80, "end": 80}
    assert first["chainId"] == chain["id"]


def test_unknown_ids_are_404(api: Client) -> None:
    missing = "0b0e1f6e-0000-4000-8000-00000000dead"
    for method, path in [("GET", f"/bridges/{missing}"), ("GET", "/bridges/garbage"),
                         ("DELETE", f"/routers/{missing}"), ("GET", f"/chains/{missing}/rules"),
                         ("POST", f"/bridges/{missing}/ports"), ("GET", "/nothing/here")]:
        _error(api.call(method, path, {} if method == "POST" else None), 404)


def test_method_not_allowed_and_media_type(api: Client) -> None:
    assert api.call("DELETE", "/bridges").status_int == 405
    _error(api.call("POST", "/bridges", {"name": "x"}, ctype="text/plain"), 415)
    assert api.call("POST", "/bridges", {"name": "x"},
                    ctype=VND + "Bridge-v3+json").status_int == 201


def test_link_bind_and_members_over_rest(api: Client, topo: Topology,
                                         router: dict[str, Any]) -> None:
    host = topo.register_host("8a5c1f0e-0000-4000-8000-0000000000aa", "compute1",
                              interfaces=[{"name": "eth1", "mac": "12:6e:b7:d0:4f:f1"}])
    bridge = api.post("/bridges", {"name": "b"})
    bport = api.post(bridge["ports"], {})
    rport = api.post(router["ports"], {"portAddress": "10.0.0.1", "networkLength": 24})
    assert api.call("POST", rport["link"], {"peerId": bport["id"]}).status_int == 201
    assert api.get(bport["uri"])["peerId"] == rport["id"]
    assert [p["id"] for p in api.get(bridge["peerPorts"])] == [rport["id"]]
    _error(api.call("POST", rport["link"], {"peerId": bport["id"]}), 409)
    assert api.call("DELETE", rport["link"]).status_int == 204

    tz = api.post("/tunnel_zones", {"name": "tz", "type": "vxlan"})
    _error(api.call("POST", f"/hosts/{host['id']}/ports",
                    {"portId": bport["id"], "interfaceName": "eth1"}), 409)  # in no zone yet
    member = api.post(tz["hosts"], {"hostId": host["id"], "ipAddress": "192.168.0.3"})
    assert member["ipAddress"] == "192.168.0.3" and member["tunnelZoneId"] == tz["id"]
    _error(api.call("POST", tz["hosts"], {"hostId": host["id"], "ipAddress": "1.2.3"}), 400)

    hostdto = api.get(f"/hosts/{host['id']}")
    assert hostdto["alive"] is False and hostdto["name"] == "compute1"
    assert [i["name"] for i in api.get(hostdto["interfaces"])] == ["eth1"]
    binding = api.post(hostdto["ports"], {"portId": bport["id"], "interfaceName": "eth1"})
    assert binding == {**binding, "hostId": host["id"], "portId": bport["id"],
                       "interfaceName": "eth1"}
    assert api.get(bport["uri"])["hostId"] == host["id"]
    _error(api.call("POST", hostdto["ports"], {"portId": bport["id"]}), 400)
    assert api.call("DELETE", binding["uri"]).status_int == 204

    pg = api.post("/port_groups", {"name": "SPG", "stateful": True})
    api.post(pg["ports"], {"portId": rport["id"]})
    assert [m["portId"] for m in api.get(pg["ports"])] == [rport["id"]]
    assert [m["portGroupId"] for m in api.get(rport["portGroups"])] == [pg["id"]]

    ipg = api.post("/ip_addr_groups", {"name": "ipg"})
    addr = api.post(ipg["addrs"], {"addr": "172.16.0.3", "version": 4})
    assert addr["addr"] == "172.16.0.3" and addr["uri"].endswith("/versions/4/ip_addrs/172.16.0.3")
    v6 = api.post(ipg["addrs"], {"addr": "fe80::1", "version": 6})
    assert v6["uri"].endswith("/versions/6/ip_addrs/fe80%3A%3A1")
    _error(api.call("GET", v6["uri"].replace("/versions/6/", "/versions/5/")), 400)
    assert api.call("DELETE", addr["uri"]).status_int == 204
    assert api.call("DELETE", v6["uri"]).status_int == 204
    assert api.get(ipg["addrs"]) == []


def test_readonly_is_503(api: Client, topo: Topology) -> None:
    state = api.get("/system_state")
    assert state["availability"] == "READWRITE"
    resp = api.call("PUT", "/system_state", {"availability": "READONLY"},
                    ctype=VND + "SystemState-v2+json")
    assert resp.status_int == 200 and resp.json["availability"] == "READONLY"
    before = topo.store.snapshot()
    _error(api.call("POST", "/bridges", {"name": "x"}), 503)
    assert topo.store.snapshot() == before
    api.call("PUT", "/system_state", {"availability": "READWRITE"})
    assert api.call("POST", "/bridges", {"name": "x"}).status_int == 201


def test_openapi_matches_routes_and_repo_copy(api: Client) -> None:
    served = api.get("/openapi.json")
    routes = Api.routes_only()
    assert {(r.template, r.method.lower()) for r in routes} == {
        (path, method) for path, ops in served["paths"].items() for method in ops}
    assert json.loads((REPO / "doc" / "openapi.json").read_text()) == served, (
        "doc/openapi.json is stale: run `make openapi`")
    assert served == json.loads(openapi.render(routes))


def test_openapi_is_valid() -> None:
    from openapi_spec_validator import validate

    validate(openapi.build(Api.routes_only()))


def test_port_fields_belong_to_their_device(api: Client, router: dict[str, Any]) -> None:
    bridge = api.post("/bridges", {"name": "b"})
    err = _error(api.call("POST", bridge["ports"], {"portAddress": "10.0.0.1"}), 400)
    assert "portAddress" in err["message"]
    err = _error(api.call("POST", router["ports"], {"portAddress": "10.0.0.1",
                                                    "networkLength": 24, "vlanId": 3}), 400)
    assert "vlanId" in err["message"]
    port = api.post(bridge["ports"], {"vlanId": 3})
    _error(api.call("PUT", port["uri"], {"portMac": "02:00:00:00:00:01"}), 400)
    rport = api.post(router["ports"], {"portAddress": "10.0.0.1", "networkLength": 24})
    moved = api.call("PUT", rport["uri"], {"portAddress": "10.0.5.1", "networkLength": 24})
    assert moved.status_int == 200
    routes = {(r["dstNetworkAddr"], r["dstNetworkLength"]) for r in api.get(router["routes"])}
    assert routes == {("10.0.5.1", 32), ("10.0.5.0", 24)}
