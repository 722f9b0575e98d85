"""Members of a pool: the back-end servers (address and TCP port) connections go to.

A member gets new connections in proportion to its ``weight`` (0 takes none) while it is
admin-up and ACTIVE. ``status`` is read-only: health monitoring writes it (INACTIVE while the
member fails its probes); a member of a pool without a monitor stays ACTIVE.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.kinds.pool import in_parent
from ryu_midonet.nsdb.kinds.vip import check_vip_subnets
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

WEIGHT_MAX = 256  # as Neutron LBaaS v1
MEMBER_STATUSES = ("ACTIVE", "INACTIVE")

_in_pool = in_parent("pool", "poolId")


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    _in_pool(txn, obj, parent_id, data)
    _check(txn, obj)


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    _check(txn, obj)


def _check(txn: Txn, obj: Obj) -> None:
    pool = txn.get("pool", obj["poolId"])
    if pool is not None:
        check_vip_subnets(txn, pool, field="address", members=[obj])


SPEC = KindSpec(
    "poolMember",
    {
        "poolId": Field("uuid", ref="pool", index=True, update=False,
                        on_delete=OnDelete.CASCADE),
        "address": Field("ipv4", required=True, nullable=False),
        "protocolPort": Field("int", required=True, lo=1, hi=65535, nullable=False),
        "weight": Field("int", 1, lo=0, hi=WEIGHT_MAX, nullable=False),
        "adminStateUp": Field("bool", True, nullable=False),
        # written by health monitoring
        "status": Field("enum", "ACTIVE", choices=MEMBER_STATUSES, create=False, update=False),
    },
    parents=("pool",),
    parent_field="poolId",
    on_create=_create,
    on_update=_update,
)
