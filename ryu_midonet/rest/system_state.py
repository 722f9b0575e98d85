"""``/system_state``: the system's state and availability (READONLY refuses writes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest import store_status
from ryu_midonet.rest.params import json_body
from ryu_midonet.rest.resource import IGNORED, LINK, Resource, Schema
from ryu_midonet.rest.schemas import nullable
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

SYSTEM_STATE = Resource("systemState", "system_state", "SystemState", 2)
SETTABLE = ("state", "availability")
_FIELDS: dict[str, Schema] = {
    "state": {"type": "string", "enum": ["ACTIVE", "UPGRADE"]},
    "availability": {"type": "string", "enum": ["READWRITE", "READONLY"]},
    "version": {"type": "string"}, "information": {"type": ["string", "null"]}, "uri": LINK}
SYSTEM_STATE_DTO: Schema = {"type": "object", "additionalProperties": False,
                            "properties": _FIELDS, "required": list(_FIELDS)}
# the DTO's other fields may be sent back (and are ignored); nothing else is accepted
SYSTEM_STATE_PUT: Schema = {"type": "object", "additionalProperties": False,
                            "properties": {name: nullable(schema) if name in SETTABLE else IGNORED
                                           for name, schema in _FIELDS.items()}}


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
        body = json_body(req, SYSTEM_STATE_PUT)
        state = api.topo.set_system_state({k: body[k] for k in SETTABLE if k in body})
        return Reply(body=system_state_dto(api.dtos(req), state, store_status.information(api)))

    s = SYSTEM_STATE
    api.add("GET", "/system_state", get, s.media, "Show system state")
    api.add("PUT", "/system_state", put, s.media,
            "Set system availability (READONLY refuses every write with 503)")
