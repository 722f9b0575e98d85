"""The write version: the data format version every writer of the topology must produce.

MidoNet's ``/write_version``: during an upgrade, operators read it and raise it once every node
runs the new release. It is stored in the system state object (``writeVersion``), so setting it
is allowed in READONLY availability, like the rest of the system state.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.kinds.system_state import SPEC, SYSTEM_ID
from ryu_midonet.nsdb.ops import Ops

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

_VERSION = re.compile(r"[0-9]{1,9}(\.[0-9]{1,9}){0,3}")


def check_version(value: Any) -> str:
    """A write version as a client gives it: dotted numbers such as ``5.0``."""
    if not isinstance(value, str) or not _VERSION.fullmatch(value):
        raise errors.InvalidInput("version", "must be a version such as \"5.0\" (dotted numbers)")
    return value


class WriteVersion(Ops):
    """Reading and setting the write version."""

    def write_version(self) -> str:
        state = self.store.get("systemState", SYSTEM_ID) or SPEC.new()
        return str(state["writeVersion"])

    def set_write_version(self, version: Any) -> str:
        checked = check_version(version)

        def work(txn: Txn) -> str:
            state = txn.get("systemState", SYSTEM_ID) or {**SPEC.new(), "id": SYSTEM_ID}
            state["writeVersion"] = checked
            txn.put("systemState", state)
            return checked

        return self.store.transaction(work)
