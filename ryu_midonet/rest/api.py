"""The MidoNet v5 REST API on top of :class:`Topology`: the registered kinds and features.

Every kind of :mod:`ryu_midonet.rest.kinds` gets its generic routes (see
:mod:`ryu_midonet.rest.generic`) and adds its own; features outside any kind (tenants, login,
system state, store status) register their routes from their modules.
"""

from __future__ import annotations

from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.rest import (
    arptable,
    dhcp,
    generic,
    login,
    mactable,
    openapi,
    pool_statistics,
    store_status,
    system_state,
    tenants,
    trace_log,
    write_version,
)
from ryu_midonet.rest.dtos import Dtos
from ryu_midonet.rest.kinds import RESOURCES
from ryu_midonet.rest.resource import Resource
from ryu_midonet.rest.wsgi import Handler, Reply, Request, Route, WsgiApp
from ryu_midonet.types import Obj

API_VERSION = "v5.0"
APPLICATION = Resource("application", "", "Application", 5)
FEATURES = (dhcp, arptable, mactable, tenants, login, system_state, store_status, write_version,
            pool_statistics, trace_log)


class Api:
    """Builds the WSGI application for one :class:`Topology`."""

    def __init__(self, topo: Topology | None) -> None:
        self.topo = topo  # type: ignore[assignment]
        self.app = WsgiApp("/midonet-api")
        self.add("GET", "/", self.root, APPLICATION.media,
                 "The application root and its URI templates")
        for rk in RESOURCES:
            generic.register(self, rk)
        for rk in RESOURCES:
            generic.register_nested(self, rk)
        for rk in RESOURCES:
            if rk.routes is not None:
                rk.routes(self)
        for feature in FEATURES:
            feature.register(self)
        self.add("GET", "/openapi.json", self.openapi, "application/json",
                 "This API's OpenAPI 3 description")

    @classmethod
    def routes_only(cls) -> list[Route]:
        """The routing table, without a store behind it (to describe the API)."""
        return cls(None).app.routes

    def add(self, method: str, template: str, handler: Handler, media: str | None,
            summary: str, accepts: tuple[str, ...] = ()) -> None:
        """Route ``method template`` to ``handler``."""
        self.app.add(method, template, handler, media, summary, accepts)

    def dtos(self, req: Request) -> Dtos:
        return Dtos(self.topo, req.base)

    def openapi(self, req: Request) -> Reply:
        return Reply(body=openapi.build(self.app.routes), media="application/json")

    def root(self, req: Request) -> Reply:
        u = self.dtos(req).uri
        doc: Obj = {"uri": u("").rstrip("/") + "/", "version": API_VERSION}
        for rk in RESOURCES:
            res = rk.resource
            if rk.listed:
                doc[_camel(res.path)] = u(res.path)
            doc[f"{rk.kind}Template"] = u(res.path, "{id}")
        doc["traceRequests"] = u("traces")  # as MidoNet names it
        doc["tenants"] = u("tenants")
        doc["tenantTemplate"] = u("tenants", "{id}")
        doc["systemState"] = u("system_state")
        doc["writeVersion"] = u("write_version")
        doc["poolStatistics"] = u("pool_statistics")
        doc["poolStatisticTemplate"] = u("pool_statistics", "{id}")
        return Reply(body=doc)


def _camel(path: str) -> str:
    head, *rest = path.rsplit("/", 1)[-1].split("_")  # sfc/port_pairs -> portPairs
    return head + "".join(p.title() for p in rest)
