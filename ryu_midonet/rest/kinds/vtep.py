"""VTEPs on the wire, as python-midonetclient 5.2.0 reads and writes them.

``/vteps`` (media type ``VTEP-v2``): ``managementIp``, ``managementPort`` and ``tunnelZoneId``
given on create; ``name``, ``description``, ``tunnelIpAddrs`` and ``connectionState`` as the
switch reports them. ``/vteps/{id}/bindings`` (``VTEPBinding-v2``): ``portName``, ``vlanId``
and ``networkId``, each at ``/vteps/{id}/bindings/{name}/{vlan}``. ``/vteps/{id}/ports``
(``VTEPPort-v1``): the switch's physical ports."""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING

from ryu_midonet.nsdb import errors
from ryu_midonet.rest.params import json_body, uuid_param
from ryu_midonet.rest.resource import IGNORED, LINK, UUID, Resource, RestKind, Schema, Shape
from ryu_midonet.rest.schemas import body_schema
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

_VLAN: Schema = {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 4095},
                           {"type": "string", "pattern": "^(0|[1-9][0-9]{0,3})$"}],
                 "description": "0 to 4095 (also as text, as midonet-cli sends it)"}
_PORT_NAME: Schema = {"type": "string", "minLength": 1, "pattern": "\\S"}
BINDING = Resource("vtepBinding", "bindings", "VTEPBinding", 2, Shape(
    {"uri": LINK, "vtepId": UUID, "mgmtIp": {"type": "null"}, "portName": _PORT_NAME,
     "vlanId": {"type": "integer", "minimum": 0, "maximum": 4095}, "networkId": UUID},
    # python-midonetclient posts the VTEP's management IP along (as mgmtIp or mgmtIP)
    inputs={"portName": _PORT_NAME, "vlanId": _VLAN, "networkId": UUID, "mgmtIp": IGNORED,
            "mgmtIP": IGNORED},
    required=("portName", "vlanId", "networkId"),
    checked=("portName", "vlanId", "networkId")))
PORT = Resource("vtepPort", "ports", "VTEPPort", 1, Shape(
    {"name": {"type": "string"}, "description": {"type": ["string", "null"]}}))


def _dto(dtos: Dtos, dto: Obj) -> None:
    dto["bindings"] = dtos.uri("vteps", dto["id"], "bindings")
    dto["ports"] = dtos.uri("vteps", dto["id"], "ports")
    dto["connectionState"] = dto.get("connectionState") or "DISCONNECTED"
    for name in ("portVlanBindings", "bridgeIds", "physicalPorts"):
        dto.pop(name, None)


def binding_dto(dtos: Dtos, vtep_id: str, binding: Obj) -> Obj:
    name = urllib.parse.quote(binding["portName"], safe="")
    return {"uri": dtos.uri("vteps", vtep_id, "bindings", name, binding["vlanId"]),
            "vtepId": vtep_id, "mgmtIp": None, "portName": binding["portName"],
            "vlanId": binding["vlanId"], "networkId": binding["networkId"]}


def _vlan_param(value: str) -> int:
    if not value.isdigit() or int(value) > 4095:
        raise errors.NotFound("VTEP binding", value)
    return int(value)


def _routes(api: Api) -> None:
    body = body_schema(BINDING)

    def list_bindings(req: Request) -> Reply:
        vtep = api.topo.get("vtep", uuid_param(req.params["id"], "vtep"))
        dtos = api.dtos(req)
        return Reply(body=[binding_dto(dtos, vtep["id"], b) for b in vtep["portVlanBindings"]])

    def add_binding(req: Request) -> Reply:
        vtep_id = uuid_param(req.params["id"], "vtep")
        api.topo.get("vtep", vtep_id)
        given = json_body(req, body)
        made = api.topo.add_vtep_binding(vtep_id, given.get("portName"), given.get("vlanId"),
                                         given.get("networkId"))
        dto = binding_dto(api.dtos(req), vtep_id, made)
        return Reply(201, dto, location=dto["uri"])

    def get_binding(req: Request) -> Reply:
        vtep_id = uuid_param(req.params["id"], "vtep")
        binding = api.topo.vtep_binding(vtep_id, urllib.parse.unquote(req.params["name"]),
                                        _vlan_param(req.params["vlan"]))
        return Reply(body=binding_dto(api.dtos(req), vtep_id, binding))

    def remove_binding(req: Request) -> Reply:
        api.topo.remove_vtep_binding(uuid_param(req.params["id"], "vtep"),
                                     urllib.parse.unquote(req.params["name"]),
                                     _vlan_param(req.params["vlan"]))
        return Reply(204)

    def ports(req: Request) -> Reply:
        vtep = api.topo.get("vtep", uuid_param(req.params["id"], "vtep"))
        return Reply(body=[{"name": str(p.get("name")), "description": p.get("description")}
                           for p in vtep["physicalPorts"]])

    b = BINDING
    one = "/vteps/{id}/bindings/{name}/{vlan}"
    api.add("GET", "/vteps/{id}/bindings", list_bindings, b.collection_media,
            "List the port-VLAN bindings of a VTEP")
    api.add("POST", "/vteps/{id}/bindings", add_binding, b.media,
            "Bind a port and VLAN of a VTEP to a bridge")
    api.add("GET", one, get_binding, b.media, "Show a VTEP binding")
    api.add("DELETE", one, remove_binding, None, "Delete a VTEP binding")
    api.add("GET", "/vteps/{id}/ports", ports, PORT.collection_media,
            "List the physical ports of a VTEP")


REST = RestKind(Resource("vtep", "vteps", "VTEP", 2), _dto, routes=_routes,
                dto_fields={"bindings": LINK, "ports": LINK},
                hidden=("portVlanBindings", "bridgeIds", "physicalPorts"),
                checked=("tunnelZoneId",))
