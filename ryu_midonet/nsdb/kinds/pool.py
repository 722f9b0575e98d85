"""Pools of a load balancer: the members a VIP's connections are balanced over.

Round robin (weighted by the members' weights) is the only method and TCP the only protocol.
A pool has at most one health monitor (``healthMonitorId``); one monitor may serve many pools.
Deleting a pool deletes its members and VIPs; deleting its load balancer deletes the pool.
``status`` is read-only: health monitoring writes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.kinds.vip import check_vip_subnets
from ryu_midonet.nsdb.spec import CreateHook, KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

LB_METHODS = ("ROUND_ROBIN",)
PROTOCOLS = ("TCP",)
STATUSES = ("ACTIVE", "INACTIVE", "PENDING_CREATE", "PENDING_UPDATE", "PENDING_DELETE", "ERROR")


def in_parent(parent_kind: str, field: str) -> CreateHook:
    """A create hook for a kind made in a parent's collection or, naming the parent in
    ``field``, in the top-level one (as python-midonetclient does both)."""

    def create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
        if parent_id is not None:
            obj[field] = parent_id
        if obj.get(field) is None:
            raise errors.InvalidInput(field, "is required")
        if txn.get(parent_kind, obj[field]) is None:
            if parent_id is not None:
                raise errors.NotFound(parent_kind, parent_id)
            raise errors.InvalidInput(field, f"{parent_kind} {obj[field]} does not exist")

    return create


_in_lb = in_parent("loadBalancer", "loadBalancerId")


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    _in_lb(txn, obj, parent_id, data)
    _check_monitor(txn, obj)


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    _check_monitor(txn, obj)
    if obj.get("healthMonitorId") != old.get("healthMonitorId"):
        check_vip_subnets(txn, obj, field="healthMonitorId")


def _check_monitor(txn: Txn, obj: Obj) -> None:
    hm_id = obj.get("healthMonitorId")
    if hm_id is not None and txn.get("healthMonitor", hm_id) is None:
        raise errors.InvalidInput("healthMonitorId", f"health monitor {hm_id} does not exist")


SPEC = KindSpec(
    "pool",
    {
        "loadBalancerId": Field("uuid", ref="loadBalancer", index=True, update=False,
                                on_delete=OnDelete.CASCADE),
        "healthMonitorId": Field("uuid", ref="healthMonitor", index=True,
                                 on_delete=OnDelete.CLEAR),
        "protocol": Field("enum", "TCP", choices=PROTOCOLS, nullable=False),
        "lbMethod": Field("enum", choices=LB_METHODS, required=True),
        "adminStateUp": Field("bool", True, nullable=False),
        # written by health monitoring
        "status": Field("enum", "ACTIVE", choices=STATUSES, create=False, update=False),
    },
    parents=("loadBalancer",),
    parent_field="loadBalancerId",
    owns=(("poolMember", "poolId"), ("vip", "poolId")),
    on_create=_create,
    on_update=_update,
)
