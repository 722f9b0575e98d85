"""VIPs: the address and TCP port clients connect to, balanced over one pool's members.

A VIP belongs to a pool (``poolId``, required) and carries its pool's ``loadBalancerId``.
``sessionPersistence`` is null or ``SOURCE_IP`` (every connection of one client to one member).
While the pool's health monitoring is on (a monitor attached and admin-up), a VIP must not lie
in the subnet of a member (a router port subnet of the load balancer's router holding both),
as MidoNet requires; :func:`check_vip_subnets` enforces it from every side.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

PERSISTENCE = ("SOURCE_IP",)


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    if parent_id is not None:
        obj["poolId"] = parent_id
    if obj.get("poolId") is None:
        raise errors.InvalidInput("poolId", "is required: a VIP belongs to a pool")
    _check(txn, obj)


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    _check(txn, obj)


def _check(txn: Txn, obj: Obj) -> None:
    pool = txn.get("pool", obj["poolId"])
    if pool is None:
        raise errors.InvalidInput("poolId", f"pool {obj['poolId']} does not exist")
    obj["loadBalancerId"] = pool["loadBalancerId"]
    check_vip_subnets(txn, pool, field="address", vips=[obj])


def _subnets(txn: Txn, pool: Obj) -> list[ipaddress.IPv4Network]:
    lb = txn.get("loadBalancer", pool.get("loadBalancerId"))
    router_id = lb.get("routerId") if lb else None
    if not router_id:
        return []
    nets = []
    for port in txn.list_by("port", "deviceId", router_id):
        if port.get("portAddress") and port.get("networkLength") is not None:
            nets.append(ipaddress.IPv4Interface(
                f"{port['portAddress']}/{port['networkLength']}").network)
    return nets


def monitoring_on(txn: Txn, pool: Obj) -> bool:
    """Whether the pool has a health monitor attached and admin-up."""
    hm = txn.get("healthMonitor", pool.get("healthMonitorId"))
    return bool(hm and hm.get("adminStateUp"))


def check_vip_subnets(txn: Txn, pool: Obj, *, field: str, vips: list[Obj] | None = None,
                      members: list[Obj] | None = None, monitored: bool | None = None) -> None:
    """Refuse (400 naming ``field``) a VIP of ``pool`` in a subnet of one of its members
    while the pool's health monitoring is on. ``vips`` and ``members`` replace the stored
    objects of the same ids (the objects being written)."""
    if not (monitoring_on(txn, pool) if monitored is None else monitored):
        return
    nets = _subnets(txn, pool)
    if not nets:
        return
    all_vips = _merged(txn.list_by("vip", "poolId", pool["id"]), vips or [])
    all_members = _merged(txn.list_by("poolMember", "poolId", pool["id"]), members or [])
    for net in nets:
        inside = [m for m in all_members if ipaddress.IPv4Address(m["address"]) in net]
        for vip in all_vips:
            if inside and ipaddress.IPv4Address(vip["address"]) in net:
                raise errors.InvalidInput(field, f"VIP {vip['address']} is in {net}, the "
                                          f"subnet of member {inside[0]['address']}: not "
                                          "allowed while the pool is health-monitored")


def _merged(stored: list[Obj], written: list[Obj]) -> list[Obj]:
    ids = {o["id"] for o in written}
    return [o for o in stored if o["id"] not in ids] + written


SPEC = KindSpec(
    "vip",
    {
        "poolId": Field("uuid", ref="pool", index=True, on_delete=OnDelete.CASCADE),
        "loadBalancerId": Field("uuid", ref="loadBalancer", index=True, create=False,
                                update=False),
        "address": Field("ipv4", required=True, nullable=False),
        "protocolPort": Field("int", required=True, lo=1, hi=65535, nullable=False),
        "sessionPersistence": Field("enum", choices=PERSISTENCE),
        "adminStateUp": Field("bool", True, nullable=False),
    },
    parents=("pool",),
    parent_field="poolId",
    on_create=_create,
    on_update=_update,
)
