"""The OpenAPI 3 description of the REST API, generated from the routes the server has.

``make openapi`` writes it (see :mod:`ryu_midonet.rest.describe`); the repository keeps a copy in
``doc/openapi.json`` and the server serves it at ``/midonet-api/openapi.json``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ryu_midonet import __version__
from ryu_midonet.nsdb.schema import KINDS, Field
from ryu_midonet.rest.kinds import RESOURCES
from ryu_midonet.rest.wsgi import ERROR_MEDIA_TYPE, Route

_TYPES = {
    "str": {"type": "string"}, "bool": {"type": "boolean"}, "int": {"type": "integer"},
    "uuid": {"type": "string", "format": "uuid"},
    "uuids": {"type": "array", "items": {"type": "string", "format": "uuid"}},
    "strs": {"type": "array", "items": {"type": "string"}},
    "ipv4": {"type": "string", "format": "ipv4"}, "ip": {"type": "string"},
    "mac": {"type": "string", "pattern": "^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$"},
    "macmask": {"type": "string", "pattern": "^[0-9a-fA-F]{4}(\\.[0-9a-fA-F]{4}){2}$"},
    "range": {"type": "object", "properties": {"start": {"type": "integer"},
                                               "end": {"type": "integer"}}},
    "nattargets": {"type": "array", "items": {"type": "object", "properties": {
        "addressFrom": {"type": "string"}, "addressTo": {"type": "string"},
        "portFrom": {"type": "integer"}, "portTo": {"type": "integer"}}}},
    "any": {},
}


def _field_schema(f: Field) -> dict[str, Any]:
    if f.kind == "enum":
        schema: dict[str, Any] = {"type": "string", "enum": list(f.choices)}
    else:
        schema = dict(_TYPES[f.kind])
    if f.kind == "int":
        if f.lo is not None:
            schema["minimum"] = f.lo
        if f.hi is not None:
            schema["maximum"] = f.hi
    if f.default is not None:
        schema["default"] = f.default
    if not (f.create or f.update):
        schema["readOnly"] = True
    return schema


def _kind_schema(kind: str) -> dict[str, Any]:
    fields = KINDS[kind]
    props = {"id": {"type": "string", "format": "uuid"},
             "uri": {"type": "string", "readOnly": True}}
    props.update({name: _field_schema(f) for name, f in fields.items()})
    required = [n for n, f in fields.items() if f.required]
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def _media_schema(route: Route) -> tuple[str, dict[str, Any]]:
    for rk in RESOURCES:
        res = rk.resource
        ref = {"$ref": f"#/components/schemas/{rk.kind}"}
        if route.media == res.media:
            return route.media, ref
        if route.media == res.collection_media:
            return route.media, {"type": "array", "items": ref}
    return route.media or "application/json", {"type": "object"}


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": route.summary or route.template,
                          "operationId": _operation_id(route)}
    params = re.findall(r"\{(\w+)\}", route.template)
    if params:
        op["parameters"] = [{"name": p, "in": "path", "required": True,
                             "schema": {"type": "string"}} for p in params]
    media, schema = _media_schema(route)
    if route.method in ("POST", "PUT"):
        op["requestBody"] = {"content": {media: {"schema": schema},
                                         "application/json": {"schema": schema}}}
    error = {"description": "error", "content": {ERROR_MEDIA_TYPE: {
        "schema": {"$ref": "#/components/schemas/error"}}}}
    if route.method == "DELETE":
        op["responses"] = {"204": {"description": "deleted"}, "404": error}
    else:
        status = "201" if route.method == "POST" and route.template != "/login" else "200"
        op["responses"] = {status: {"description": "success",
                                    "content": {media: {"schema": schema}}},
                           "400": error, "404": error}
    if route.method in ("POST", "PUT", "DELETE"):
        op["responses"]["409"] = error
        op["responses"]["503"] = error
    return op


def _operation_id(route: Route) -> str:
    words = re.sub(r"\{(\w+)\}", r"by_\1", route.template).strip("/").replace("/", "_")
    return f"{route.method.lower()}_{words or 'root'}"


def build(routes: list[Route]) -> dict[str, Any]:
    """The OpenAPI 3 document for ``routes`` (the server's routing table)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.template, {})[route.method.lower()] = _operation(route)
    schemas = {rk.kind: _kind_schema(rk.kind) for rk in RESOURCES}
    schemas["error"] = {"type": "object", "properties": {
        "message": {"type": "string"}, "code": {"type": "integer"},
        "violations": {"type": "array", "items": {"type": "object", "properties": {
            "property": {"type": "string"}, "message": {"type": "string"}}}}}}
    return {"openapi": "3.0.3",
            "info": {"title": "ryu-midonet REST API (MidoNet v5 wire format)",
                     "version": __version__},
            "servers": [{"url": "/midonet-api"}],
            "paths": dict(sorted(paths.items())),
            "components": {"schemas": schemas}}


def render(routes: list[Route]) -> str:
    return json.dumps(build(routes), indent=2, sort_keys=False) + "\n"

