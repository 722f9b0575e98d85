"""``/write_version``: the data format version writers produce, as MidoNet serves it.

``GET`` answers ``{"version": "5.0", "uri": ...}``; ``PUT`` with ``{"version": "5.1"}`` sets it
and answers 204, like MidoNet's WriteVersion resource.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.params import json_body
from ryu_midonet.rest.resource import LINK, Resource, Shape
from ryu_midonet.rest.schemas import body_schema
from ryu_midonet.rest.wsgi import Reply, Request

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api

_VERSION = {"type": "string", "pattern": r"^[0-9]{1,9}(\.[0-9]{1,9}){0,3}$"}
WRITE_VERSION = Resource("writeVersion", "write_version", "WriteVersion", 1,
                         Shape({"version": _VERSION, "uri": LINK}, {"version": _VERSION},
                               ("version",)))


def register(api: Api) -> None:
    """Add the write version routes to ``api``."""

    def get(req: Request) -> Reply:
        return Reply(body={"version": api.topo.write_version(),
                           "uri": api.dtos(req).uri("write_version")})

    body = body_schema(WRITE_VERSION)

    def put(req: Request) -> Reply:
        api.topo.set_write_version(json_body(req, body).get("version"))
        return Reply(204)

    w = WRITE_VERSION
    api.add("GET", "/write_version", get, w.media, "Show the write version")
    api.add("PUT", "/write_version", put, w.media,
            "Set the write version (the data format version writers produce)")
