"""Routers: L3 devices with ports and routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.nsdb.fields import Field
from ryu_midonet.nsdb.kinds.bgp_peer import router_keeps_as
from ryu_midonet.nsdb.kinds.chain import chain_ref
from ryu_midonet.nsdb.kinds.load_balancer import router_attach, router_create
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn


def _update(txn: Txn, old: Obj | None, router: Obj) -> None:
    router_keeps_as(txn, old, router)
    router_attach(txn, old, router)


SPEC = KindSpec(
    "router",
    {
        "tenantId": Field("str", index=True),
        "name": Field("str"),
        "adminStateUp": Field("bool", True, nullable=False),
        "inboundFilterId": chain_ref(),
        "outboundFilterId": chain_ref(),
        "forwardChainId": chain_ref(),
        "localRedirectChainId": chain_ref(),
        "loadBalancerId": Field("uuid"),  # kept in step with the load balancer's routerId
        "asNumber": Field("int", 0, lo=0, hi=4294967295, nullable=False),
        "inboundMirrorIds": Field("uuids", [], create=False, update=False),
        "outboundMirrorIds": Field("uuids", [], create=False, update=False),
    },
    owns=(("port", "deviceId"), ("route", "routerId")),
    on_create=router_create,
    on_update=_update,
)
