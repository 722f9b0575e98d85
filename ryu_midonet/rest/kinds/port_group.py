"""Port groups on the wire, and their member ports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.nsdb import errors
from ryu_midonet.rest.params import json_body, uuid_param
from ryu_midonet.rest.resource import LINK, UUID, Resource, RestKind, Shape
from ryu_midonet.rest.schemas import body_schema
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

MEMBER = Resource("portGroupPort", "ports", "PortGroupPort", 1, Shape(
    {"portGroupId": UUID, "portId": UUID, "uri": LINK, "portGroup": LINK, "port": LINK},
    inputs={"portId": UUID}, required=("portId",), checked=("portId",)))


def _dto(dtos: Dtos, dto: Obj) -> None:
    dto["ports"] = dtos.uri("port_groups", dto["id"], "ports")


def pg_member_dto(dtos: Dtos, pg_id: str, port_id: str) -> Obj:
    return {"portGroupId": pg_id, "portId": port_id,
            "uri": dtos.uri("port_groups", pg_id, "ports", port_id),
            "portGroup": dtos.uri("port_groups", pg_id),
            "port": dtos.uri("ports", port_id)}


def _routes(api: Api) -> None:
    member_body = body_schema(MEMBER)

    def list_members(req: Request) -> Reply:
        pg = api.topo.get("portGroup", uuid_param(req.params["id"], "portGroup"))
        dtos = api.dtos(req)
        return Reply(body=[pg_member_dto(dtos, pg["id"], p) for p in pg["portIds"]])

    def add_member(req: Request) -> Reply:
        pg_id = uuid_param(req.params["id"], "portGroup")
        body = json_body(req, member_body)
        view = api.topo.add_port_group_member(pg_id, body.get("portId"))
        dto = pg_member_dto(api.dtos(req), pg_id, view["portId"])
        return Reply(201, dto, location=dto["uri"])

    def get_member(req: Request) -> Reply:
        pg = api.topo.get("portGroup", uuid_param(req.params["id"], "portGroup"))
        port_id = uuid_param(req.params["portId"], "port")
        if port_id not in pg["portIds"]:
            raise errors.NotFound("port group member", f"{pg['id']}/{port_id}")
        return Reply(body=pg_member_dto(api.dtos(req), pg["id"], port_id))

    def remove_member(req: Request) -> Reply:
        api.topo.remove_port_group_member(uuid_param(req.params["id"], "portGroup"),
                                          uuid_param(req.params["portId"], "port"))
        return Reply(204)

    m = MEMBER
    api.add("GET", "/port_groups/{id}/ports", list_members, m.collection_media,
            "List the member ports of a port group")
    api.add("POST", "/port_groups/{id}/ports", add_member, m.media, "Add a port to a port group")
    api.add("GET", "/port_groups/{id}/ports/{portId}", get_member, m.media,
            "Show a port group member")
    api.add("DELETE", "/port_groups/{id}/ports/{portId}", remove_member, None,
            "Remove a port from a port group")


REST = RestKind(Resource("portGroup", "port_groups", "PortGroup", 1), _dto, routes=_routes,
                dto_fields={"ports": LINK})
