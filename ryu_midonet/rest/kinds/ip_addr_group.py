"""IP address groups on the wire, and their addresses."""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING

from ryu_midonet.nsdb import errors
from ryu_midonet.rest.params import json_body, uuid_param
from ryu_midonet.rest.resource import LINK, UUID, Resource, RestKind, Schema, Shape
from ryu_midonet.rest.schemas import body_schema
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

_ADDR: Schema = {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
_VERSION: Schema = {"type": "integer", "enum": [4, 6]}
ADDR = Resource("ipAddrGroupAddr", "ip_addrs", "IpAddrGroupAddr", 1, Shape(
    {"ipAddrGroupId": UUID, "addr": _ADDR, "version": _VERSION, "uri": LINK,
     "ipAddrGroup": LINK},
    inputs={"addr": _ADDR, "version": {**_VERSION, "type": ["integer", "null"],
                                       "enum": [4, 6, None],
                                       "description": "the address's family, if given"}},
    required=("addr",), checked=("version",)))


def _dto(dtos: Dtos, dto: Obj) -> None:
    dto["addrs"] = dtos.uri("ip_addr_groups", dto["id"], "ip_addrs")
    dto["ipAddrPorts"] = [{"addr": a, "ports": []} for a in dto.get("addresses", [])]


def addr_dto(dtos: Dtos, group_id: str, addr: str) -> Obj:
    version = 6 if ":" in addr else 4
    return {"ipAddrGroupId": group_id, "addr": addr, "version": version,
            "uri": dtos.uri("ip_addr_groups", group_id, "versions", version, "ip_addrs",
                            urllib.parse.quote(addr, safe="")),
            "ipAddrGroup": dtos.uri("ip_addr_groups", group_id)}


def _check_version(req: Request) -> None:
    version, addr = req.params["version"], req.params["addr"]
    if version not in ("4", "6"):
        raise errors.InvalidInput("version", f"invalid IP version: {version}")
    if (":" in addr) != (version == "6"):
        raise errors.NotFound("address", addr)


def _family(addr: str) -> int:
    return 6 if ":" in addr else 4


def _routes(api: Api) -> None:
    addr_body = body_schema(ADDR)

    def list_addrs(req: Request) -> Reply:
        group = api.topo.get("ipAddrGroup", uuid_param(req.params["id"], "ipAddrGroup"))
        dtos = api.dtos(req)
        return Reply(body=[addr_dto(dtos, group["id"], a) for a in group["addresses"]])

    def add_addr(req: Request) -> Reply:
        group_id = uuid_param(req.params["id"], "ipAddrGroup")
        body = json_body(req, addr_body)
        version = body.get("version")
        if version is not None and version != _family(body["addr"]):
            raise errors.InvalidInput("version", f"{body['addr']} is not an IPv{version} address")
        addr = api.topo.add_ip_addr(group_id, body["addr"])
        dto = addr_dto(api.dtos(req), group_id, addr)
        return Reply(201, dto, location=dto["uri"])

    def get_addr(req: Request) -> Reply:
        group = api.topo.get("ipAddrGroup", uuid_param(req.params["id"], "ipAddrGroup"))
        _check_version(req)
        addr = req.params["addr"]
        if addr not in group["addresses"]:
            raise errors.NotFound("address", addr)
        return Reply(body=addr_dto(api.dtos(req), group["id"], addr))

    def remove_addr(req: Request) -> Reply:
        _check_version(req)
        api.topo.remove_ip_addr(uuid_param(req.params["id"], "ipAddrGroup"), req.params["addr"])
        return Reply(204)

    api.add("GET", "/ip_addr_groups/{id}/ip_addrs", list_addrs, ADDR.collection_media,
            "List the addresses of an IP address group")
    api.add("POST", "/ip_addr_groups/{id}/ip_addrs", add_addr, ADDR.media,
            "Add an address to an IP address group")
    tmpl = "/ip_addr_groups/{id}/versions/{version}/ip_addrs/{addr}"
    api.add("GET", tmpl, get_addr, ADDR.media, "Show an address of a group")
    api.add("DELETE", tmpl, remove_addr, None, "Remove an address from a group")


REST = RestKind(Resource("ipAddrGroup", "ip_addr_groups", "IpAddrGroup", 1), _dto,
                routes=_routes, dto_fields={"addrs": LINK, "ipAddrPorts": {
                    "type": "array", "items": {
                        "type": "object", "required": ["addr", "ports"],
                        "additionalProperties": False,
                        "properties": {"addr": _ADDR, "ports": {"type": "array", "maxItems": 0}}}}})
