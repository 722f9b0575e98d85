"""Reading path parameters and request bodies."""

from __future__ import annotations

import uuid

from ryu_midonet.nsdb import errors
from ryu_midonet.rest.wsgi import Request
from ryu_midonet.types import Obj


def uuid_param(value: str, kind: str) -> str:
    """A path segment naming an object by UUID; anything else names no object (404)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise errors.NotFound(kind, value) from None


def json_body(req: Request) -> Obj:
    if not isinstance(req.body, dict):
        raise errors.InvalidInput("body", "the request body must be a JSON object")
    return req.body
