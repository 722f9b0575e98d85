"""Trace requests on the wire: ``/traces`` (the root's ``traceRequests``), media type
``TraceRequest``, as python-midonetclient's ``TraceRequest`` reads and writes them: ``name``,
``deviceType`` and ``deviceId``, a ``condition`` object with a rule condition's fields,
``limit``, ``enabled`` and ``creationTimestampMs``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.nsdb.kinds.rule import CONDITION
from ryu_midonet.rest.resource import Resource, RestKind, Schema
from ryu_midonet.rest.schemas import input_schema, nullable, stored_schema
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Dtos

RESOURCE = Resource("traceRequest", "traces", "TraceRequest", 1)
_DEVICES = ("bridgeId", "routerId", "portId")


def _condition(stored: bool) -> Schema:
    props = {name: stored_schema(f) if stored else input_schema(f)
             for name, f in CONDITION.items()}
    schema: Schema = {"type": "object", "properties": props, "additionalProperties": False,
                      "description": "the fields of a rule's condition"}
    if stored:
        schema["required"] = list(props)
    return schema


def _dto(dtos: Dtos, dto: Obj) -> None:
    for name in _DEVICES:
        dto.pop(name, None)


REST = RestKind(RESOURCE, _dto, hidden=_DEVICES, dto_fields={"condition": _condition(True)},
                inputs={"condition": nullable(_condition(False))}, checked=("deviceId",))
