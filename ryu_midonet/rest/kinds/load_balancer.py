"""Load balancers on the wire: ``/load_balancers``, with their pools and VIPs as links."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.params import uuid_param
from ryu_midonet.rest.resource import LINK, MAYBE_LINK, Resource, RestKind
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

RESOURCE = Resource("loadBalancer", "load_balancers", "LoadBalancer", 1)


def link(dtos: Dtos, lb_id: str | None) -> str | None:
    """The URI of a load balancer (None for none)."""
    return dtos.uri(RESOURCE.path, lb_id) if lb_id else None


def _dto(dtos: Dtos, dto: Obj) -> None:
    router = dto.get("routerId")
    dto["router"] = dtos.uri("routers", router) if router else None
    dto["pools"] = dtos.uri(RESOURCE.path, dto["id"], "pools")
    dto["vips"] = dtos.uri(RESOURCE.path, dto["id"], "vips")


def _routes(api: Api) -> None:
    """``GET /load_balancers/{id}/vips``: the VIPs of every pool of the load balancer."""

    def vips(req: Request) -> Reply:
        lb_id = uuid_param(req.params["id"], "loadBalancer")
        api.topo.get("loadBalancer", lb_id)
        dtos = api.dtos(req)
        return Reply(body=[dtos.of("vip", v)
                           for v in api.topo.list("vip", "loadBalancerId", lb_id)])

    vip = Resource("vip", "vips", "VIP", 1)
    api.add("GET", f"/{RESOURCE.path}/{{id}}/vips", vips, vip.collection_media,
            "List the VIPs of a loadBalancer")


REST = RestKind(RESOURCE, _dto, routes=_routes,
                dto_fields={"router": MAYBE_LINK, "pools": LINK, "vips": LINK})
