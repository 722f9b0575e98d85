"""Routers, their ports and their routes."""

from __future__ import annotations

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.kinds.bgp import NETWORKS, PEERS
from ryu_midonet.cli.kinds.common import ID, INFILTER, OUTFILTER, STATE, TENANT, chain_ref
from ryu_midonet.cli.kinds.port import ROUTER_PORT, port_item
from ryu_midonet.cli.kinds.route import ROUTE
from ryu_midonet.cli.objtype import CliKind, Collection, ObjType, parent_id, top

ROUTER = ObjType("router", "router", "router", (
    ID, TENANT, a.Attr("name", "name"), STATE, INFILTER, OUTFILTER,
    a.Ref("load-balancer", "loadBalancerId", ref="load-balancer", clearable=True),
    a.Int("asn", "asNumber", lo=0, hi=4294967295, hidden=(0,)),
    chain_ref("local-redirect-chain", "localRedirectChainId"),
    chain_ref("forward-chain", "forwardChainId"),
), tenant=True)
ROUTER.children = {
    "port": Collection(
        "port", (ROUTER_PORT,), lambda r: f"routers/{parent_id(r)}/ports", port_item,
        create_path=lambda r: f"routers/{parent_id(r)}/ports"),
    "route": Collection(
        "route", (ROUTE,), lambda r: f"routers/{parent_id(r)}/routes",
        lambda r, x: f"routes/{x['id']}", create_path=lambda r: f"routers/{parent_id(r)}/routes"),
    "bgp-peer": PEERS,
    "bgp-network": NETWORKS,
}

CLI = CliKind(top("router", ROUTER, "routers", tenant_filter=True), device="Router")
