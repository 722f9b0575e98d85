"""``/traces/{id}/log``: what the agents traced for a trace request.

Answers ``{"id", "left", "entries"}``: the packets the request may still trace (its limit
counted down by every agent) and its trace log, oldest entry first, each entry the text of
one traced packet (see :mod:`ryu_midonet.tracing.live`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.nsdb import errors
from ryu_midonet.rest.params import uuid_param
from ryu_midonet.rest.wsgi import JSON, Reply, Request
from ryu_midonet.tracing import tracelog

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api


def register(api: Api) -> None:
    """Add the trace-log route to ``api``."""

    def get(req: Request) -> Reply:
        request_id = uuid_param(req.params["id"], "traceRequest")
        store = api.topo.store
        request = store.get("traceRequest", request_id)
        if request is None:
            raise errors.NotFound("traceRequest", request_id)
        limit = int(request.get("limit") or 0)
        left = tracelog.StoreCounter(store).left(request_id, limit)
        return Reply(body={"id": request_id, "left": left,
                           "entries": tracelog.read(store, request_id)}, media=JSON)

    api.app.add("GET", "/traces/{id}/log", get, JSON,
                "Show what the agents traced for a trace request")
