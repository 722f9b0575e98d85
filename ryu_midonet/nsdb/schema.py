"""The registered object kinds: lookups over the specs of :mod:`ryu_midonet.nsdb.kinds`.

Objects are stored with the camelCase field names of the MidoNet v5 REST DTOs, so the REST layer
only adds URIs and derived fields.
"""

from __future__ import annotations

from typing import Any

from ryu_midonet.nsdb.fields import Field, OnDelete, check_value
from ryu_midonet.nsdb.kinds import SPECS
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

__all__ = ["KINDS", "SPEC_BY_KIND", "Field", "check_value", "clean", "defaults",
           "indexed_fields", "parent_fields", "ref_fields", "referrers", "spec", "tenant_kinds"]

SPEC_BY_KIND: dict[str, KindSpec] = {s.kind: s for s in SPECS}
KINDS: dict[str, dict[str, Field]] = {s.kind: s.fields for s in SPECS}


def spec(kind: str) -> KindSpec:
    return SPEC_BY_KIND[kind]


def indexed_fields(kind: str) -> list[str]:
    s = SPEC_BY_KIND.get(kind)
    return [name for name, f in s.fields.items() if f.index] if s else []


def ref_fields(kind: str, target: str) -> list[str]:
    """Names of ``kind`` fields that reference objects of kind ``target``."""
    return [name for name, f in KINDS[kind].items() if f.ref == target]


def referrers(target: str) -> list[tuple[str, str, OnDelete]]:
    """(kind, field, rule) of every field that says what deleting a ``target`` does to it."""
    return [(s.kind, name, f.on_delete) for s in SPECS for name, f in s.fields.items()
            if f.ref == target and f.on_delete is not None]


def parent_fields() -> tuple[str, ...]:
    """Fields naming the parent of a nested object (a port's device, a rule's chain)."""
    return tuple(s.parent_field for s in SPECS if s.parent_field)


def tenant_kinds() -> tuple[str, ...]:
    return tuple(s.kind for s in SPECS if s.tenant)


def defaults(kind: str) -> Obj:
    """A new object of ``kind`` with every field at its default."""
    return SPEC_BY_KIND[kind].new()


def clean(kind: str, data: Any, *, creating: bool) -> Obj:
    """Check client-supplied fields of ``kind`` (see :meth:`KindSpec.clean`)."""
    return SPEC_BY_KIND[kind].clean(data, creating=creating)


def _check_specs() -> None:
    for s in SPECS:
        for name, f in s.fields.items():
            if f.on_delete is not None and not (f.ref and f.index):
                raise TypeError(f"{s.kind}.{name}: on_delete needs ref and index")
        for kind, name in s.owns:
            if not KINDS[kind][name].index:
                raise TypeError(f"{s.kind} owns {kind} by {name}, which is not indexed")


_check_specs()
