"""The state tables the simulator reads and writes: interfaces and in-memory implementations.

- :mod:`.tables`     MAC and ARP tables (routers' and bridges'), and :class:`State`, the
  tables one simulation uses
- :mod:`.flowstate`  the flow-state table (connection tracking and NAT entries)
- :mod:`.leases`     port blocks leased per host for dynamic SNAT

Implementations shared between agents through the store live in :mod:`ryu_midonet.statestore`.
"""

from ryu_midonet.sim.state.tables import (
    ARP_TTL,
    IP4MAC_TTL,
    MAC_TTL,
    STATIC_TTL,
    ArpTable,
    Ip4MacTable,
    MacTable,
    MemoryArpTable,
    MemoryIp4MacTable,
    MemoryMacTable,
    State,
    arp_tag,
    ip4mac_tag,
    mac_tag,
)

__all__ = ["ARP_TTL", "IP4MAC_TTL", "MAC_TTL", "STATIC_TTL", "ArpTable", "Ip4MacTable",
           "MacTable", "MemoryArpTable", "MemoryIp4MacTable", "MemoryMacTable", "State",
           "arp_tag", "ip4mac_tag", "mac_tag"]
