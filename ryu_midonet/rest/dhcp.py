"""DHCP subnets and hosts of bridges on the wire (MidoNet v5: DhcpSubnet-v2, DhcpHost-v2).

``/bridges/{id}/dhcp`` lists and creates subnets; a subnet is named by its prefix and length,
``/bridges/{id}/dhcp/10.0.0.0_24``, and its hosts by MAC, ``.../hosts/aa:bb:cc:dd:ee:ff``.
The store's checks (:mod:`ryu_midonet.nsdb.kinds.dhcp_subnet`, ``dhcp_host``) answer 400
naming the field.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field
from ryu_midonet.nsdb.kinds import dhcp_host, dhcp_subnet
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.rest.params import json_body, uuid_param
from ryu_midonet.rest.resource import LINK, UUID, Resource, Schema, Shape
from ryu_midonet.rest.schemas import (
    body_schema,
    input_schema,
    nullable,
    stored_schema,
    value_schema,
)
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

_IPV4 = value_schema(Field("ipv4"))


def _opt121(lenient: bool) -> Schema:
    length = value_schema(Field("int", lo=0, hi=32), lenient)
    return {"type": "object", "additionalProperties": False,
            "required": ["destinationPrefix", "destinationLength", "gatewayAddr"],
            "properties": {"destinationPrefix": _IPV4, "destinationLength": length,
                           "gatewayAddr": _IPV4}}


_EXTRA_OPT: Schema = {"type": "object", "additionalProperties": False,
                      "required": ["optName", "optValue"],
                      "properties": {"optName": {"type": "string", "minLength": 1},
                                     "optValue": {"type": "string"}}}
_LISTS: dict[str, Schema] = {
    "dnsServerAddrs": {"type": "array", "items": _IPV4},
    "opt121Routes": {"type": "array", "items": _opt121(lenient=False)},
    "extraDhcpOpts": {"type": "array", "items": _EXTRA_OPT},
}
_HIDDEN = ("bridgeId", "subnetId")  # stored, not on the wire (as upstream, which has no id)
_SUBNET_LINKS = ("uri", "hosts")


def _dto_fields(s: KindSpec, links: tuple[str, ...]) -> dict[str, Schema]:
    out: dict[str, Schema] = {"id": UUID, **{name: LINK for name in links}}
    for name, f in s.fields.items():
        if name not in _HIDDEN:
            out[name] = _LISTS.get(name) or stored_schema(f)
    return out


def _inputs(s: KindSpec) -> dict[str, Schema]:
    out = {name: nullable(_LISTS[name]) if name in _LISTS else input_schema(f)
           for name, f in s.fields.items() if f.create}
    if "opt121Routes" in out:  # as python-midonetclient sends it: lengths as strings
        out["opt121Routes"] = nullable({"type": "array", "items": _opt121(lenient=True)})
    return out


SUBNET = Resource("dhcpSubnet", "dhcp", "DhcpSubnet", 2, Shape(
    _dto_fields(dhcp_subnet.SPEC, _SUBNET_LINKS), inputs=_inputs(dhcp_subnet.SPEC),
    required=("subnetPrefix", "subnetLength"),
    checked=("subnetPrefix", "interfaceMTU", "opt121Routes")))
HOST = Resource("dhcpHost", "hosts", "DhcpHost", 2, Shape(
    _dto_fields(dhcp_host.SPEC, ("uri",)), inputs=_inputs(dhcp_host.SPEC),
    required=("macAddr", "ipAddr"), checked=("macAddr", "ipAddr")))

_SUBNET_SEGMENT = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3})_(\d{1,2})$")
_MAC_SEGMENT = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")


def subnet_segment(subnet: Obj) -> str:
    """How a subnet is named in its URI: ``10.0.0.0_24``."""
    return f"{subnet['subnetPrefix']}_{subnet['subnetLength']}"


def subnet_dto(dtos: Dtos, subnet: Obj) -> Obj:
    dto = {k: v for k, v in subnet.items() if k not in _HIDDEN}
    dto["uri"] = dtos.uri("bridges", subnet["bridgeId"], "dhcp", subnet_segment(subnet))
    dto["hosts"] = dto["uri"] + "/hosts"
    return dto


def host_dto(dtos: Dtos, subnet: Obj, host: Obj) -> Obj:
    dto = {k: v for k, v in host.items() if k not in _HIDDEN}
    dto["uri"] = dtos.uri("bridges", subnet["bridgeId"], "dhcp", subnet_segment(subnet),
                          "hosts", host["macAddr"])
    return dto


def find_subnet(api: Api, req: Request) -> Obj:
    """The subnet the path names (404 if none, or if the bridge does not exist)."""
    bridge_id = uuid_param(req.params["id"], "bridge")
    api.topo.get("bridge", bridge_id)
    segment = req.params["subnet"]
    m = _SUBNET_SEGMENT.fullmatch(segment)
    if m is None:
        raise errors.NotFound("DHCP subnet", segment)
    try:
        net = ipaddress.IPv4Network(f"{m[1]}/{m[2]}", strict=False)
    except ValueError:
        raise errors.NotFound("DHCP subnet", segment) from None
    for subnet in api.topo.list("dhcpSubnet", "bridgeId", bridge_id):
        if dhcp_subnet.network(subnet) == net:
            return subnet
    raise errors.NotFound("DHCP subnet", f"{segment} of bridge {bridge_id}")


def find_host(api: Api, req: Request, subnet: Obj) -> Obj:
    """The host of ``subnet`` the path names by MAC (404 if none)."""
    mac = req.params["mac"]
    if _MAC_SEGMENT.fullmatch(mac) is None:
        raise errors.NotFound("DHCP host", mac)
    mac = mac.replace("-", ":").lower()
    for host in api.topo.list("dhcpHost", "subnetId", subnet["id"]):
        if host["macAddr"] == mac:
            return host
    raise errors.NotFound("DHCP host", f"{mac} in subnet {subnet_segment(subnet)}")


def _without_id(body: Obj) -> Obj:
    """A create body less the DTO's ``id``, which a client sends back and cannot choose."""
    return {k: v for k, v in body.items() if k != "id"}


def register(api: Api) -> None:
    """Add the DHCP routes to ``api``."""
    subnet_body, host_body = body_schema(SUBNET), body_schema(HOST)

    def list_subnets(req: Request) -> Reply:
        bridge_id = uuid_param(req.params["id"], "bridge")
        api.topo.get("bridge", bridge_id)
        dtos = api.dtos(req)
        return Reply(body=[subnet_dto(dtos, s)
                           for s in api.topo.list("dhcpSubnet", "bridgeId", bridge_id)])

    def create_subnet(req: Request) -> Reply:
        bridge_id = uuid_param(req.params["id"], "bridge")
        api.topo.get("bridge", bridge_id)
        subnet = api.topo.create("dhcpSubnet", _without_id(json_body(req, subnet_body)),
                                 bridge_id)
        dto = subnet_dto(api.dtos(req), subnet)
        return Reply(201, dto, location=dto["uri"])

    def get_subnet(req: Request) -> Reply:
        return Reply(body=subnet_dto(api.dtos(req), find_subnet(api, req)))

    def update_subnet(req: Request) -> Reply:
        subnet = find_subnet(api, req)
        body = json_body(req, subnet_body)
        return Reply(body=subnet_dto(api.dtos(req),
                                     api.topo.update("dhcpSubnet", subnet["id"], body)))

    def delete_subnet(req: Request) -> Reply:
        api.topo.delete("dhcpSubnet", find_subnet(api, req)["id"])
        return Reply(204)

    def list_hosts(req: Request) -> Reply:
        subnet = find_subnet(api, req)
        dtos = api.dtos(req)
        return Reply(body=[host_dto(dtos, subnet, h)
                           for h in api.topo.list("dhcpHost", "subnetId", subnet["id"])])

    def create_host(req: Request) -> Reply:
        subnet = find_subnet(api, req)
        host = api.topo.create("dhcpHost", _without_id(json_body(req, host_body)),
                               subnet["id"])
        dto = host_dto(api.dtos(req), subnet, host)
        return Reply(201, dto, location=dto["uri"])

    def get_host(req: Request) -> Reply:
        subnet = find_subnet(api, req)
        return Reply(body=host_dto(api.dtos(req), subnet, find_host(api, req, subnet)))

    def update_host(req: Request) -> Reply:
        subnet = find_subnet(api, req)
        host = find_host(api, req, subnet)
        body = json_body(req, host_body)
        return Reply(body=host_dto(api.dtos(req), subnet,
                                   api.topo.update("dhcpHost", host["id"], body)))

    def delete_host(req: Request) -> Reply:
        subnet = find_subnet(api, req)
        api.topo.delete("dhcpHost", find_host(api, req, subnet)["id"])
        return Reply(204)

    subnets, one = "/bridges/{id}/dhcp", "/bridges/{id}/dhcp/{subnet}"
    api.add("GET", subnets, list_subnets, SUBNET.collection_media,
            "List the DHCP subnets of a bridge")
    api.add("POST", subnets, create_subnet, SUBNET.media, "Add a DHCP subnet to a bridge")
    api.add("GET", one, get_subnet, SUBNET.media, "Show a DHCP subnet (named prefix_length)")
    api.add("PUT", one, update_subnet, SUBNET.media, "Update a DHCP subnet")
    api.add("DELETE", one, delete_subnet, None, "Delete a DHCP subnet and its hosts")
    hosts, host = f"{one}/hosts", f"{one}/hosts/{{mac}}"
    api.add("GET", hosts, list_hosts, HOST.collection_media, "List the hosts of a DHCP subnet")
    api.add("POST", hosts, create_host, HOST.media, "Add a host to a DHCP subnet")
    api.add("GET", host, get_host, HOST.media, "Show a DHCP host (named by MAC)")
    api.add("PUT", host, update_host, HOST.media, "Update a DHCP host")
    api.add("DELETE", host, delete_host, None, "Delete a DHCP host")
