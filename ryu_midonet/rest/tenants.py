"""``/tenants``: the tenants that own objects (derived; there is no tenant object)."""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING

from ryu_midonet.nsdb import errors
from ryu_midonet.rest.resource import Resource
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

TENANT = Resource("tenant", "tenants", "Tenant", 2)


def tenant_dto(dtos: Dtos, tenant_id: str) -> Obj:
    quoted = urllib.parse.quote(tenant_id, safe="")
    q = f"?tenant_id={quoted}"
    return {"id": tenant_id, "name": tenant_id, "description": None, "enabled": True,
            "uri": dtos.uri("tenants", quoted),
            "bridges": dtos.uri("bridges") + q, "routers": dtos.uri("routers") + q,
            "chains": dtos.uri("chains") + q, "portGroups": dtos.uri("port_groups") + q}


def register(api: Api) -> None:
    """Add the tenant routes to ``api``."""

    def list_tenants(req: Request) -> Reply:
        dtos = api.dtos(req)
        return Reply(body=[tenant_dto(dtos, t) for t in api.topo.tenants()])

    def get_tenant(req: Request) -> Reply:
        tenant = req.params["id"]
        if tenant not in api.topo.tenants():
            raise errors.NotFound("tenant", tenant)
        return Reply(body=tenant_dto(api.dtos(req), tenant))

    api.add("GET", "/tenants", list_tenants, TENANT.collection_media,
            "List the tenants that own objects")
    api.add("GET", "/tenants/{id}", get_tenant, TENANT.media, "Show a tenant")
