"""Health monitors: TCP connect probes of a pool's members.

``delay`` seconds between probes, ``timeout`` seconds to wait for one, ``maxRetries`` failed
probes before a member turns INACTIVE. A new monitor is admin-down unless the request says
otherwise (as MidoNet did); its pools are monitored once it is attached and admin-up. One
monitor may serve many pools. ``status`` is read-only: health monitoring writes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.nsdb.fields import Field
from ryu_midonet.nsdb.kinds.vip import check_vip_subnets
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

TYPES = ("TCP",)
STATUSES = ("ACTIVE", "INACTIVE", "ERROR")
COUNT_MAX = 2147483647


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    if obj.get("adminStateUp") and not old.get("adminStateUp"):
        for pool in txn.list_by("pool", "healthMonitorId", obj["id"]):
            check_vip_subnets(txn, pool, field="adminStateUp", monitored=True)


def _count() -> Field:
    return Field("int", required=True, lo=1, hi=COUNT_MAX, nullable=False)


SPEC = KindSpec(
    "healthMonitor",
    {
        "type": Field("enum", "TCP", choices=TYPES, nullable=False),
        "delay": _count(),
        "timeout": _count(),
        "maxRetries": _count(),
        "adminStateUp": Field("bool", False, nullable=False),
        # written by health monitoring
        "status": Field("enum", "ACTIVE", choices=STATUSES, create=False, update=False),
    },
    on_update=_update,
)
