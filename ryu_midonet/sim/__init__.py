"""The packet simulator: what the virtual topology does with a packet.

``simulate(view, state, ingress_port_id, packet) -> Result`` walks a packet from the exterior
port it entered through bridges, routers and the interior links between them, and says where
it leaves (with which header rewrites), which packets the topology answers with, which ARP
resolutions it waits for (a packet to an unresolved next hop is held, not lost), which header
fields and which objects the decision depended on, and a readable trace of every step. It knows
nothing of OpenFlow: the flow translator turns results into flows.

Modules, one job each:

- :mod:`.model`        packets and results (the contract with the flow translator)
- :mod:`.topology`     the read-only topology view (over the agent's cache, or plain dicts)
- :mod:`.state`        MAC and ARP tables: interfaces and the in-memory implementation
- :mod:`.redis_state`  the same tables shared by every agent through Redis
- :mod:`.context`      what a device sees: the packet so far and the simulation it is in
- :mod:`.filters`      the hook where rule chains are evaluated
- :mod:`.chains`       rule-chain evaluation: the default filters
- :mod:`.conditions`   one rule's condition against a packet
- :mod:`.tuples`       connection 5-tuples, and the datagram an ICMP error quotes
- :mod:`.conntrack`    connection tracking (forward and return flows)
- :mod:`.nat`          static and dynamic NAT, and its reverse
- :mod:`.flowstate`    the flow-state table (conntrack and NAT entries) in memory
- :mod:`.leases`       port blocks leased per host for dynamic SNAT
- :mod:`.redis_flowstate` the flow-state table and the leases shared through Redis
- :mod:`.coordinator`  the walk from device to device; :func:`simulate`
- :mod:`.bridge`       MAC learning, unicast and flooding
- :mod:`.router`       ARP, ICMP, routing and next-hop resolution
- :mod:`.routing`      route selection (longest prefix, source, lowest weight, ECMP)
- :mod:`.packets`      the ARP and ICMP packets devices generate
- :mod:`.builder`      plain-dict topologies for tests and tools
"""

from ryu_midonet.sim.coordinator import simulate

__all__ = ["simulate"]
