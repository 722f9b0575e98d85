"""Object ids and generated addresses."""

from __future__ import annotations

import random
import uuid
from typing import Any

from ryu_midonet.nsdb import errors


def new_id() -> str:
    return str(uuid.uuid4())


def client_id(value: Any, name: str = "id") -> str | None:
    """A client-given UUID in canonical form, or None when not given."""
    if value in (None, ""):
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise errors.InvalidInput(name, f"{value!r} is not a UUID") from None


def random_mac() -> str:
    """A locally administered unicast MAC, as MidoNet gives router ports (02:...)."""
    return "02:" + ":".join(f"{random.randrange(256):02x}" for _ in range(5))
