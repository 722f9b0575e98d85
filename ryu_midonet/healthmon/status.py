"""Member and pool status in the store, written when it changes.

A member's ``status`` is what its probes concluded; a pool's is ACTIVE while it has no
members or one of them is ACTIVE, INACTIVE otherwise. Members of a pool that is not monitored
are ACTIVE (:func:`reset`). Each write is one transaction that reads what it changes, so
writers on several hosts never undo each other's newer decision.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ryu_midonet.healthmon.pools import router_of
from ryu_midonet.healthmon.probes import ACTIVE, INACTIVE

LOG = logging.getLogger(__name__)


def _pool_status(members: list[dict[str, Any]]) -> str:
    return ACTIVE if not members or any(m.get("status") != INACTIVE for m in members) \
        else INACTIVE


def write(store: Any, pool_id: str, changes: Mapping[str, str]) -> bool:
    """Write the new ``changes`` (member id -> status) of ``pool_id``'s members, and the
    pool's status that follows; whether the store took them."""

    def work(txn: Any) -> None:
        pool = txn.get("pool", pool_id)
        if pool is None:
            return
        members = txn.list_by("poolMember", "poolId", pool_id)
        for member in members:
            status = changes.get(member["id"])
            if status is not None and member.get("status") != status:
                member["status"] = status
                txn.put("poolMember", member)
        status = _pool_status(members)
        if pool.get("status") != status:
            pool["status"] = status
            txn.put("pool", pool)

    try:
        store.transaction(work)
    except Exception as exc:  # noqa: BLE001 - the next round writes again
        LOG.warning("status of pool %s members not written: %s", pool_id, exc)
        return False
    return True


def reset(store: Any, pool_id: str) -> bool:
    """Make the members (and the pool) of an unmonitored pool ACTIVE; nothing when the pool
    is monitored again by the time of the write. Whether the store took it."""

    def work(txn: Any) -> None:
        pool = txn.get("pool", pool_id)
        if pool is None or router_of(txn.get, pool) is not None:
            return
        for member in txn.list_by("poolMember", "poolId", pool_id):
            if member.get("status") != ACTIVE:
                member["status"] = ACTIVE
                txn.put("poolMember", member)
        if pool.get("status") != ACTIVE:
            pool["status"] = ACTIVE
            txn.put("pool", pool)

    try:
        store.transaction(work)
    except Exception as exc:  # noqa: BLE001 - tried again at the next change
        LOG.warning("status of unmonitored pool %s not reset: %s", pool_id, exc)
        return False
    return True
