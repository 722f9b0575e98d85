"""Which pools are monitored, and how, read from a topology view.

A pool is monitored while it is admin-up, has a health monitor that is admin-up, and belongs
to a load balancer attached to a router (probes leave through that router).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ryu_midonet.healthmon.probes import Target


@dataclass(frozen=True)
class Monitored:
    """One monitored pool: its router, the monitor's settings and the members to probe."""

    pool_id: str
    router_id: str
    delay: float
    timeout: float
    max_retries: int
    targets: dict[str, Target] = field(default_factory=dict)
    stored: dict[str, str] = field(default_factory=dict)  # member id -> status as stored


def _number(value: Any, default: int = 1) -> int:
    return value if isinstance(value, int) and value >= 1 else default


def _target(member: dict[str, Any]) -> Target | None:
    port = member.get("protocolPort")
    try:
        address = ipaddress.IPv4Address(member.get("address"))
    except ValueError:
        return None
    if not isinstance(port, int) or not 0 < port < 65536:
        return None
    return Target(str(address), port)


def router_of(get: Callable[[str, Any], dict[str, Any] | None], pool: dict[str, Any]
              ) -> str | None:
    """The router through which ``pool`` is probed, ``None`` when it is not monitored
    (``get(kind, id)`` reads the topology)."""
    hm = get("healthMonitor", pool.get("healthMonitorId")) if pool.get(
        "healthMonitorId") else None
    lb = get("loadBalancer", pool.get("loadBalancerId")) if pool.get(
        "loadBalancerId") else None
    if hm is None or lb is None or not hm.get("adminStateUp"):
        return None
    if not pool.get("adminStateUp", True) or not lb.get("routerId"):
        return None
    return str(lb["routerId"]) if get("router", lb["routerId"]) is not None else None


def monitored(view: Any) -> dict[str, Monitored]:
    """The monitored pools of ``view`` (a topology view with ``get`` and ``all_of``)."""
    members: dict[str, list[dict[str, Any]]] = {}
    for member in view.all_of("poolMember").values():
        members.setdefault(str(member.get("poolId")), []).append(member)
    found: dict[str, Monitored] = {}
    for pool in view.all_of("pool").values():
        router_id = router_of(view.get, pool)
        if router_id is None:
            continue
        hm = view.get("healthMonitor", pool.get("healthMonitorId")) or {}
        mine = members.get(pool["id"], [])
        found[pool["id"]] = Monitored(
            pool["id"], router_id, float(_number(hm.get("delay"))),
            float(_number(hm.get("timeout"))), _number(hm.get("maxRetries")),
            {m["id"]: t for m in mine if (t := _target(m)) is not None},
            {m["id"]: str(m.get("status") or "ACTIVE") for m in mine})
    return found


def unmonitored(view: Any) -> list[str]:
    """The pools of ``view`` that are not monitored."""
    watched = monitored(view)
    return [pool_id for pool_id in view.all_of("pool") if pool_id not in watched]
