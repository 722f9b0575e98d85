"""Request bodies: what the OpenAPI document says a body may be is what the API accepts.

Unknown fields are refused with 400 naming them; a DTO sent back whole (as
python-midonetclient does on update) is accepted, its read-only fields ignored.
"""

from __future__ import annotations

from typing import Any

import pytest
import webob

from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.rest.api import Api
from tests.integration.test_rest_api import Client

pytestmark = pytest.mark.integration


@pytest.fixture
def api(topo: Topology) -> Client:
    return Client(Api(topo).app)


def _refused(resp: webob.Response, field: str) -> dict[str, Any]:
    assert resp.status_int == 400, resp.text
    body = resp.json
    assert [v["property"] for v in body["violations"]] == [field], body
    return body


def test_unknown_fields_are_refused_naming_them(api: Client, topo: Topology) -> None:
    before = topo.store.snapshot()
    _refused(api.call("POST", "/bridges", {"name": "b", "colour": "red"}), "colour")
    _refused(api.call("POST", "/chains", {"name": "c", "rules": [], "ruleIds": [], "x": 1}), "x")
    assert topo.store.snapshot() == before
    bridge = api.post("/bridges", {"name": "b"})
    _refused(api.call("PUT", bridge["uri"], {"name": "c", "colour": "red"}), "colour")
    _refused(api.call("POST", bridge["ports"], {"vlanId": 1, "speed": 10}), "speed")
    group = api.post("/port_groups", {"name": "pg"})
    _refused(api.call("POST", group["ports"], {"portId": bridge["id"], "weight": 1}), "weight")
    assert api.get(bridge["uri"])["name"] == "b"


def test_a_dto_sent_back_whole_updates_and_ignores_read_only_fields(api: Client) -> None:
    router = api.post("/routers", {"name": "r"})
    port = api.post(router["ports"], {"portAddress": "10.0.0.1", "networkLength": 24})
    sent = dict(port, portAddress="10.0.1.1", tunnelKey=999999, active=True,
                uri="http://elsewhere.example/x")
    resp = api.call("PUT", port["uri"], sent)
    assert resp.status_int == 200, resp.text
    got = api.get(port["uri"])
    assert got["portAddress"] == "10.0.1.1" and got["networkAddress"] == "10.0.1.0"
    assert got["tunnelKey"] == port["tunnelKey"] and got["uri"] == port["uri"]
    copy = api.post("/routers", dict(api.get(router["uri"]), name="copy", id=None))
    assert copy["name"] == "copy" and copy["id"] != router["id"]


def test_router_ports_need_an_address_and_bridge_ports_have_none(api: Client) -> None:
    router = api.post("/routers", {"name": "r"})
    bridge = api.post("/bridges", {"name": "b"})
    _refused(api.call("POST", router["ports"], {"networkLength": 24}), "portAddress")
    _refused(api.call("POST", router["ports"], {"portAddress": "10.0.0.1", "networkLength": 24,
                                                "vlanId": 3}), "vlanId")
    _refused(api.call("POST", bridge["ports"], {"portAddress": "10.0.0.1"}), "portAddress")
    assert api.call("POST", bridge["ports"], {"portAddress": None}).status_int == 201


def test_numbers_and_booleans_as_midonet_cli_sends_them(api: Client) -> None:
    router = api.post("/routers", {"name": "r", "adminStateUp": "FALSE"})
    assert router["adminStateUp"] is False
    port = api.post(router["ports"], {"portAddress": "10.0.0.1", "networkLength": "24"})
    assert port["networkLength"] == 24
    for bad in ("024", " 24", "+24", "2_4", "33", "24\n", 24.5, True):
        _refused(api.call("POST", router["ports"], {"portAddress": "10.0.0.2",
                                                    "networkLength": bad}), "networkLength")
    assert api.post(router["ports"], {"portAddress": "10.0.0.3",
                                      "networkLength": 24.0})["networkLength"] == 24


def test_ip_addr_version_must_match_the_address(api: Client) -> None:
    group = api.post("/ip_addr_groups", {"name": "g"})
    _refused(api.call("POST", group["addrs"], {"addr": "10.0.0.1", "version": 6}), "version")
    _refused(api.call("POST", group["addrs"], {"addr": "10.0.0.1", "version": 5}), "version")
    assert api.call("POST", group["addrs"], {"addr": "fd00::1", "version": 6}).status_int == 201
    assert [a["addr"] for a in api.get(group["addrs"])] == ["fd00::1"]


def test_a_new_object_id_must_be_a_uuid(api: Client) -> None:
    for bad in ("", "x", "{6f1b7b7e-3c0a-4a6e-9d1e-2f0c8a4b5c6d}", 5):
        _refused(api.call("POST", "/chains", {"name": "c", "id": bad}), "id")
    chain = api.post("/chains", {"name": "c", "id": "6F1B7B7E-3C0A-4A6E-9D1E-2F0C8A4B5C6D"})
    assert chain["id"] == "6f1b7b7e-3c0a-4a6e-9d1e-2f0c8a4b5c6d"


def test_a_body_of_only_white_space_is_malformed_not_empty(api: Client, topo: Topology) -> None:
    before = topo.store.snapshot()
    for raw in (b"\n", b"  ", b"\t\r\n"):
        resp = api.call("POST", "/bridges", raw)
        assert resp.status_int == 400, resp.text
        assert "malformed JSON" in resp.json["message"]
    assert topo.store.snapshot() == before
    assert api.call("POST", "/bridges", b"").status_int == 201  # no body at all: defaults


def test_system_state_refuses_unknown_fields_and_ignores_its_dto_fields(
        api: Client, topo: Topology) -> None:
    _refused(api.call("PUT", "/system_state", {"availability": "READONLY", "mode": "x"}), "mode")
    assert api.get("/system_state")["availability"] == "READWRITE"
    dto = api.get("/system_state")
    dto["availability"] = "READONLY"
    dto["version"] = "9.9"  # read-only: ignored
    assert api.call("PUT", "/system_state", dto).status_int == 200
    state = api.get("/system_state")
    assert state["availability"] == "READONLY" and state["version"] != "9.9"
