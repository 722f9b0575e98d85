"""The packet simulator: what the virtual topology does with a packet.

``simulate(view, state, ingress_port_id, packet) -> Result`` walks a packet from the exterior
port it entered through bridges, routers and the interior links between them, and says where
it leaves (with which header rewrites), which packets the topology answers with, which ARP
resolutions it waits for (a packet to an unresolved next hop is held, not lost), which header
fields and which objects the decision depended on, and a trace of every step. It knows
nothing of OpenFlow, of the store or of Redis: the flow translator turns results into flows,
and the agent gives it its topology view and state tables.

Packages, lowest layer first (a layer imports only the layers below it):

- :mod:`.state`     the state tables: MAC, ARP, flow state (conntrack, NAT), SNAT port
  leases; interfaces and in-memory implementations
- :mod:`.core`      packets and results (the contract with the flow translator), verdicts,
  pipeline stages and the trace, the topology view, frames and the context devices see, the
  packets devices generate, and the walk from device to device
- :mod:`.rules`     rule chains: evaluation, conditions, one module per rule type, 5-tuples,
  connection tracking, NAT
- :mod:`.devices`   bridge (MAC learning, unicast, flooding), router (ARP, ICMP, routing)
  and route selection
- :mod:`.simulator` the walk with the real devices, chains and flow state: :func:`simulate`
"""

from ryu_midonet.sim.simulator import simulate

__all__ = ["simulate"]
