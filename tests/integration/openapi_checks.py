"""A schemathesis check for what JSON Schema cannot say, loaded with SCHEMATHESIS_HOOKS.

Schemathesis's ``positive_data_acceptance`` wants every request valid by the document to be
accepted (2xx, or 401/403/404/409). Two kinds of rule of this API cannot be written in JSON
Schema: an id in a body must name an existing object (a random UUID names none), and some
fields constrain each other (a NAT target's addressFrom <= addressTo, a rule's position within
its chain). The document lists, per operation, the fields checked that way (``x-also-checked``).
``positive_data_acceptance_beyond_schema`` is ``positive_data_acceptance`` except that a 400
whose violation names one of those fields passes; any other refusal of valid data still fails.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance


def _violations(response: Any) -> list[str]:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    return [str(v.get("property", "")) for v in body.get("violations") or []
            if isinstance(v, dict)]


@schemathesis.check
def positive_data_acceptance_beyond_schema(ctx: Any, response: Any, case: Any) -> bool | None:
    """Valid data is accepted, but for a 400 naming a field the document says is also checked
    against the store or other fields."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        checked = case.operation.definition.raw.get("x-also-checked") or []
        named = [v.split(".")[0] for v in _violations(response)]
        if response.status_code == 400 and named and all(n in checked for n in named):
            return None
        raise
