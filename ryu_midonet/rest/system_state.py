"""``/system_state``: the system's state and availability (READONLY refuses writes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest import store_status
from ryu_midonet.rest.resource import Resource
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

SYSTEM_STATE = Resource("systemState", "system_state", "SystemState", 2)


def system_state_dto(dtos: Dtos, state: Obj, information: str | None = None) -> Obj:
    return {"state": state["state"], "availability": state["availability"],
            "version": state.get("writeVersion", "5.0"), "information": information,
            "uri": dtos.uri("system_state")}


def register(api: Api) -> None:
    """Add the system state routes to ``api``."""

    def get(req: Request) -> Reply:
        return Reply(body=system_state_dto(api.dtos(req), api.topo.system_state(),
                                           store_status.information(api)))

    def put(req: Request) -> Reply:
        state = api.topo.set_system_state(req.body)
        return Reply(body=system_state_dto(api.dtos(req), state, store_status.information(api)))

    s = SYSTEM_STATE
    api.add("GET", "/system_state", get, s.media, "Show system state")
    api.add("PUT", "/system_state", put, s.media,
            "Set system availability (READONLY refuses every write with 503)")
