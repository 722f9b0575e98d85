"""Trace requests: which packets to trace, where.

A request names a device (``deviceType`` BRIDGE, ROUTER or PORT and its ``deviceId``, which
must exist) and a ``condition`` with the fields of a rule's condition; packets meeting it at
that device are traced, up to ``limit`` packets, while ``enabled``. A request goes with its
device. ``creationTimestampMs`` is set when it is created.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete, check_value
from ryu_midonet.nsdb.kinds.rule import CONDITION
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

DEVICE_KINDS = {"BRIDGE": "bridge", "ROUTER": "router", "PORT": "port"}
LIMIT_MAX = 2**63 - 1  # a Java long, as MidoNet's DTO has it: no limit


def condition(value: Any) -> Obj:
    """A condition as stored: the rule condition fields given, checked (every other field at
    its default). Refused naming ``condition.<field>``."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise errors.InvalidInput("condition", "must be an object of rule condition fields")
    out: Obj = {}
    for name, f in CONDITION.items():
        given = value.get(name)
        out[name] = (list(f.default) if isinstance(f.default, list) else f.default) \
            if given is None else check_value(f"condition.{name}", f, given)
    unknown = sorted(set(value) - set(CONDITION))
    if unknown:
        raise errors.InvalidInput(f"condition.{unknown[0]}", "is not a condition field")
    return out


def _check(txn: Txn, obj: Obj) -> None:
    kind = DEVICE_KINDS[obj["deviceType"]]
    if txn.get(kind, obj["deviceId"]) is None:
        raise errors.InvalidInput("deviceId", f"{kind} {obj['deviceId']} does not exist")
    for other in DEVICE_KINDS.values():
        obj[f"{other}Id"] = obj["deviceId"] if other == kind else None
    obj["condition"] = condition(obj.get("condition"))


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    obj["creationTimestampMs"] = int(time.time() * 1000)
    _check(txn, obj)


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    _check(txn, obj)


def _device(kind: str) -> Field:
    """The device, once more, as a reference of its kind: the request goes with it."""
    return Field("uuid", ref=kind, index=True, on_delete=OnDelete.CASCADE, create=False,
                 update=False)


SPEC = KindSpec(
    "traceRequest",
    {
        "name": Field("str"),
        "deviceType": Field("enum", choices=tuple(DEVICE_KINDS), required=True,
                            nullable=False),
        "deviceId": Field("uuid", required=True, nullable=False),
        "condition": Field("any", {}),
        "limit": Field("int", LIMIT_MAX, lo=0, hi=LIMIT_MAX, nullable=False),
        "enabled": Field("bool", False, nullable=False),
        "creationTimestampMs": Field("int", create=False, update=False),
        "bridgeId": _device("bridge"),
        "routerId": _device("router"),
        "portId": _device("port"),
    },
    on_create=_create,
    on_update=_update,
)
