"""``/store_status``: whether agents hold on to a topology the store lost, and accepting it.

``GET /store_status`` shows the store's epoch and version and every agent's divergence report
(see :mod:`ryu_midonet.nsdb.divergence`); ``POST /store_status/accept`` declares the store's
current content the truth, and the agents apply it (deleting what the store no longer holds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import divergence
from ryu_midonet.rest.wsgi import ANY_BODY, JSON, Reply, Request

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api


def register(api: Api) -> None:
    """Add the store-status routes to ``api``."""

    def get(req: Request) -> Reply:
        return Reply(body=_status(api, req), media=JSON)

    def accept(req: Request) -> Reply:
        divergence.accept(api.topo.store)
        return Reply(body=_status(api, req), media=JSON)

    api.app.add("GET", "/store_status", get, JSON,
                "Show the store's epoch and version, and hosts keeping a topology the store lost")
    api.app.add("POST", "/store_status/accept", accept, JSON,
                "Accept the store as it is: agents apply it, deleting what it lost",
                accepts=(ANY_BODY,))


def _status(api: Api, req: Request) -> dict[str, Any]:
    doc = divergence.status(api.topo.store)
    doc["uri"] = f"{req.base}/store_status"
    return doc


def information(api: Api) -> str | None:
    """One line for the system state's ``information``, or None when no host diverges."""
    found = divergence.reports(api.topo.store)
    if not found:
        return None
    hosts = ", ".join(r.get("hostName") or r["hostId"] for r in found)
    return (f"{found[0]['message']} (hosts keeping their cached topology: {hosts}); "
            "see /store_status")
