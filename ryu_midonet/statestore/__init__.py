"""The simulator's state tables shared by every agent, on the topology store's Redis.

The simulator (:mod:`ryu_midonet.sim.state`) defines the tables' interfaces and in-memory
implementations; this package implements them on the store, where every host sees the same
entries:

- :mod:`.tables`     bridge MAC and ARP tables, router ARP tables
- :mod:`.flowstate`  the flow-state table (conntrack, NAT) and the SNAT port-block leases
- :mod:`.natleases`  the NAT port blocks and return paths of source NAT in the datapath
- :mod:`.changes`    following the announcements of changed entries
- :mod:`.localcopy`  an agent's local copies of the MAC and ARP tables, current from the
  announcements, written through :mod:`.asyncwriter` (off the packet path)
- :mod:`.common`     the server clock in Lua, the change channel, decoding replies
"""

from __future__ import annotations

from ryu_midonet.nsdb.store import Store
from ryu_midonet.sim.state import ARP_TTL, MAC_TTL, State
from ryu_midonet.sim.state.flowstate import FLOW_TTL
from ryu_midonet.sim.state.leases import PortLeaser
from ryu_midonet.statestore.changes import StateChanges
from ryu_midonet.statestore.flowstate import RedisBlockLeases, RedisFlowTable
from ryu_midonet.statestore.localcopy import LocalState
from ryu_midonet.statestore.tables import RedisArpTable, RedisIp4MacTable, RedisMacTable

__all__ = ["LocalState", "RedisArpTable", "RedisBlockLeases", "RedisFlowTable",
           "RedisIp4MacTable", "RedisMacTable", "StateChanges", "redis_state"]


def redis_state(store: Store, mac_ttl: float = MAC_TTL, arp_ttl: float = ARP_TTL,
                flow_ttl: float = FLOW_TTL, host_id: str | None = None) -> State:
    """Every table on the store's Redis, read and written at each call: MAC, ARP, flow state,
    and SNAT port leases held by ``host_id`` (default: an id unique to this process). Agents
    use :class:`LocalState` instead."""
    return State(RedisMacTable(store, mac_ttl), RedisArpTable(store, arp_ttl),
                 RedisFlowTable(store, flow_ttl),
                 PortLeaser(RedisBlockLeases(store, host_id)),
                 ip4macs=RedisIp4MacTable(store))
