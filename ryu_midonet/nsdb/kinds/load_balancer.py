"""L4 load balancers: each acts on the traffic through the one router it is attached to.

The attachment is kept on both sides, as MidoNet's DTOs show it: the load balancer's
``routerId`` and the router's ``loadBalancerId``. Either side may be written (``router X set
load-balancer lbN`` writes the router's); the other follows. A router carries at most one load
balancer and a load balancer serves at most one router. Deleting a router deletes its load
balancer (with its pools, their members and VIPs), as MidoNet did; deleting a load balancer
detaches it from its router.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    _attach(txn, obj, None)


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    _attach(txn, obj, old.get("routerId"))


def _attach(txn: Txn, lb: Obj, old_router_id: str | None) -> None:
    """Make the router side follow the load balancer's ``routerId``."""
    router_id = lb.get("routerId")
    if router_id == old_router_id:
        return
    if router_id is not None:
        router = txn.get("router", router_id)
        if router is None:
            raise errors.InvalidInput("routerId", f"router {router_id} does not exist")
        taken = router.get("loadBalancerId")
        if taken and taken != lb["id"]:
            raise errors.InvalidInput("routerId", f"router {router_id} already has load "
                                      f"balancer {taken}")
        router["loadBalancerId"] = lb["id"]
        txn.put("router", router)
    _release(txn, old_router_id, lb["id"])


def _release(txn: Txn, router_id: str | None, lb_id: str) -> None:
    router = txn.get("router", router_id) if router_id else None
    if router is not None and router.get("loadBalancerId") == lb_id:
        router["loadBalancerId"] = None
        txn.put("router", router)


def _delete(txn: Txn, lb: Obj) -> None:
    _release(txn, lb.get("routerId"), lb["id"])


def router_attach(txn: Txn, old: Obj | None, router: Obj) -> None:
    """Router hook: make the load balancer side follow the router's ``loadBalancerId``."""
    lb_id = router.get("loadBalancerId")
    old_lb_id = old.get("loadBalancerId") if old else None
    if lb_id == old_lb_id:
        return
    if lb_id is not None:
        lb = txn.get("loadBalancer", lb_id)
        if lb is None:
            raise errors.InvalidInput("loadBalancerId", f"load balancer {lb_id} does not exist")
        if lb.get("routerId") and lb["routerId"] != router["id"]:
            raise errors.InvalidInput("loadBalancerId", f"load balancer {lb_id} is attached "
                                      f"to router {lb['routerId']}")
        lb["routerId"] = router["id"]
        txn.put("loadBalancer", lb)
    old_lb = txn.get("loadBalancer", old_lb_id) if old_lb_id else None
    if old_lb is not None and old_lb.get("routerId") == router["id"]:
        old_lb["routerId"] = None
        txn.put("loadBalancer", old_lb)


def router_create(txn: Txn, router: Obj, parent_id: str | None, data: Any) -> None:
    router_attach(txn, None, router)


SPEC = KindSpec(
    "loadBalancer",
    {
        "routerId": Field("uuid", ref="router", index=True, on_delete=OnDelete.CASCADE),
        "adminStateUp": Field("bool", True, nullable=False),
    },
    on_create=_create,
    on_update=_update,
    on_delete=_delete,
)
