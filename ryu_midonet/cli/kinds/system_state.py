"""The system state, a singleton shown and set as ``system-state``."""

from __future__ import annotations

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.objtype import CliKind, ObjType, Singleton, same

PATH = "system_state"

SYSTEM_STATE = ObjType("system-state", "system_state", None, (
    a.Enum("state", "state", choices=same("ACTIVE", "UPGRADE"), upper=True),
    a.Enum("availability", "availability", choices=same("READWRITE", "READONLY"), upper=True),
    a.Attr("information", "information", writable=False),
))

CLI = CliKind(singleton=Singleton("system-state", SYSTEM_STATE, PATH))
