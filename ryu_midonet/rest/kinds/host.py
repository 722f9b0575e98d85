"""Hosts on the wire, their interfaces and their port bindings."""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.kinds.host import binding_view
from ryu_midonet.rest.params import json_body, uuid_param
from ryu_midonet.rest.resource import LINK, UUID, UUIDS, Resource, RestKind, Schema, Shape
from ryu_midonet.rest.schemas import body_schema
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

_INTERFACE: dict[str, Schema] = {
    "hostId": UUID, "name": {"type": ["string", "null"]},
    "mac": {"type": ["string", "null"]}, "mtu": {"type": "integer"}, "up": {"type": "boolean"},
    "hasLink": {"type": "boolean"}, "type": {"type": "string"},
    "endpoint": {"type": "string"}, "portType": {"type": ["string", "null"]},
    "addresses": {"type": "array", "items": {"type": "string"}}, "status": {"type": "integer"},
    "uri": LINK}
INTERFACE = Resource("interface", "interfaces", "Interface", 1, Shape(_INTERFACE))
# what Python's str.isspace() calls whitespace, as the store checks names with strip()
_SPACE = ("\\t\\n\\u000b\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029"
          "\\u202f\\u205f\\u3000")
_NAME: Schema = {"type": "string", "maxLength": 15,
                 "pattern": f"^[^ /\\t\\n]*[^/{_SPACE}][^ /\\t\\n]*$",
                 "description": "no space, tab, newline or slash; not only whitespace"}
BINDING = Resource("binding", "ports", "HostInterfacePort", 1, Shape(
    {"hostId": UUID, "portId": UUID, "interfaceName": _NAME, "uri": LINK, "host": LINK,
     "port": LINK},
    inputs={"portId": UUID, "interfaceName": _NAME}, required=("portId", "interfaceName"),
    checked=("portId",)))


def _dto(dtos: Dtos, dto: Obj) -> None:
    dto["alive"] = dtos.topo.is_alive(dto["id"])
    dto["hostInterfaces"] = [interface_dto(dtos, dto["id"], i) for i in dto["interfaces"]]
    dto["interfaces"] = dtos.uri("hosts", dto["id"], "interfaces")
    dto["ports"] = dtos.uri("hosts", dto["id"], "ports")
    dto["tunnelZoneIds"] = [tz["id"] for tz in dtos.topo.list("tunnelZone", "hostIds",
                                                               dto["id"])]
    dto["portIds"] = [p["id"] for p in dtos.topo.list("port", "hostId", dto["id"])]


def interface_dto(dtos: Dtos, host_id: str, iface: Obj) -> Obj:
    dto = {"hostId": host_id, "name": iface.get("name"), "mac": iface.get("mac"),
           "mtu": iface.get("mtu", 1500), "up": iface.get("up", True),
           "hasLink": iface.get("hasLink", True), "type": iface.get("type", "Virtual"),
           "endpoint": iface.get("endpoint", "DATAPATH"),
           "portType": iface.get("portType"), "addresses": iface.get("addresses", []),
           "status": iface.get("status", 0)}
    dto["uri"] = dtos.uri("hosts", host_id, "interfaces",
                          urllib.parse.quote(dto["name"] or "", safe=""))
    return dto


def binding_dto(dtos: Dtos, port: Obj) -> Obj:
    dto = binding_view(port)
    dto["uri"] = dtos.uri("hosts", port["hostId"], "ports", port["id"])
    dto["host"] = dtos.uri("hosts", port["hostId"])
    dto["port"] = dtos.uri("ports", port["id"])
    return dto


def _routes(api: Api) -> None:
    binding_body = body_schema(BINDING)

    def interfaces(req: Request) -> Reply:
        host = api.topo.get("host", uuid_param(req.params["id"], "host"))
        dtos = api.dtos(req)
        return Reply(body=[interface_dto(dtos, host["id"], i) for i in host["interfaces"]])

    def interface(req: Request) -> Reply:
        host = api.topo.get("host", uuid_param(req.params["id"], "host"))
        for iface in host["interfaces"]:
            if iface.get("name") == req.params["name"]:
                return Reply(body=interface_dto(api.dtos(req), host["id"], iface))
        raise errors.NotFound("interface", req.params["name"])

    def list_bindings(req: Request) -> Reply:
        host_id = uuid_param(req.params["id"], "host")
        api.topo.get("host", host_id)
        dtos = api.dtos(req)
        return Reply(body=[binding_dto(dtos, p)
                           for p in api.topo.list("port", "hostId", host_id)])

    def bind(req: Request) -> Reply:
        body = json_body(req, binding_body)
        view = api.topo.bind(uuid_param(req.params["id"], "host"), body.get("portId"),
                             body.get("interfaceName"))
        dto = binding_dto(api.dtos(req), api.topo.get("port", view["portId"]))
        return Reply(201, dto, location=dto["uri"])

    def get_binding(req: Request) -> Reply:
        host_id = uuid_param(req.params["id"], "host")
        port = api.topo.store.get("port", uuid_param(req.params["portId"], "port"))
        if port is None or port.get("hostId") != host_id:
            raise errors.NotFound("binding", f"{host_id}/{req.params['portId']}")
        return Reply(body=binding_dto(api.dtos(req), port))

    def unbind(req: Request) -> Reply:
        api.topo.unbind(uuid_param(req.params["id"], "host"),
                        uuid_param(req.params["portId"], "port"))
        return Reply(204)

    b, i = BINDING, INTERFACE
    api.add("GET", "/hosts/{id}/interfaces", interfaces, i.collection_media,
            "List the interfaces of a host")
    api.add("GET", "/hosts/{id}/interfaces/{name}", interface, i.media,
            "Show one interface of a host")
    api.add("GET", "/hosts/{id}/ports", list_bindings, b.collection_media,
            "List the port bindings of a host")
    api.add("POST", "/hosts/{id}/ports", bind, b.media, "Bind a port to an interface of the host")
    api.add("GET", "/hosts/{id}/ports/{portId}", get_binding, b.media, "Show a binding")
    api.add("DELETE", "/hosts/{id}/ports/{portId}", unbind, None, "Unbind a port")


REST = RestKind(Resource("host", "hosts", "Host", 3), _dto, routes=_routes, dto_fields={
    "alive": {"type": "boolean"},
    "hostInterfaces": {"type": "array", "items": {
        "type": "object", "properties": _INTERFACE, "required": list(_INTERFACE),
        "additionalProperties": False}},
    "interfaces": LINK, "ports": LINK, "tunnelZoneIds": UUIDS, "portIds": UUIDS})
