"""Every URI the API hands out answers: the root document's and every DTO's, of every kind.

A topology with one object of every kind (and every member resource) is built over HTTP; then
every URI in the root document and in every reply is followed, breadth first, until no new URI
turns up. Each must answer 200 (URI templates, holding ``{id}``, are not followed).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.rest.kinds import RESOURCES
from tests.integration.rest_call import call

pytestmark = pytest.mark.integration

HOST_ID = str(uuid.uuid5(uuid.NAMESPACE_DNS, "api-links.host"))


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    status, dto = call("POST", url, body)
    assert status == 201, (url, body, dto)
    return dto


def _uris(value: Any, base: str) -> list[str]:
    """Every URI under ``base`` in a JSON value."""
    if isinstance(value, str):
        return [value] if value.startswith(base + "/") or value == base else []
    if isinstance(value, dict):
        return [u for v in value.values() for u in _uris(v, base)]
    if isinstance(value, list):
        return [u for v in value for u in _uris(v, base)]
    return []


def _build(api: str, redis_url: str) -> None:
    topo = Topology(Store.from_url(redis_url))
    topo.register_host(HOST_ID, "links", addresses=["192.0.2.20"], interfaces=[
        {"name": "eth0", "mac": "02:00:00:00:00:02", "addresses": ["192.0.2.20"]}])
    chain = _post(f"{api}/chains", {"name": "in", "tenantId": "t1"})
    _post(chain["rules"], {"type": "accept", "nwProto": 6, "tpDst": {"start": 22, "end": 22}})
    bridge = _post(f"{api}/bridges", {"name": "b", "tenantId": "t1",
                                      "inboundFilterId": chain["id"]})
    router = _post(f"{api}/routers", {"name": "r", "tenantId": "t1", "asNumber": 64512,
                                      "outboundFilterId": chain["id"]})
    bport = _post(bridge["ports"], {"vlanId": 3})
    rport = _post(router["ports"], {"portAddress": "10.0.0.1", "networkLength": 24})
    _post(rport["link"], {"peerId": bport["id"]})
    uplink = _post(router["ports"], {"portAddress": "192.0.2.1", "networkLength": 24})
    _post(router["routes"], {"dstNetworkAddr": "0.0.0.0", "dstNetworkLength": 0,
                             "nextHopPort": uplink["id"], "nextHopGateway": "192.0.2.254"})
    _post(router["bgpPeers"], {"asNumber": 64513, "address": "192.0.2.254"})
    _post(router["bgpNetworks"], {"subnetAddress": "10.0.0.0", "subnetLength": 24})
    lb = _post(f"{api}/load_balancers", {"routerId": router["id"]})
    monitor = _post(f"{api}/health_monitors", {"delay": 1, "timeout": 1, "maxRetries": 1})
    pool = _post(lb["pools"], {"lbMethod": "ROUND_ROBIN", "healthMonitorId": monitor["id"]})
    _post(pool["poolMembers"], {"address": "10.0.0.5", "protocolPort": 80})
    _post(pool["vips"], {"address": "192.0.2.80", "protocolPort": 80})
    zone = _post(f"{api}/tunnel_zones", {"name": "tz"})
    _post(zone["hosts"], {"hostId": HOST_ID, "ipAddress": "192.0.2.20"})
    edge = _post(bridge["ports"], {})
    _post(f"{api}/hosts/{HOST_ID}/ports", {"portId": edge["id"], "interfaceName": "eth0"})
    group = _post(f"{api}/port_groups", {"name": "pg", "tenantId": "t1"})
    _post(group["ports"], {"portId": edge["id"]})
    addrs = _post(f"{api}/ip_addr_groups", {"name": "ipg", "tenantId": "t1"})
    _post(addrs["addrs"], {"addr": "10.0.0.5"})
    _post(addrs["addrs"], {"addr": "fd00::5"})
    _post(f"{api}/traces", {"deviceType": "BRIDGE", "deviceId": bridge["id"]})
    sf = _post(bridge["ports"], {})
    pair = _post(f"{api}/sfc/port_pairs", {"ingress": sf["id"], "egress": sf["id"]})
    group = _post(f"{api}/sfc/port_pair_groups", {"port_pairs": [pair["id"]]})
    fc = _post(f"{api}/sfc/flow_classifiers", {"logical_source_port": edge["id"]})
    _post(f"{api}/sfc/port_chains", {"port_pair_groups": [group["id"]],
                                     "flow_classifiers": [fc["id"]]})
    _post(f"{api}/l2insertions", {"portId": _post(bridge["ports"], {})["id"],
                                  "srvPortId": _post(bridge["ports"], {})["id"],
                                  "mac": "fa:16:3e:a4:dd:58"})
    vzone = _post(f"{api}/tunnel_zones", {"name": "vz", "type": "vtep"})
    vtep = _post(f"{api}/vteps", {"managementIp": "192.0.2.30", "managementPort": 6632,
                                  "tunnelZoneId": vzone["id"]})
    topo.set_vtep_switch_state(vtep["id"], physicalPorts=[{"name": "swp1"}])
    _post(vtep["bindings"], {"portName": "swp1", "vlanId": 10, "networkId": bridge["id"]})


def test_every_uri_in_the_root_and_the_dtos_answers(api_url: str, redis_url: str) -> None:
    _build(api_url, redis_url)
    status, root = call("GET", api_url + "/")
    assert status == 200
    seen: set[str] = set()
    todo = [u for u in _uris(root, api_url) if "{" not in u]
    kinds_seen: set[str] = set()
    while todo:
        uri = todo.pop(0)
        if uri in seen:
            continue
        seen.add(uri)
        status, body = call("GET", uri)
        assert status == 200, f"GET {uri} answered {status}: {body}"
        for dto in body if isinstance(body, list) else [body]:
            kinds_seen.update(rk.kind for rk in RESOURCES
                              if isinstance(dto, dict)
                              and dto.get("uri", "").startswith(
                                  f"{api_url}/{rk.resource.path}/"))
        todo += [u for u in _uris(body, api_url) if u not in seen and "{" not in u]
    assert kinds_seen == {rk.kind for rk in RESOURCES}, "a kind was never reached"
    for member in ("/link", "/interfaces/eth0", f"/hosts/{HOST_ID}/ports/",
                   f"/hosts/{HOST_ID}/interfaces", "/versions/6/ip_addrs/fd00%3A%3A5",
                   "/port_groups/", "/peer_ports", "/tenants/t1", "/system_state",
                   "/write_version"):
        assert any(member in u for u in seen), f"no URI with {member} was followed"
    assert any("/tunnel_zones/" in u and u.endswith(f"/hosts/{HOST_ID}") for u in seen)
