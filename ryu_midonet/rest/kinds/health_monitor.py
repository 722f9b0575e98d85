"""Health monitors on the wire: ``/health_monitors``, with the pools they serve at
``/health_monitors/{id}/pools``. ``status`` is shown but not written by clients."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.params import uuid_param
from ryu_midonet.rest.resource import LINK, Resource, RestKind
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

RESOURCE = Resource("healthMonitor", "health_monitors", "HealthMonitor", 1)


def _dto(dtos: Dtos, dto: Obj) -> None:
    dto["pools"] = dtos.uri(RESOURCE.path, dto["id"], "pools")


def _routes(api: Api) -> None:
    """``GET /health_monitors/{id}/pools``: the pools the monitor serves."""

    def pools(req: Request) -> Reply:
        hm_id = uuid_param(req.params["id"], "healthMonitor")
        api.topo.get("healthMonitor", hm_id)
        dtos = api.dtos(req)
        return Reply(body=[dtos.of("pool", p)
                           for p in api.topo.list("pool", "healthMonitorId", hm_id)])

    pool = Resource("pool", "pools", "Pool", 1)
    api.add("GET", f"/{RESOURCE.path}/{{id}}/pools", pools, pool.collection_media,
            "List the pools a healthMonitor serves")


REST = RestKind(RESOURCE, _dto, routes=_routes, dto_fields={"pools": LINK},
                checked=("adminStateUp",))
