"""The state tables the simulator reads and writes: interfaces and in-memory implementations.

- :mod:`.tables`     MAC and ARP tables, and :class:`State`, the tables one simulation uses
- :mod:`.flowstate`  the flow-state table (connection tracking and NAT entries)
- :mod:`.leases`     port blocks leased per host for dynamic SNAT

Implementations shared between agents through the store live in :mod:`ryu_midonet.statestore`.
"""

from ryu_midonet.sim.state.tables import (
    ARP_TTL,
    MAC_TTL,
    ArpTable,
    MacTable,
    MemoryArpTable,
    MemoryMacTable,
    State,
    arp_tag,
    mac_tag,
)

__all__ = ["ARP_TTL", "MAC_TTL", "ArpTable", "MacTable", "MemoryArpTable", "MemoryMacTable",
           "State", "arp_tag", "mac_tag"]
