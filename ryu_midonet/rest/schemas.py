"""JSON schemas of DTOs and request bodies, from the store's specs and the REST declarations.

The OpenAPI document is built from these, and the request handlers accept exactly the field
names these schemas name: what one says, the other does.
"""

from __future__ import annotations

from typing import Any

from ryu_midonet.nsdb.fields import Field
from ryu_midonet.nsdb.schema import spec
from ryu_midonet.rest.resource import (
    IGNORED,
    LINK,
    MAYBE_UUID,
    UUID,
    Resource,
    RestKind,
    Schema,
    Shape,
)

_MAC = "^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$"
_MACMASK = "^[0-9a-fA-F]{4}\\.[0-9a-fA-F]{4}\\.[0-9a-fA-F]{4}$"
_IPV4 = {"type": "string", "format": "ipv4"}
_TRUE_FALSE = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"


def _group(alternatives: list[str]) -> str:
    return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"


def _digits(lo: str, hi: str) -> list[str]:
    """Regex alternatives for the numbers from ``lo`` to ``hi``, both of the same length."""
    n = len(lo)
    if lo == hi:
        return [lo]
    if n == 1:
        return [f"[{lo}-{hi}]"]
    if lo[0] == hi[0]:
        return [lo[0] + _group(_digits(lo[1:], hi[1:]))]
    if lo[1:] == "0" * (n - 1) and hi[1:] == "9" * (n - 1):
        return [f"[{lo[0]}-{hi[0]}][0-9]{{{n - 1}}}"]
    parts = [lo[0] + _group(_digits(lo[1:], "9" * (n - 1)))]
    if int(hi[0]) - int(lo[0]) > 1:
        parts.append(f"[{int(lo[0]) + 1}-{int(hi[0]) - 1}][0-9]{{{n - 1}}}")
    parts.append(hi[0] + _group(_digits("0" * (n - 1), hi[1:])))
    return parts


def _naturals(lo: int, hi: int) -> list[str]:
    out: list[str] = []
    for n in range(len(str(lo)), len(str(hi)) + 1):
        low, high = max(lo, 10 ** (n - 1) if n > 1 else 0), min(hi, 10 ** n - 1)
        if low <= high:
            out += _digits(str(low), str(high))
    return out


def int_text(lo: int | None, hi: int | None) -> str:
    """A regex of the decimal integers from ``lo`` to ``hi`` (no sign but ``-``, no leading
    zero), as the API reads integers given as strings."""
    if lo is None or hi is None:
        return "^(0|-?[1-9][0-9]*)$"
    alternatives = []
    if lo < 0:
        alternatives.append("-" + _group(_naturals(max(1, -hi), -lo)))
    if hi >= 0:
        alternatives += _naturals(max(lo, 0), hi)
    return "^" + _group(alternatives) + "$"


def _int(lo: int | None, hi: int | None, lenient: bool = False) -> Schema:
    out: Schema = {"type": "integer"}
    if lo is not None:
        out["minimum"] = lo
    if hi is not None:
        out["maximum"] = hi
    if not lenient:
        return out
    what = "an integer" if lo is None or hi is None else f"an integer from {lo} to {hi}"
    return {"anyOf": [out, {"type": "string", "pattern": int_text(lo, hi), "description": what}],
            "description": what}


def _bool(lenient: bool) -> Schema:
    if not lenient:
        return {"type": "boolean"}
    return {"anyOf": [{"type": "boolean"},
                      {"type": "string", "pattern": _TRUE_FALSE, "description": "true or false"}],
            "description": "true or false"}


def _range(f: Field, lenient: bool) -> Schema:
    bound = _int(f.lo, f.hi, lenient)
    given = [{"properties": {end: bound}, "required": [end]} for end in ("start", "end")]
    return {"type": "object", "additionalProperties": False,
            "properties": {"start": nullable(bound), "end": nullable(bound)},
            "anyOf": given,
            "description": "a port range; a missing or null end is the other end"}


def _nat_targets(lenient: bool) -> Schema:
    port = _int(0, 65535, lenient)
    return {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["addressFrom"],
        "properties": {"addressFrom": _IPV4, "addressTo": _IPV4, "portFrom": port,
                       "portTo": port}}}


_BASE: dict[str, Schema] = {
    "str": {"type": "string", "maxLength": 255},
    "uuid": UUID,
    "uuids": {"type": "array", "items": UUID, "uniqueItems": True},
    "strs": {"type": "array", "items": {"type": "string"}},
    "ipv4": _IPV4,
    "ip": {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
    "mac": {"type": "string", "pattern": _MAC},
    "macmask": {"type": "string", "anyOf": [{"pattern": _MACMASK}, {"pattern": _MAC}]},
    "any": {},
}


def nullable(schema: Schema) -> Schema:
    """``schema`` or null."""
    out = dict(schema)
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    elif "type" not in out and schema:
        wrapped: Schema = {"anyOf": [schema, {"type": "null"}]}
        if "description" in schema:
            wrapped["description"] = f"{schema['description']}, or null"
        return wrapped
    return out


def value_schema(f: Field, lenient: bool = False) -> Schema:
    """The values a field holds (never null); ``lenient``: as a request may give them
    (integers and booleans also as strings, as midonet-cli sends them)."""
    if f.kind == "enum":
        return {"type": "string", "enum": list(f.choices)}
    if f.kind == "int":
        return _int(f.lo, f.hi, lenient)
    if f.kind == "bool":
        return _bool(lenient)
    if f.kind == "range":
        return _range(f, lenient)
    if f.kind == "nattargets":
        return _nat_targets(lenient)
    return dict(_BASE[f.kind])


def stored_schema(f: Field) -> Schema:
    """A field as a DTO shows it."""
    return nullable(value_schema(f)) if f.nullable else value_schema(f)


def input_schema(f: Field) -> Schema:
    """A field as a request may give it (null stands for the default, unless required)."""
    if f.required:
        return value_schema(f, lenient=True)
    schema = nullable(value_schema(f, lenient=True))
    if f.default is not None:
        schema["default"] = f.default
    return schema


def _obj(props: dict[str, Schema], required: list[str] | tuple[str, ...]) -> Schema:
    out: Schema = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


def _common_fields(rk: RestKind) -> dict[str, Schema]:
    props: dict[str, Schema] = {"id": UUID, "uri": LINK}
    props.update({name: stored_schema(f) for name, f in spec(rk.kind).fields.items()
                  if name not in rk.hidden})
    props.update(rk.dto_fields)
    return props


def dto_fields(rk: RestKind) -> dict[str, Schema]:
    """Every field of the kind's DTO: stored (less hidden ones), ``uri`` and declared ones
    (of any variant)."""
    props = _common_fields(rk)
    for variant in rk.variants.values():
        props.update(variant.fields)
    return props


def dto_schema(rk: RestKind) -> Schema:
    """The kind's DTO, as every read and write of it answers (one of its variants')."""
    props = _common_fields(rk)
    if not rk.variants:
        return _obj(props, list(props))
    branches = [_obj({**props, **v.fields}, list({**props, **v.fields}))
                for v in rk.variants.values()]
    return {"oneOf": branches}


def create_schema(rk: RestKind, parent: str | None = None) -> Schema:
    """The body creating an object of the kind (in ``parent``, for nested kinds)."""
    fields = spec(rk.kind).fields
    props = {name: IGNORED for name in dto_fields(rk)}
    props["id"] = MAYBE_UUID
    props.update({name: input_schema(f) for name, f in fields.items() if f.create})
    props.update(rk.inputs)
    required = [name for name, f in fields.items() if f.create and f.required]
    variant = rk.variants.get(parent or "")
    if variant is not None:
        for name in variant.required:
            props[name] = value_schema(fields[name], lenient=True)
            required.append(name)
        for name in variant.absent:
            props[name] = {"type": "null", "description": f"absent or null in a {parent}"}
    out = _obj(props, required)
    if rk.create_rules:
        out["allOf"] = list(rk.create_rules)
    return out


def update_schema(rk: RestKind) -> Schema:
    """The body of a PUT: any settable field; absent ones keep their value."""
    props = {name: IGNORED for name in dto_fields(rk)}
    props.update({name: input_schema(f) for name, f in spec(rk.kind).fields.items()
                  if f.update})
    return _obj(props, [])


def checked_fields(rk: RestKind, *, creating: bool, parent: str | None = None) -> list[str]:
    """Inputs a request valid by its schema can still be refused on (400 naming the field):
    references to objects that must exist, and rules across fields."""
    names = [name for name, f in spec(rk.kind).fields.items()
             if f.ref and (f.create if creating else f.update)]
    names += [n for n in rk.checked if n not in names]
    if not creating:  # what the object's variant allows is known only from the stored object
        names += [n for v in rk.variants.values() for n in (*v.required, *v.absent)
                  if n not in names]
    return names


def shape_dto_schema(shape: Shape) -> Schema:
    return _obj(dict(shape.fields), list(shape.fields))


def body_schema(res: Resource) -> Schema:
    """The body creating a ``res`` (which has a shape)."""
    if res.shape is None:
        raise TypeError(f"{res.name} has no declared shape")
    return shape_input_schema(res.shape)


def shape_input_schema(shape: Shape) -> Schema:
    props = {name: IGNORED for name in shape.fields}
    props.update(shape.inputs)
    return _obj(props, shape.required)


def accepted(schema: Schema) -> frozenset[str]:
    """The field names a request body of ``schema`` may carry."""
    props: dict[str, Any] = schema.get("properties", {})
    return frozenset(props)
