"""The OpenAPI 3.1 description of the REST API, generated from the routes the server has.

Schemas come from :mod:`ryu_midonet.rest.schemas` (the stores' specs and the REST kinds'
declarations), the same schemas the API checks request bodies with. ``make openapi`` writes the
document (see :mod:`ryu_midonet.rest.describe`); the repository keeps a copy in
``doc/openapi.json`` and the server serves it at ``/midonet-api/openapi.json``.

``x-also-checked`` on an operation names the body fields the API also checks against the store
(an id that must name an existing object) or against each other (rules JSON Schema does not
express): a body valid by the schema can still be refused with 400 naming one of those fields.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ryu_midonet import __version__
from ryu_midonet.nsdb.schema import spec
from ryu_midonet.rest.kinds import BY_KIND, RESOURCES
from ryu_midonet.rest.resource import LINK, UUID, Resource, RestKind, Schema, shaped
from ryu_midonet.rest.schemas import (
    checked_fields,
    create_schema,
    dto_schema,
    shape_dto_schema,
    shape_input_schema,
    update_schema,
)
from ryu_midonet.rest.system_state import SYSTEM_STATE_DTO as _SYSTEM_STATE
from ryu_midonet.rest.system_state import SYSTEM_STATE_PUT as _SYSTEM_STATE_PUT
from ryu_midonet.rest.wsgi import ANY_BODY, ERROR_MEDIA_TYPE, JSON, Route, media_type

TOKEN_HEADER = "X-Auth-Token"
_OPEN = {"/login"}  # answered without a token

_ERROR: Schema = {
    "type": "object", "required": ["message", "code"], "additionalProperties": False,
    "properties": {
        "message": {"type": "string"}, "code": {"type": "integer"},
        "violations": {"type": "array", "items": {
            "type": "object", "required": ["property", "message"],
            "additionalProperties": False,
            "properties": {"property": {"type": "string"}, "message": {"type": "string"}}}}}}

# routes of features that are not object kinds: their DTOs
_TENANT: Schema = {
    "type": "object", "additionalProperties": False,
    "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                   "description": {"type": "null"}, "enabled": {"type": "boolean"},
                   "uri": LINK, "bridges": LINK, "routers": LINK, "chains": LINK,
                   "portGroups": LINK}}
_TENANT["required"] = list(_TENANT["properties"])
_TOKEN: Schema = {"type": "object", "additionalProperties": False, "required": ["key", "expires"],
                  "properties": {"key": {"type": "string"}, "expires": {"type": "string"}}}
_ROOT: Schema = {"type": "object", "required": ["uri", "version"],
                 "additionalProperties": {"type": "string"},
                 "properties": {"uri": LINK, "version": {"type": "string"}}}
_STORE_STATUS: Schema = {
    "type": "object", "additionalProperties": False,
    "required": ["epoch", "version", "acceptedEpoch", "divergences", "uri"],
    "properties": {"epoch": {"type": "string"}, "version": {"type": "integer"},
                   "acceptedEpoch": {"type": ["string", "null"]},
                   "divergences": {"type": "array", "items": {
                       "type": "object", "description": "a host's divergence report"}},
                   "uri": LINK}}
_FEATURES: dict[tuple[str, int], Schema] = {
    ("Tenant", 2): _TENANT, ("SystemState", 2): _SYSTEM_STATE, ("Token", 1): _TOKEN,
    ("Application", 5): _ROOT,
}


def _feature(media: str | None) -> tuple[str, Schema, bool] | None:
    """(name, DTO schema, collection?) of a feature's media type."""
    for (name, version), schema in _FEATURES.items():
        for many in (False, True):
            if media == media_type(name, version, collection=many):
                return name, schema, many
    return None

_SEGMENT: Schema = {"type": "string", "pattern": "^[^/]+$"}  # "/tenants/" is the list
_PATH_PARAMS: dict[str, Schema] = {
    "id": UUID, "portId": UUID, "hostId": UUID, "name": _SEGMENT, "addr": _SEGMENT,
    "version": {"type": "integer", "enum": [4, 6]},
    "subnet": {"type": "string", "pattern": r"^\d{1,3}(\.\d{1,3}){3}_\d{1,2}$",
               "description": "a DHCP subnet's prefix and length, e.g. 10.0.0.0_24"},
    "mac": {"type": "string", "pattern": r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$"},
    "pair": {"type": "string",
             "pattern": r"^\d{1,3}(\.\d{1,3}){3}_[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$",
             "description": "an ARP table entry: its address and MAC, 10.0.0.5_aa-bb-cc-dd-ee-ff"},
    "entry": {"type": "string",
              "pattern": r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}_[0-9a-fA-F-]{36}$",
              "description": "a MAC table entry: its MAC and port, aa-bb-cc-dd-ee-ff_<port id>"},
    "vlan": {"type": "integer", "minimum": 0, "maximum": 4095},
}


def _kind_of(media: str | None) -> tuple[RestKind | None, Resource | None, bool]:
    """(kind, shaped resource, collection?) whose media type ``media`` is."""
    for rk in RESOURCES:
        if media == rk.resource.media:
            return rk, None, False
        if media == rk.resource.collection_media:
            return rk, None, True
    for res in shaped():
        if media == res.media:
            return None, res, False
        if media == res.collection_media:
            return None, res, True
    return None, None, False


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _parent_of(template: str, rk: RestKind) -> str | None:
    """The parent kind a ``POST /<parents>/{id>/<kinds>`` creates in, if nested."""
    for parent in spec(rk.kind).parents:
        if template == f"/{BY_KIND[parent].resource.path}/{{id}}/{rk.resource.path}":
            return parent
    return None


class _Doc:
    """Collects component schemas while describing operations."""

    def __init__(self) -> None:
        self.schemas: dict[str, Schema] = {"error": _ERROR}

    def schema(self, name: str, schema: Schema) -> Schema:
        self.schemas.setdefault(name, schema)
        return _ref(name)

    def reply(self, route: Route) -> Schema | None:
        """The schema of the route's success body (None: it has none)."""
        if route.method == "DELETE":
            return None
        rk, res, many = _kind_of(route.media)
        if rk is not None:
            one = self.schema(rk.kind, dto_schema(rk))
        elif res is not None and res.shape is not None:
            one = self.schema(res.name, shape_dto_schema(res.shape))
        elif (feature := _feature(route.media)) is not None:
            name, schema, many = feature
            one = self.schema(name, schema)
        elif route.template == "/openapi.json":
            return {"type": "object"}
        else:
            one = _STORE_STATUS if route.template.startswith("/store_status") else {}
        return {"type": "array", "items": one} if many else one

    def request(self, route: Route) -> tuple[Schema | None, list[str]]:
        """The schema of the route's request body (None: it reads none) and the fields it
        also checks."""
        if route.method not in ("POST", "PUT") or ANY_BODY in route.accepts:
            return None, []
        rk, res, _ = _kind_of(route.media)
        if rk is not None:
            if route.method == "PUT":
                return (self.schema(f"{rk.kind}Update", update_schema(rk)),
                        checked_fields(rk, creating=False))
            parent = _parent_of(route.template, rk)
            name = f"{rk.kind}Create"
            if parent is not None and parent in rk.variants:
                name += "In" + parent[0].upper() + parent[1:]
            return (self.schema(name, create_schema(rk, parent)),
                    checked_fields(rk, creating=True, parent=parent))
        if res is not None and res.shape is not None:
            return (self.schema(f"{res.name}Input", shape_input_schema(res.shape)),
                    list(res.shape.checked))
        if route.template == "/system_state":
            return self.schema("SystemStateUpdate", _SYSTEM_STATE_PUT), []
        return {"type": "object"}, []

    def operation(self, route: Route) -> dict[str, Any]:
        op: dict[str, Any] = {"summary": route.summary or route.template,
                              "operationId": _operation_id(route)}
        params = re.findall(r"\{(\w+)\}", route.template)
        tenant_param = _tenant_param(route)
        if params or tenant_param:
            op["parameters"] = [
                {"name": p, "in": "path", "required": True,
                 "schema": _SEGMENT if route.template.startswith("/tenants")
                 else _PATH_PARAMS[p]} for p in params] + tenant_param
        body, checked = self.request(route)
        medias = [m for m in (route.media, *route.accepts) if m and m != ANY_BODY]
        if body is not None:
            content = {m: {"schema": body} for m in (*medias, JSON)}
            op["requestBody"] = {"content": content,
                                 "required": _needs_body(body, self.schemas)}
            if checked:
                op["x-also-checked"] = checked
        op["responses"] = self.responses(route, medias, body is not None)
        if route.template in _OPEN:
            op["security"] = [{"basic": []}]
        return op

    def responses(self, route: Route, medias: list[str], has_body: bool) -> dict[str, Any]:
        reply = self.reply(route)
        out: dict[str, Any] = {}
        if reply is None or _no_content(route):
            out["204"] = {"description": "done"}
        else:
            created = route.method == "POST" and route.template not in _NO_CREATE
            status = "201" if created else "200"
            content = {m: {"schema": reply} for m in (medias or [JSON])}
            out[status] = {"description": "created" if created else "success",
                           "content": content}
            if created:
                out[status]["headers"] = {"Location": {
                    "required": True, "description": "the URI of the new resource",
                    "schema": {"type": "string", "format": "uri"}}}
        errors = []
        if has_body or "{version}" in route.template:
            errors.append(("400", "invalid request: the violation names the field"))
        if route.template in _OPEN:
            errors.append(("401", "wrong or missing HTTP Basic credentials"))
        else:
            errors.append(("401", f"no valid {TOKEN_HEADER} (log in with POST /login)"))
            if route.method != "GET":
                errors.append(("403", "the user's role may not change anything"))
        if "{" in route.template:
            errors.append(("404", "no such object"))
        if route.method != "GET" and route.template not in _OPEN | _NO_CREATE:
            errors.append(("409", "conflicts with the stored objects"))
        if route.method in ("POST", "PUT"):
            errors.append(("413", "request body too large"))
        if has_body:
            errors.append(("415", "unsupported Content-Type"))
        errors.append(("503", "the store is unavailable, or read-only (for writes)"))
        for status, text in errors:
            out[status] = {"description": text,
                           "content": {ERROR_MEDIA_TYPE: {"schema": _ref("error")}}}
        out["503"]["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
        return out


_NO_CREATE = {"/login", "/store_status/accept"}  # POSTs that create nothing
_DESCRIPTION = (
    "Log in with POST /login (HTTP Basic) and send the key it answers as X-Auth-Token. "
    "Request bodies are checked against the schemas shown here: a field they do not name is "
    "refused with 400, while the fields of the resource's own DTO may be sent back and are "
    "ignored when read-only. x-also-checked on an operation names the body fields the API "
    "also checks against the store (ids that must name existing objects) or against each "
    "other: a body valid by its schema can still be refused with 400 naming one of them.")


def _no_content(route: Route) -> bool:
    return route.method == "PUT" and route.template == "/write_version"


def _tenant_param(route: Route) -> list[dict[str, Any]]:
    rk, _, many = _kind_of(route.media)
    if route.method != "GET" or rk is None or not many or not spec(rk.kind).tenant:
        return []
    if route.template != f"/{rk.resource.path}":
        return []
    return [{"name": "tenant_id", "in": "query", "required": False,
             "schema": {"type": "string"}, "description": "only the tenant's objects"}]


def _needs_body(schema: Schema, components: dict[str, Schema]) -> bool:
    ref = schema.get("$ref", "")
    target = components.get(ref.rsplit("/", 1)[-1], schema) if ref else schema
    return bool(target.get("required"))


def _operation_id(route: Route) -> str:
    words = re.sub(r"\{(\w+)\}", r"by_\1", route.template).strip("/").replace("/", "_")
    return f"{route.method.lower()}_{words or 'root'}"


def _links(post: Route, routes: list[Route]) -> dict[str, Any]:
    """OpenAPI links from a create to the operations on what it created."""
    rk, res, _ = _kind_of(post.media)
    if rk is not None:
        base = f"/{rk.resource.path}/{{id}}"
        fields = {"id": "id"}
    elif res is not None and res.shape is not None:
        base = post.template.rsplit("/", 1)[0]
        fields = {name: name for name in res.shape.fields}
        fields["id"] = ""
    else:
        return {}
    links: dict[str, Any] = {}
    for target in routes:
        if target is post or not (target.template == base
                                  or target.template.startswith(base + "/")):
            continue
        params = re.findall(r"\{(\w+)\}", target.template)
        if not all(p in fields for p in params):
            continue
        values = {p: f"$response.body#/{fields[p]}" if fields[p] else "$request.path.id"
                  for p in params}
        links[_operation_id(target)] = {"operationId": _operation_id(target),
                                        "parameters": values}
    return links


def build(routes: list[Route]) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``routes`` (the server's routing table)."""
    doc = _Doc()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        op = doc.operation(route)
        links = _links(route, routes) if "201" in op["responses"] else {}
        if links:
            op["responses"]["201"]["links"] = links
        paths.setdefault(route.template, {})[route.method.lower()] = op
    return {"openapi": "3.1.0",
            "info": {"title": "ryu-midonet REST API (MidoNet v5 wire format)",
                     "version": __version__, "description": _DESCRIPTION},
            "servers": [{"url": "/midonet-api"}],
            "security": [{"token": []}, {"session": []}],
            "paths": dict(sorted(paths.items())),
            "components": {
                "schemas": dict(sorted(doc.schemas.items())),
                "securitySchemes": {
                    "token": {"type": "apiKey", "in": "header", "name": TOKEN_HEADER,
                              "description": "the key POST /login answers"},
                    "session": {"type": "apiKey", "in": "cookie", "name": "sessionId",
                                "description": "the same key, as POST /login sets it"},
                    "basic": {"type": "http", "scheme": "basic"}}}}


def render(routes: list[Route]) -> str:
    return json.dumps(build(routes), indent=2, sort_keys=False) + "\n"
