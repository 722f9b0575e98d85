"""The REST side of the object kinds, one module each; :data:`RESOURCES` registers them.

Adding a kind: write its module (a :class:`~ryu_midonet.rest.resource.RestKind` named
``REST``) and add it here, in the order the application root lists it.
"""

from __future__ import annotations

from ryu_midonet.rest.kinds import (
    bgp_network,
    bgp_peer,
    bridge,
    chain,
    health_monitor,
    host,
    ip_addr_group,
    l2insertion,
    load_balancer,
    pool,
    pool_member,
    port,
    port_group,
    route,
    router,
    rule,
    sfc,
    trace_request,
    tunnel_zone,
    vip,
    vtep,
)
from ryu_midonet.rest.resource import RestKind

RESOURCES: tuple[RestKind, ...] = (
    bridge.REST,
    router.REST,
    port.REST,
    route.REST,
    bgp_peer.REST,
    bgp_network.REST,
    chain.REST,
    rule.REST,
    host.REST,
    tunnel_zone.REST,
    port_group.REST,
    ip_addr_group.REST,
    load_balancer.REST,
    pool.REST,
    pool_member.REST,
    vip.REST,
    health_monitor.REST,
    trace_request.REST,
    sfc.PORT_PAIR,
    sfc.PORT_PAIR_GROUP,
    sfc.FLOW_CLASSIFIER,
    sfc.PORT_CHAIN,
    l2insertion.REST,
    vtep.REST,
)
BY_KIND: dict[str, RestKind] = {rk.kind: rk for rk in RESOURCES}
