"""Field declarations of stored objects and the checks that normalise client values.

``Field.kind`` names the checker in :data:`CHECKERS`; ``Field.on_delete`` says what happens to
an object whose indexed reference field names an object being deleted.
"""

from __future__ import annotations

import enum
import ipaddress
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ryu_midonet.nsdb.errors import InvalidInput


class OnDelete(enum.Enum):
    """What deleting the referenced object does to the objects referring to it."""

    CASCADE = "cascade"  # they are deleted too
    CLEAR = "clear"  # the field is set to null
    REMOVE = "remove"  # the id is removed from the list
    REFUSE = "refuse"  # the delete is refused while they exist


@dataclass(frozen=True)
class Field:
    """One attribute of a stored object."""

    kind: str = "str"
    default: Any = None
    ref: str | None = None  # kind of object a uuid (or list of uuids) points at
    index: bool = False  # keep a reverse index field value -> object ids
    choices: tuple[Any, ...] = ()
    lo: int | None = None
    hi: int | None = None
    create: bool = True  # the client may give it on create
    update: bool = True  # the client may change it on update
    required: bool = False
    nullable: bool = True
    on_delete: OnDelete | None = None  # needs ``ref`` and ``index``


# -- value checks ----------------------------------------------------------------------------

_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
_DECIMAL = re.compile(r"^(0|-?[1-9][0-9]*)$")
_MACMASK = re.compile(r"^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$")


def _check_str(name: str, f: Field, v: Any) -> Any:
    if not isinstance(v, str):
        raise InvalidInput(name, "must be a string")
    if len(v) > 255:
        raise InvalidInput(name, "must be at most 255 characters")
    return v


def _check_bool(name: str, f: Field, v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    raise InvalidInput(name, "must be true or false")


def _check_int(name: str, f: Field, v: Any) -> Any:
    if isinstance(v, bool):
        raise InvalidInput(name, "must be an integer")
    if isinstance(v, float) and v.is_integer():
        v = int(v)  # JSON has one number type: 8.0 is the integer 8, as JSON Schema says
    if isinstance(v, str):  # as midonet-cli sends numbers: plain decimal only
        if not _DECIMAL.fullmatch(v):
            raise InvalidInput(name, "must be an integer")
        v = int(v)
    if not isinstance(v, int):
        raise InvalidInput(name, "must be an integer")
    if (f.lo is not None and v < f.lo) or (f.hi is not None and v > f.hi):
        raise InvalidInput(name, f"must be between {f.lo} and {f.hi}")
    return v


def _check_uuid(name: str, f: Field, v: Any) -> Any:
    if not isinstance(v, str):
        raise InvalidInput(name, "must be a UUID")
    try:
        return str(uuid.UUID(v))
    except ValueError:
        raise InvalidInput(name, f"{v!r} is not a UUID") from None


def _check_uuids(name: str, f: Field, v: Any) -> Any:
    if not isinstance(v, list):
        raise InvalidInput(name, "must be a list of UUIDs")
    out = [_check_uuid(name, f, item) for item in v]
    if len(set(out)) != len(out):
        raise InvalidInput(name, "must not repeat a UUID")
    return out


def _check_strs(name: str, f: Field, v: Any) -> Any:
    if not isinstance(v, list) or not all(isinstance(i, str) for i in v):
        raise InvalidInput(name, "must be a list of strings")
    return v


def _check_ipv4(name: str, f: Field, v: Any) -> Any:
    try:
        return str(ipaddress.IPv4Address(v))
    except (ValueError, TypeError):
        raise InvalidInput(name, f"{v!r} is not an IPv4 address") from None


def _check_ip(name: str, f: Field, v: Any) -> Any:
    try:
        return str(ipaddress.ip_address(v))
    except (ValueError, TypeError):
        raise InvalidInput(name, f"{v!r} is not an IP address") from None


def _check_mac(name: str, f: Field, v: Any) -> Any:
    if not isinstance(v, str) or not _MAC.fullmatch(v):
        raise InvalidInput(name, f"{v!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
    return v.lower()


def _check_macmask(name: str, f: Field, v: Any) -> Any:
    if isinstance(v, str) and _MAC.fullmatch(v):
        v = "".join(v.split(":"))
        v = f"{v[0:4]}.{v[4:8]}.{v[8:12]}"
    if not isinstance(v, str) or not _MACMASK.fullmatch(v):
        raise InvalidInput(name, f"{v!r} is not a MAC mask (ffff.ffff.ffff)")
    return v.lower()


def _check_enum(name: str, f: Field, v: Any) -> Any:
    if v not in f.choices:
        raise InvalidInput(name, f"{v!r} is not one of {', '.join(map(str, f.choices))}")
    return v


def _check_range(name: str, f: Field, v: Any) -> Any:
    if not isinstance(v, dict) or set(v) - {"start", "end"}:
        raise InvalidInput(name, "must be an object with start and end")
    start = v.get("start")
    end = v.get("end", start)
    if start is None:
        start = end
    inner = Field("int", lo=f.lo, hi=f.hi)
    start = _check_int(name, inner, start)
    end = _check_int(name, inner, end)
    if start > end:
        raise InvalidInput(name, "start must not exceed end")
    return {"start": start, "end": end}


def _check_nattargets(name: str, f: Field, v: Any) -> Any:
    if not isinstance(v, list):
        raise InvalidInput(name, "must be a list of NAT targets")
    out = []
    for t in v:
        if not isinstance(t, dict):
            raise InvalidInput(name, "each NAT target must be an object")
        a_from = _check_ipv4(f"{name}.addressFrom", f, t.get("addressFrom"))
        a_to = _check_ipv4(f"{name}.addressTo", f, t.get("addressTo", a_from))
        if ipaddress.IPv4Address(a_from) > ipaddress.IPv4Address(a_to):
            raise InvalidInput(name, "addressFrom must not exceed addressTo")
        ports = Field("int", lo=0, hi=65535)
        p_from = _check_int(f"{name}.portFrom", ports, t.get("portFrom", 0))
        p_to = _check_int(f"{name}.portTo", ports, t.get("portTo", p_from))
        if p_from > p_to:
            raise InvalidInput(name, "portFrom must not exceed portTo")
        if (p_from == 0) != (p_to == 0):
            raise InvalidInput(name, "ports must be within 1-65535 (or both 0 for no ports)")
        out.append({"addressFrom": a_from, "addressTo": a_to, "portFrom": p_from,
                    "portTo": p_to})
    return out


CHECKERS: dict[str, Callable[[str, Field, Any], Any]] = {
    "str": _check_str, "bool": _check_bool, "int": _check_int, "uuid": _check_uuid,
    "uuids": _check_uuids, "strs": _check_strs, "ipv4": _check_ipv4, "ip": _check_ip,
    "mac": _check_mac, "macmask": _check_macmask, "enum": _check_enum, "range": _check_range,
    "nattargets": _check_nattargets, "any": lambda name, f, v: v,
}


def check_value(name: str, f: Field, value: Any) -> Any:
    """Normalise ``value`` for field ``f`` or raise :class:`InvalidInput` naming the field."""
    if value is None:
        if f.required:
            raise InvalidInput(name, "must not be null")
        if not f.nullable:
            if f.default is None:
                raise InvalidInput(name, "must not be null")
            return f.default  # as a Java DTO would read null into a primitive
        return None
    return CHECKERS[f.kind](name, f, value)
