"""The object kinds of the topology, one module each; :data:`SPECS` registers them.

Adding a kind: write its module (a :class:`~ryu_midonet.nsdb.spec.KindSpec` named ``SPEC``)
and add it here. Order matters only for listings that span kinds (snapshots, tenants).
"""

from __future__ import annotations

from ryu_midonet.nsdb.kinds import (
    bgp_network,
    bgp_peer,
    bridge,
    chain,
    dhcp_host,
    dhcp_subnet,
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
    sfc_flow_classifier,
    sfc_port_chain,
    sfc_port_pair,
    sfc_port_pair_group,
    system_state,
    trace_request,
    tunnel_zone,
    vip,
    vtep,
)
from ryu_midonet.nsdb.spec import KindSpec

SPECS: tuple[KindSpec, ...] = (
    host.SPEC,
    tunnel_zone.SPEC,
    bridge.SPEC,
    router.SPEC,
    port.SPEC,
    route.SPEC,
    bgp_peer.SPEC,
    bgp_network.SPEC,
    chain.SPEC,
    rule.SPEC,
    port_group.SPEC,
    ip_addr_group.SPEC,
    dhcp_subnet.SPEC,
    dhcp_host.SPEC,
    load_balancer.SPEC,
    health_monitor.SPEC,
    pool.SPEC,
    pool_member.SPEC,
    vip.SPEC,
    trace_request.SPEC,
    sfc_port_pair.SPEC,
    sfc_port_pair_group.SPEC,
    sfc_flow_classifier.SPEC,
    sfc_port_chain.SPEC,
    l2insertion.SPEC,
    vtep.SPEC,
    system_state.SPEC,
)
