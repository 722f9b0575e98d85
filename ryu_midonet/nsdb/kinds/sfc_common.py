"""What networking-sfc's four kinds share: their common fields and nested parameter checks.

networking-sfc's objects keep their Neutron field names (snake_case) on the wire and in the
store; the nested parameter objects (``service_function_parameters``, ``chain_parameters``,
...) are checked key by key, an error naming ``outer.key``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field

CORRELATIONS = ("mpls", "nsh")


def common_fields() -> dict[str, Field]:
    """``name``, ``description`` and ``tenant_id``, as every networking-sfc object has."""
    return {
        "name": Field("str", ""),
        "description": Field("str", ""),
        "tenant_id": Field("str", update=False),
    }


Check = Callable[[str, Any], Any]


def params(field: str, value: Any, defaults: dict[str, Any],
           checks: dict[str, Check]) -> dict[str, Any]:
    """A parameter object: known keys only, each checked, missing ones at their default."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise errors.InvalidInput(field, "must be an object")
    out = dict(defaults)
    for key, item in value.items():
        if key not in checks:
            raise errors.InvalidInput(f"{field}.{key}",
                                      f"is not one of {', '.join(sorted(checks))}")
        out[key] = checks[key](f"{field}.{key}", item)
    return out


def correlation(*, nullable: bool) -> Check:
    """A check of a correlation (service header) value."""
    choices: tuple[str | None, ...] = ((None,) if nullable else ()) + CORRELATIONS

    def check(name: str, value: Any) -> Any:
        if value not in choices:
            shown = ", ".join("null" if c is None else c for c in choices)
            raise errors.InvalidInput(name, f"{value!r} is not one of {shown}")
        return value

    return check


def boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise errors.InvalidInput(name, "must be true or false")


def non_negative(name: str, value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise errors.InvalidInput(name, "must be a non-negative integer")
    return value
