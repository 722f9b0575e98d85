"""The routes every kind gets from its specs: list, show, create, update, delete, nested."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.nsdb.schema import spec
from ryu_midonet.rest.kinds import BY_KIND
from ryu_midonet.rest.params import body_id, json_body, uuid_param
from ryu_midonet.rest.resource import RestKind
from ryu_midonet.rest.schemas import create_schema, update_schema
from ryu_midonet.rest.wsgi import Handler, Reply, Request
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api


def register(api: Api, rk: RestKind) -> None:
    """``/<kinds>`` and ``/<kinds>/{id}`` of one kind."""
    kind, res, s = rk.kind, rk.resource, spec(rk.kind)
    coll, item = f"/{res.path}", f"/{res.path}/{{id}}"
    if rk.listed:
        api.add("GET", coll, _list(api, kind), res.collection_media, f"List {res.path}")
    if s.creatable and (not s.parents or rk.created_alone):
        api.add("POST", coll, _create(api, rk), res.media, f"Create a {kind}")
    api.add("GET", item, _get(api, kind), res.media, f"Show a {kind}")
    if s.updatable:
        api.add("PUT", item, _update(api, rk), res.media, f"Update a {kind}")
    api.add("DELETE", item, _delete(api, kind), None, f"Delete a {kind}")


def register_nested(api: Api, rk: RestKind) -> None:
    """``/<parents>/{id}/<kinds>``: listing and creating a kind in each of its parents."""
    child, cres = rk.kind, rk.resource
    for parent in spec(child).parents:
        tmpl = f"/{BY_KIND[parent].resource.path}/{{id}}/{cres.path}"
        api.add("GET", tmpl, _list_children(api, parent, rk), cres.collection_media,
                f"List the {cres.path} of a {parent}")
        api.add("POST", tmpl, _create_child(api, parent, rk), cres.media,
                f"Create a {child} in a {parent}")


def _list(api: Api, kind: str) -> Handler:
    tenant_kind = spec(kind).tenant

    def handler(req: Request) -> Reply:
        tenant = req.query.get("tenant_id")
        if tenant and tenant_kind:
            objs = api.topo.list(kind, "tenantId", tenant)
        else:
            objs = api.topo.list(kind)
        dtos = api.dtos(req)
        return Reply(body=[dtos.of(kind, o) for o in objs])

    return handler


def _get(api: Api, kind: str) -> Handler:
    def handler(req: Request) -> Reply:
        obj = api.topo.get(kind, uuid_param(req.params["id"], kind))
        return Reply(body=api.dtos(req).of(kind, obj))

    return handler


def _created(api: Api, req: Request, kind: str, obj: Obj) -> Reply:
    dto = api.dtos(req).of(kind, obj)
    return Reply(201, dto, location=dto["uri"])


def _create(api: Api, rk: RestKind) -> Handler:
    kind, schema = rk.kind, create_schema(rk)

    def handler(req: Request) -> Reply:
        body = json_body(req, schema)
        body_id(body)
        return _created(api, req, kind, api.topo.create(kind, body))

    return handler


def _create_child(api: Api, parent: str, rk: RestKind) -> Handler:
    child, schema = rk.kind, create_schema(rk, parent)

    def handler(req: Request) -> Reply:
        parent_id = uuid_param(req.params["id"], parent)
        api.topo.get(parent, parent_id)
        body = json_body(req, schema)
        body_id(body)
        return _created(api, req, child, api.topo.create(child, body, parent_id))

    return handler


def _list_children(api: Api, parent: str, rk: RestKind) -> Handler:
    child = rk.kind
    field = spec(child).parent_field

    def handler(req: Request) -> Reply:
        parent_id = uuid_param(req.params["id"], parent)
        api.topo.get(parent, parent_id)
        if rk.list_in is not None:
            objs = rk.list_in(api.topo, parent_id)
        else:
            objs = api.topo.list(child, field, parent_id)
        dtos = api.dtos(req)
        return Reply(body=[dtos.of(child, o) for o in objs])

    return handler


def _update(api: Api, rk: RestKind) -> Handler:
    kind, schema = rk.kind, update_schema(rk)

    def handler(req: Request) -> Reply:
        obj_id = uuid_param(req.params["id"], kind)
        obj = api.topo.update(kind, obj_id, json_body(req, schema))
        return Reply(body=api.dtos(req).of(kind, obj))

    return handler


def _delete(api: Api, kind: str) -> Handler:
    def handler(req: Request) -> Reply:
        api.topo.delete(kind, uuid_param(req.params["id"], kind))
        return Reply(204)

    return handler
