"""VTEPs through the REST API (a real API process, real Redis): the root's ``vteps``, a VTEP
in a tunnel zone of type vtep, its bindings with the bridge's VXLAN port coming with the first
and going with the last, no deletion of a bound VTEP, and bad input refused with 400 naming
the field with nothing written. What the switch reports is written as the VTEP app does."""

from __future__ import annotations

import pytest
from rest_call import call, ok

from ryu_midonet.nsdb.topology import Topology

pytestmark = pytest.mark.integration

VTEP = "application/vnd.org.midonet.VTEP-v2+json"
BINDING = "application/vnd.org.midonet.VTEPBinding-v2+json"


def _zone(api_url: str, kind: str = "vtep") -> str:
    return str(ok("POST", api_url + "/tunnel_zones", {"name": f"z-{kind}", "type": kind},
                  201)["id"])


def _vtep(api_url: str, topo: Topology, port: int = 6632) -> dict[str, object]:
    root = ok("GET", api_url)
    assert root["vteps"] == api_url + "/vteps"
    assert root["vtepTemplate"] == api_url + "/vteps/{id}"
    status, vtep = call("POST", root["vteps"], {
        "managementIp": "192.168.2.10", "managementPort": port,
        "tunnelZoneId": _zone(api_url)}, media=VTEP)
    assert status == 201, vtep
    topo.set_vtep_switch_state(
        str(vtep["id"]), name="VTEP-NAME", description="OVS VTEP Emulator",
        tunnelIpAddrs=["10.78.0.30"], connectionState="CONNECTED",
        physicalPorts=[{"name": "swp1", "description": ""}, {"name": "swp2",
                                                                "description": ""}])
    return dict(ok("GET", vtep["uri"]))


def test_a_vtep_shows_what_the_switch_reports(api_url: str, topo: Topology) -> None:
    vtep = _vtep(api_url, topo)
    assert (vtep["name"], vtep["description"], vtep["managementIp"], vtep["managementPort"],
            vtep["connectionState"], vtep["tunnelIpAddrs"]) == (
        "VTEP-NAME", "OVS VTEP Emulator", "192.168.2.10", 6632, "CONNECTED", ["10.78.0.30"])
    assert vtep["bindings"] == vtep["uri"] + "/bindings"
    assert ok("GET", str(vtep["ports"])) == [{"name": "swp1", "description": ""},
                                             {"name": "swp2", "description": ""}]
    assert ok("GET", api_url + "/vteps") == [vtep]
    # a second VTEP at the same management address conflicts
    status, _ = call("POST", api_url + "/vteps", {
        "managementIp": "192.168.2.10", "managementPort": 6632,
        "tunnelZoneId": vtep["tunnelZoneId"]})
    assert status == 409


def test_bindings_bring_and_take_the_bridges_vxlan_port(api_url: str, topo: Topology) -> None:
    vtep = _vtep(api_url, topo)
    bridge = ok("POST", api_url + "/bridges", {"name": "public"}, 201)
    status, b1 = call("POST", str(vtep["bindings"]), {
        "mgmtIp": "192.168.2.10", "portName": "swp1", "vlanId": 10,
        "networkId": bridge["id"]}, media=BINDING)
    assert status == 201, b1
    assert (b1["portName"], b1["vlanId"], b1["networkId"], b1["vtepId"]) == (
        "swp1", 10, bridge["id"], vtep["id"])
    assert b1["uri"] == f"{vtep['uri']}/bindings/swp1/10"
    assert ok("GET", b1["uri"]) == b1
    b2 = ok("POST", str(vtep["bindings"]), {"portName": "swp2", "vlanId": "0",
                                            "networkId": bridge["id"]}, 201)
    assert ok("GET", str(vtep["bindings"])) == [b1, b2]
    # one VXLAN port on the bridge, with a VNI, whatever the number of bindings
    got = ok("GET", bridge["uri"])
    assert len(got["vxLanPortIds"]) == 1
    port = ok("GET", api_url + "/ports/" + got["vxLanPortIds"][0])
    assert (port["type"], port["vtepId"], port["bridgeId"]) == ("Vxlan", vtep["id"],
                                                                bridge["id"])
    assert port["vni"] >= 1
    # a bound VTEP and a bound bridge cannot be deleted
    assert call("DELETE", str(vtep["uri"]))[0] == 409
    assert call("DELETE", bridge["uri"])[0] == 409
    assert call("POST", str(vtep["bindings"]), {"portName": "swp1", "vlanId": 10,
                                                "networkId": bridge["id"]})[0] == 409
    ok("DELETE", b1["uri"], status=204)
    assert ok("GET", bridge["uri"])["vxLanPortIds"] == got["vxLanPortIds"]
    ok("DELETE", b2["uri"], status=204)
    assert ok("GET", bridge["uri"])["vxLanPortIds"] == []
    assert call("GET", port["uri"])[0] == 404
    assert call("GET", b1["uri"])[0] == 404
    ok("DELETE", str(vtep["uri"]), status=204)
    assert ok("GET", api_url + "/vteps") == []


@pytest.mark.parametrize(("body", "field"), [
    ({}, "tunnelZoneId"),
    ({"tunnelZoneId": "gre"}, "tunnelZoneId"),  # a zone of another type
    ({"managementIp": "192.168.2.300"}, "managementIp"),
    ({"managementPort": 70000}, "managementPort"),
])
def test_bad_vteps_are_refused_naming_the_field(api_url: str, body: dict[str, object],
                                                field: str) -> None:
    if body.get("tunnelZoneId") == "gre":
        body = {"tunnelZoneId": _zone(api_url, "gre")}
    zone = {"tunnelZoneId": _zone(api_url)} if body else {}
    full = {"managementIp": "192.168.2.10", "managementPort": 6632, **zone, **body}
    status, error = call("POST", api_url + "/vteps", full)
    assert status == 400, error
    assert error["violations"][0]["property"] == field
    assert ok("GET", api_url + "/vteps") == []


@pytest.mark.parametrize(("body", "field"), [
    ({"portName": "swp9"}, "portName"),  # the switch has no such port
    ({"vlanId": 4096}, "vlanId"),
    ({"networkId": "5d3b5c6e-0000-4000-8000-000000000000"}, "networkId"),
])
def test_bad_bindings_are_refused_naming_the_field(api_url: str, topo: Topology,
                                                   body: dict[str, object], field: str) -> None:
    vtep = _vtep(api_url, topo)
    bridge = ok("POST", api_url + "/bridges", {"name": "public"}, 201)
    status, error = call("POST", str(vtep["bindings"]), {
        "portName": "swp1", "vlanId": 10, "networkId": bridge["id"], **body})
    assert status == 400, error
    assert error["violations"][0]["property"] == field
    assert ok("GET", str(vtep["bindings"])) == []
    assert ok("GET", bridge["uri"])["vxLanPortIds"] == []


def test_flooding_proxy_weight_is_set_on_a_host(api_url: str, topo: Topology) -> None:
    host = topo.register_host("3f1c1a4e-7d0e-4c8e-9a51-6d2f0c1b2a10", "compute1")
    uri = f"{api_url}/hosts/{host['id']}"
    assert ok("GET", uri)["floodingProxyWeight"] == 1
    ok("PUT", uri, {"floodingProxyWeight": 0})
    assert ok("GET", uri)["floodingProxyWeight"] == 0
