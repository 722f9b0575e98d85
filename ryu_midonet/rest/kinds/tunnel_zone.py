"""Tunnel zones on the wire, and their member hosts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.nsdb.kinds.tunnel_zone import member_view
from ryu_midonet.rest.params import json_body, uuid_param
from ryu_midonet.rest.resource import LINK, UUID, Resource, RestKind, Schema, Shape
from ryu_midonet.rest.schemas import body_schema
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

_IPV4: Schema = {"type": "string", "format": "ipv4"}
_MEMBER = Shape({"tunnelZoneId": UUID, "hostId": UUID, "ipAddress": _IPV4, "uri": LINK,
                 "tunnelZone": LINK, "host": LINK},
                inputs={"hostId": UUID, "ipAddress": _IPV4}, required=("hostId", "ipAddress"),
                checked=("hostId",))
MEMBER = Resource("tunnelZoneHost", "hosts", "TunnelZoneHost", 1, _MEMBER)
GRE_MEMBER = Resource("tunnelZoneHost", "hosts", "GreTunnelZoneHost", 1, _MEMBER)


def _dto(dtos: Dtos, dto: Obj) -> None:
    dto["hosts"] = dtos.uri("tunnel_zones", dto["id"], "hosts")
    dto.pop("hostIds", None)


def member_dto(dtos: Dtos, tz: Obj, host_id: str) -> Obj:
    dto = member_view(tz, host_id)
    dto["uri"] = dtos.uri("tunnel_zones", tz["id"], "hosts", host_id)
    dto["tunnelZone"] = dtos.uri("tunnel_zones", tz["id"])
    dto["host"] = dtos.uri("hosts", host_id)
    return dto


def _routes(api: Api) -> None:
    member_body = body_schema(MEMBER)

    def list_members(req: Request) -> Reply:
        tz = api.topo.get("tunnelZone", uuid_param(req.params["id"], "tunnelZone"))
        dtos = api.dtos(req)
        return Reply(body=[member_dto(dtos, tz, m["hostId"]) for m in tz["tzHosts"]])

    def add_member(req: Request) -> Reply:
        body = json_body(req, member_body)
        tz_id = uuid_param(req.params["id"], "tunnelZone")
        view = api.topo.add_tunnel_zone_member(tz_id, body.get("hostId"), body.get("ipAddress"))
        dto = member_dto(api.dtos(req), api.topo.get("tunnelZone", tz_id), view["hostId"])
        return Reply(201, dto, location=dto["uri"])

    def get_member(req: Request) -> Reply:
        tz = api.topo.get("tunnelZone", uuid_param(req.params["id"], "tunnelZone"))
        return Reply(body=member_dto(api.dtos(req), tz,
                                     uuid_param(req.params["hostId"], "host")))

    def remove_member(req: Request) -> Reply:
        api.topo.remove_tunnel_zone_member(uuid_param(req.params["id"], "tunnelZone"),
                                           uuid_param(req.params["hostId"], "host"))
        return Reply(204)

    m, gre = MEMBER, GRE_MEMBER
    api.add("GET", "/tunnel_zones/{id}/hosts", list_members, m.collection_media,
            "List the members of a tunnel zone", accepts=(gre.collection_media,))
    api.add("POST", "/tunnel_zones/{id}/hosts", add_member, m.media,
            "Add a host to a tunnel zone", accepts=(gre.media,))
    api.add("GET", "/tunnel_zones/{id}/hosts/{hostId}", get_member, m.media,
            "Show a tunnel zone member", accepts=(gre.media,))
    api.add("DELETE", "/tunnel_zones/{id}/hosts/{hostId}", remove_member, None,
            "Remove a host from a tunnel zone")


REST = RestKind(Resource("tunnelZone", "tunnel_zones", "TunnelZone", 1), _dto, routes=_routes,
                dto_fields={"hosts": LINK, "tzHosts": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["hostId", "ipAddress"],
                    "properties": {"hostId": UUID, "ipAddress": _IPV4}}}},
                hidden=("hostIds",))
