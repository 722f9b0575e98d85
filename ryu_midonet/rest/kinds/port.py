"""Ports on the wire, linking them, and the port groups a port belongs to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.kinds.port_group import MEMBER as PG_MEMBER
from ryu_midonet.rest.kinds.port_group import pg_member_dto
from ryu_midonet.rest.params import json_body, uuid_param
from ryu_midonet.rest.resource import (
    IGNORED,
    LINK,
    MAYBE_LINK,
    MAYBE_UUID,
    UUID,
    UUIDS,
    Resource,
    RestKind,
    Schema,
    Shape,
    Variant,
)
from ryu_midonet.rest.schemas import body_schema, dto_fields
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

RESOURCE = Resource("port", "ports", "Port", 3)


# fields of MidoNet ports this model does not store
_UNSTORED = ("bgpStatus", "rtrPortVni", "serviceContainerId", "previousHostId",
             "l2insertionInfilterId", "l2insertionOutfilterId", "qosPolicyId", "offRampVxlan")
_UNSTORED_LISTS = ("postInFilterMirrorIds", "preOutFilterMirrorIds", "insertionIds",
                   "serviceInsertionIds", "fipNatRuleIds", "traceRequestIds")


def _dto(dtos: Dtos, dto: Obj) -> None:
    pid = dto["id"]
    device_path = "bridges" if dto["type"] == "Bridge" else "routers"
    dto["device"] = dtos.uri(device_path, dto["deviceId"])
    if dto["type"] == "Bridge":
        dto["bridgeId"] = dto["deviceId"]
        if dto.get("vtepId"):
            dto["type"] = "Vxlan"  # a bridge's port to a VTEP (nsdb.kinds.vtep)
    else:
        dto["routerId"] = dto["deviceId"]
        dto["portSubnet"] = [f"{dto['networkAddress']}/{dto['networkLength']}"]
    dto["link"] = dtos.uri("ports", pid, "link")
    dto["peer"] = dtos.uri("ports", dto["peerId"]) if dto.get("peerId") else None
    dto["portGroups"] = dtos.uri("ports", pid, "port_groups")
    dto["portGroupIds"] = [pg["id"] for pg in dtos.topo.list("portGroup", "portIds", pid)]
    dto["host"] = dtos.uri("hosts", dto["hostId"]) if dto.get("hostId") else None
    dto["hostInterfacePort"] = (dtos.uri("hosts", dto["hostId"], "ports", pid)
                                if dto.get("hostId") else None)
    dto["active"] = bool(dto.get("hostId")) and dtos.topo.is_alive(dto["hostId"])
    dto.pop("linkUp", None)  # what ``active`` says to a client
    for name in _UNSTORED:
        dto.setdefault(name, None)
    for name in _UNSTORED_LISTS:
        dto.setdefault(name, [])


def _routes(api: Api) -> None:
    link_body = body_schema(PORT_LINK)

    def link(req: Request) -> Reply:
        body = json_body(req, link_body)
        port = api.topo.link(uuid_param(req.params["id"], "port"), body.get("peerId"))
        dto = link_dto(api.dtos(req), port)
        return Reply(201, dto, location=dto["uri"])

    def show_link(req: Request) -> Reply:
        port = api.topo.get("port", uuid_param(req.params["id"], "port"))
        return Reply(body=link_dto(api.dtos(req), port))

    def unlink(req: Request) -> Reply:
        api.topo.unlink(uuid_param(req.params["id"], "port"))
        return Reply(204)

    def port_groups(req: Request) -> Reply:
        port_id = uuid_param(req.params["id"], "port")
        api.topo.get("port", port_id)
        dtos = api.dtos(req)
        return Reply(body=[pg_member_dto(dtos, pg["id"], port_id)
                           for pg in api.topo.list("portGroup", "portIds", port_id)])

    api.add("GET", "/ports/{id}/link", show_link, PORT_LINK.media,
            "Show the port a port is linked to (peerId null: none)")
    api.add("POST", "/ports/{id}/link", link, PORT_LINK.media, "Link a port to a peer port")
    api.add("DELETE", "/ports/{id}/link", unlink, None, "Unlink a port")
    api.add("GET", "/ports/{id}/port_groups", port_groups, PG_MEMBER.collection_media,
            "List the port groups a port belongs to")


_ROUTER_PORT = ("portAddress", "networkAddress", "networkLength", "portMac")
_IPV4: Schema = {"type": "string", "format": "ipv4"}

REST = RestKind(
    RESOURCE, _dto, routes=_routes, hidden=("linkUp",),
    dto_fields={
        "device": LINK, "link": LINK, "peer": MAYBE_LINK, "portGroups": LINK,
        "portGroupIds": UUIDS, "host": MAYBE_LINK, "hostInterfacePort": MAYBE_LINK,
        "active": {"type": "boolean"},
        **{name: {"type": "null"} for name in _UNSTORED},
        **{name: {"type": "array", "maxItems": 0} for name in _UNSTORED_LISTS},
    },
    checked=("networkAddress", "vlanId"),  # a bridge's VLAN ids are unique
    variants={
        "bridge": Variant(absent=_ROUTER_PORT, fields={
            "type": {"enum": ["Bridge", "Vxlan"]}, "bridgeId": UUID,
            **{name: {"type": "null"} for name in _ROUTER_PORT}}),
        "router": Variant(required=("portAddress", "networkLength"), absent=("vlanId",), fields={
            "type": {"const": "Router"}, "routerId": UUID, "vlanId": {"type": "null"},
            "portAddress": _IPV4, "networkAddress": _IPV4,
            "networkLength": {"type": "integer", "minimum": 0, "maximum": 32},
            "portMac": {"type": "string", "pattern": "^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$"},
            "portSubnet": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
                "type": "string", "pattern": "^[0-9.]+/[0-9]+$"}}}),
    },
)

PORT_LINK = Resource("portLink", "link", "PortLink", 1, Shape(
    {"portId": UUID, "peerId": MAYBE_UUID, "uri": LINK, "port": LINK, "peer": MAYBE_LINK},
    # python-midonetclient posts the whole port DTO with peerId set: its fields are ignored
    inputs={**{name: IGNORED for name in dto_fields(REST)}, "peerId": UUID},
    required=("peerId",), checked=("peerId",)))


def link_dto(dtos: Dtos, port: Obj) -> Obj:
    peer = port.get("peerId")
    return {"portId": port["id"], "peerId": peer, "uri": dtos.uri("ports", port["id"], "link"),
            "port": dtos.uri("ports", port["id"]),
            "peer": dtos.uri("ports", peer) if peer else None}
