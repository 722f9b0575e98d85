"""Reading path parameters and request bodies.

A request body is checked against the JSON schema the OpenAPI document shows for it, so what
the document says a body may be is what the API accepts; the store's own checks come after.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import jsonschema

from ryu_midonet.nsdb import errors
from ryu_midonet.rest.wsgi import Request
from ryu_midonet.types import Obj

_UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


def uuid_param(value: str, kind: str) -> str:
    """A path segment naming an object by UUID; anything else names no object (404)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise errors.NotFound(kind, value) from None


def json_body(req: Request, schema: dict[str, Any] | None = None) -> Obj:
    """The request's JSON object, valid by ``schema`` (400 naming the field otherwise).

    A field ``schema`` does not name is refused; the schemas name the fields of the resource's
    DTO too, which clients send back whole (those a client cannot set are ignored).
    """
    body = req.body
    if not isinstance(body, dict):
        raise errors.InvalidInput("body", "the request body must be a JSON object")
    if schema is None:
        return body
    props = schema.get("properties", {})
    for name in body:
        if name not in props:
            raise errors.InvalidInput(name, "is not a field of this resource")
    error = jsonschema.exceptions.best_match(_validator(schema).iter_errors(body))
    if error is not None:
        raise errors.InvalidInput(_field_of(error), _message(error))
    return body


def body_id(body: Obj) -> str | None:
    """The ``id`` a client gives a new object: a UUID in canonical form, or None."""
    value = body.get("id")
    if value is None:
        return None
    if isinstance(value, str) and _UUID_TEXT.fullmatch(value):
        return str(uuid.UUID(value))
    raise errors.InvalidInput("id", f"{value!r} is not a UUID")


# -- schema checks -----------------------------------------------------------------------------

_VALIDATORS: dict[int, tuple[dict[str, Any], jsonschema.Draft202012Validator]] = {}


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """One validator per schema object (each entry keeps its schema, so ids stay unique)."""
    hit = _VALIDATORS.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = schema, jsonschema.Draft202012Validator(schema, format_checker=_FORMATS)
        _VALIDATORS[id(schema)] = hit
    return hit[1]


def _field_of(error: jsonschema.ValidationError) -> str:
    path = [str(p) for p in error.absolute_path if isinstance(p, str)]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [n for n in error.validator_value if n not in error.instance]
        path.append(missing[0] if missing else "")
    return ".".join(p for p in path if p) or "body"


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return "is required"
    if error.validator == "type" and error.instance is None:
        return "must not be null"
    if error.validator == "additionalProperties":
        return f"has an unknown field: {error.message}"
    described = error.schema.get("description") if isinstance(error.schema, dict) else None
    if described and error.validator in ("type", "pattern", "anyOf", "oneOf", "enum"):
        return f"{_shown(error.instance)} is not valid: must be {described}"
    return f"{_shown(error.instance)} is not valid: {_rule(error)}"


def _rule(error: jsonschema.ValidationError) -> str:
    v, want = error.validator, error.validator_value
    if v == "type":
        return f"must be of type {' or '.join(want) if isinstance(want, list) else want}"
    if v == "format":
        return f"must be a {want}"
    if v in ("minimum", "maximum"):
        return f"must be {'at least' if v == 'minimum' else 'at most'} {want}"
    if v == "maxLength":
        return f"must be at most {want} characters"
    if v == "enum":
        return "must be one of " + ", ".join("null" if c is None else str(c) for c in want)
    return error.message


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
