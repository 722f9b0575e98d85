"""The flows joining an uplink port and its BGP namespace on the integration bridge.

Between the uplink's exterior port and the namespace's interface pass only BGP (TCP to or
from port 179 of the router port's address) and ARP: the peer's BGP to the port's address
and its ARP replies go to the namespace (ARP replies also to the agent, so the router learns
the peer's MAC as before); the namespace's BGP and ARP leave by the uplink, and anything else
it sends is dropped. All of it sits above the simulated flows, with one cookie per port.
"""

from __future__ import annotations

from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath.flows import FlowDelete, FlowSpec, Message, goto, output
from ryu_midonet.sim.core.model import ETH_ARP, ETH_IPV4, IP_TCP

BGP_PORT = 179
ARP_REPLY = 2


def flows(tunnel_key: int, uplink: int, service: int, address: str) -> list[Message]:
    """The flows of uplink port ``uplink`` (OpenFlow port) whose address is ``address``
    and of its BGP namespace's interface ``service``."""
    cookie = p.cookie(p.COOKIE_BGP, tunnel_key)
    prio = p.PRIORITY_LOCAL_SERVICE

    def flow(match: dict[str, object], *actions: object, table: int = p.TABLE_FLOWS,
             priority: int = prio) -> FlowSpec:
        return FlowSpec(table, priority, dict(match), tuple(actions),  # type: ignore[arg-type]
                        cookie=cookie)

    tcp_in = {"in_port": uplink, "eth_type": ETH_IPV4, "ip_proto": IP_TCP, "ipv4_dst": address}
    tcp_out = {"in_port": service, "eth_type": ETH_IPV4, "ip_proto": IP_TCP,
               "ipv4_src": address}
    return [
        flow({"in_port": service}, goto(p.TABLE_FLOWS), table=p.TABLE_CLASSIFY,
             priority=p.PRIORITY_PORT),
        flow({**tcp_in, "tcp_dst": BGP_PORT}, output(service)),
        flow({**tcp_in, "tcp_src": BGP_PORT}, output(service)),
        flow({"in_port": uplink, "eth_type": ETH_ARP, "arp_op": ARP_REPLY, "arp_tpa": address},
             output(service), output("controller")),
        flow({**tcp_out, "tcp_dst": BGP_PORT}, output(uplink)),
        flow({**tcp_out, "tcp_src": BGP_PORT}, output(uplink)),
        flow({"in_port": service, "eth_type": ETH_ARP, "arp_spa": address}, output(uplink)),
        flow({"in_port": service}, priority=prio - 1),
    ]


def delete(tunnel_key: int) -> FlowDelete:
    """What removes :func:`flows` of the uplink port whose tunnel key is ``tunnel_key``."""
    return FlowDelete(p.cookie(p.COOKIE_BGP, tunnel_key))
