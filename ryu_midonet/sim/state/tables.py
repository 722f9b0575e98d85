"""The state tables the simulator reads and writes: bridge MAC tables, router ARP tables, and
the flow state of rule chains (connection tracking and NAT, :mod:`.flowstate`, with the SNAT
port leases of :mod:`.leases`).

A MAC entry says behind which bridge port a MAC (on a VLAN, None: untagged) was last seen; it
ages out ``mac_ttl`` seconds (default 300) after it was last learned or refreshed. An ARP entry
maps a router's neighbour IPv4 address to its MAC and expires ``arp_ttl`` seconds (default
3600) after it was last set. A bridge's IPv4-to-MAC entry (its ARP table, MidoNet's
``Ip4MacPair``) is learned from the ARP a VM sends and ages out ``ip4mac_ttl`` seconds (default
300) after it was last learned; a static one (entered through the API) lasts
:data:`STATIC_TTL`.

Every change that can alter a decision is announced with the tag of the entry --
``mac:<bridge>:<mac>``, ``arp:<router>:<ip>`` or ``ip4mac:<bridge>:<ip>``, the tags simulation
results carry -- so the flows built on the entry (or on its absence: a flood to an unknown MAC)
can be removed. A refresh that keeps the same value announces nothing; a new value, a removal
and an expiry do. Expired entries read as absent at once; :meth:`MacTable.expire` and the
others remove them and announce the removals (the agent calls them periodically).

This module holds the interfaces and the in-memory implementation (one process: tests, tools);
:mod:`ryu_midonet.statestore` shares the tables between agents.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ryu_midonet.sim.state.flowstate import FLOW_TTL, FlowTable, MemoryFlowTable
from ryu_midonet.sim.state.leases import LeaseBoard, MemoryBlockLeases, PortLeaser
from ryu_midonet.sim.state.natranges import NatRanges

MAC_TTL = 300.0
ARP_TTL = 3600.0
IP4MAC_TTL = 300.0
STATIC_TTL = 10 * 365 * 86400.0  # a static bridge ARP entry: never ages out in practice

Listener = Callable[[str], None]  # called with the tag of a changed entry


def mac_tag(bridge_id: str, mac: str) -> str:
    return f"mac:{bridge_id}:{mac.lower()}"


def arp_tag(router_id: str, ip: str) -> str:
    return f"arp:{router_id}:{ip}"


def ip4mac_tag(bridge_id: str, ip: str) -> str:
    return f"ip4mac:{bridge_id}:{ip}"


class MacTable(Protocol):
    def get(self, bridge_id: str, mac: str, vlan: int | None) -> str | None:
        """The port ``mac`` was learned on, None when unknown or aged out."""
        ...

    def learn(self, bridge_id: str, mac: str, vlan: int | None, port_id: str) -> bool:
        """Record (or refresh) ``mac`` behind ``port_id``; True when that changed the table."""
        ...

    def forget(self, bridge_id: str, mac: str, vlan: int | None) -> bool:
        """Remove an entry; True when there was one."""
        ...

    def entries(self, bridge_id: str) -> dict[tuple[str, int | None], str]:
        """The live entries of a bridge: (mac, vlan) -> port id."""
        ...

    def expire(self) -> int:
        """Remove the aged-out entries of every bridge, announcing each; returns how many."""
        ...


class ArpTable(Protocol):
    def get(self, router_id: str, ip: str) -> str | None:
        """The MAC of neighbour ``ip``, None when unknown or expired."""
        ...

    def put(self, router_id: str, ip: str, mac: str) -> bool:
        """Record (or refresh) ``ip`` -> ``mac``; True when that changed the table."""
        ...

    def forget(self, router_id: str, ip: str) -> bool:
        ...

    def entries(self, router_id: str) -> dict[str, str]:
        """The live entries of a router: ip -> mac."""
        ...

    def expire(self) -> int:
        ...


class Ip4MacTable(Protocol):
    """Bridge ARP tables: IPv4 address -> MAC, per bridge."""

    def get(self, bridge_id: str, ip: str) -> str | None:
        """The MAC of ``ip`` on the bridge, None when unknown or aged out."""
        ...

    def learn(self, bridge_id: str, ip: str, mac: str) -> bool:
        """Record (or refresh) ``ip`` -> ``mac``; True when that changed the table."""
        ...

    def forget(self, bridge_id: str, ip: str) -> bool:
        ...

    def entries(self, bridge_id: str) -> dict[str, str]:
        """The live entries of a bridge: ip -> mac."""
        ...

    def expire(self) -> int:
        ...


@dataclass
class State:
    """The state tables one simulation uses.

    ``flows`` and ``leases`` default to in-memory ones private to this object: enough for a
    single host; agents sharing a topology share them through Redis (:mod:`ryu_midonet.statestore`).
    With ``nat_ranges``, dynamic source NAT of TCP and UDP is left to the datapath's
    connection tracker where it can be (:mod:`.natranges`).
    """

    macs: MacTable
    arps: ArpTable
    flows: FlowTable = field(default_factory=MemoryFlowTable)
    leases: PortLeaser = field(default_factory=lambda: PortLeaser(MemoryBlockLeases()))
    nat_ranges: NatRanges | None = None
    ip4macs: Ip4MacTable = field(default_factory=lambda: MemoryIp4MacTable())

    @classmethod
    def in_memory(cls, mac_ttl: float = MAC_TTL, arp_ttl: float = ARP_TTL,
                  clock: Callable[[], float] = time.monotonic,
                  flow_ttl: float = FLOW_TTL, ip4mac_ttl: float = IP4MAC_TTL) -> State:
        """Every table in this process; each announces changes to its ``listeners``."""
        return cls(MemoryMacTable(mac_ttl, clock), MemoryArpTable(arp_ttl, clock),
                   MemoryFlowTable(flow_ttl, clock),
                   PortLeaser(MemoryBlockLeases(board=LeaseBoard(clock=clock))),
                   ip4macs=MemoryIp4MacTable(ip4mac_ttl, clock))


# -- in memory ---------------------------------------------------------------------------------

Key = tuple[str, str]  # (table id, entry key)


@dataclass
class _ExpiringMap:
    """Values with deadlines, announcing changes by tag."""

    ttl: float
    clock: Callable[[], float]
    tag_of: Callable[[Key], str]
    listeners: list[Listener] = field(default_factory=list)
    data: dict[Key, tuple[str, float]] = field(default_factory=dict)

    def get(self, key: Key) -> str | None:
        held = self.data.get(key)
        if held is None or held[1] <= self.clock():
            return None
        return held[0]

    def put(self, key: Key, value: str, ttl: float | None = None) -> bool:
        changed = self.get(key) != value
        self.data[key] = (value, self.clock() + (self.ttl if ttl is None else ttl))
        if changed:
            self._announce(key)
        return changed

    def forget(self, key: Key) -> bool:
        held = self.data.pop(key, None)
        if held is not None:
            self._announce(key)
        return held is not None

    def live(self, table_id: str) -> dict[str, str]:
        now = self.clock()
        return {k: v for (t, k), (v, deadline) in self.data.items()
                if t == table_id and deadline > now}

    def expire(self) -> int:
        now = self.clock()
        gone = [key for key, (_, deadline) in self.data.items() if deadline <= now]
        for key in gone:
            self.forget(key)
        return len(gone)

    def _announce(self, key: Key) -> None:
        tag = self.tag_of(key)
        for listener in list(self.listeners):
            listener(tag)


def _mac_key(mac: str, vlan: int | None) -> str:
    return f"{'-' if vlan is None else vlan}/{mac.lower()}"


def _mac_of_key(key: str) -> tuple[str, int | None]:
    vlan, mac = key.split("/", 1)
    return mac, None if vlan == "-" else int(vlan)


class MemoryMacTable:
    """Bridge MAC tables in this process."""

    def __init__(self, ttl: float = MAC_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self._map = _ExpiringMap(ttl, clock, lambda k: mac_tag(k[0], _mac_of_key(k[1])[0]))

    @property
    def listeners(self) -> list[Listener]:
        return self._map.listeners

    def get(self, bridge_id: str, mac: str, vlan: int | None) -> str | None:
        return self._map.get((bridge_id, _mac_key(mac, vlan)))

    def learn(self, bridge_id: str, mac: str, vlan: int | None, port_id: str) -> bool:
        key = (bridge_id, _mac_key(mac, vlan))
        if self._map.data.get(key, ("", 0.0))[1] == math.inf:
            return False  # a static entry: learning never overwrites it
        return self._map.put(key, port_id)

    def add_static(self, bridge_id: str, mac: str, vlan: int | None, port_id: str) -> bool:
        """An entry that never ages out and that learning never overwrites."""
        key = (bridge_id, _mac_key(mac, vlan))
        changed = self._map.get(key) != port_id
        self._map.data[key] = (port_id, math.inf)
        if changed:
            self._map._announce(key)
        return changed

    def forget(self, bridge_id: str, mac: str, vlan: int | None) -> bool:
        return self._map.forget((bridge_id, _mac_key(mac, vlan)))

    def entries(self, bridge_id: str) -> dict[tuple[str, int | None], str]:
        return {_mac_of_key(k): v for k, v in self._map.live(bridge_id).items()}

    def expire(self) -> int:
        return self._map.expire()


class MemoryArpTable:
    """Router ARP tables in this process."""

    def __init__(self, ttl: float = ARP_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self._map = _ExpiringMap(ttl, clock, lambda k: arp_tag(k[0], k[1]))

    @property
    def listeners(self) -> list[Listener]:
        return self._map.listeners

    def get(self, router_id: str, ip: str) -> str | None:
        return self._map.get((router_id, ip))

    def put(self, router_id: str, ip: str, mac: str) -> bool:
        return self._map.put((router_id, ip), mac.lower())

    def forget(self, router_id: str, ip: str) -> bool:
        return self._map.forget((router_id, ip))

    def entries(self, router_id: str) -> dict[str, str]:
        return self._map.live(router_id)

    def expire(self) -> int:
        return self._map.expire()


class MemoryIp4MacTable:
    """Bridge ARP tables in this process."""

    def __init__(self, ttl: float = IP4MAC_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._map = _ExpiringMap(ttl, clock, lambda k: ip4mac_tag(k[0], k[1]))

    @property
    def listeners(self) -> list[Listener]:
        return self._map.listeners

    def get(self, bridge_id: str, ip: str) -> str | None:
        return self._map.get((bridge_id, ip))

    def learn(self, bridge_id: str, ip: str, mac: str) -> bool:
        mac = mac.lower()
        held = self._map.data.get((bridge_id, ip))
        if held is not None and held[0] == mac and held[1] - self._map.clock() > self.ttl:
            return False  # a static entry: learning the same MAC keeps it static
        return self._map.put((bridge_id, ip), mac)

    def add_static(self, bridge_id: str, ip: str, mac: str) -> bool:
        """An entry that does not age out (:data:`STATIC_TTL`)."""
        return self._map.put((bridge_id, ip), mac.lower(), STATIC_TTL)

    def forget(self, bridge_id: str, ip: str) -> bool:
        return self._map.forget((bridge_id, ip))

    def entries(self, bridge_id: str) -> dict[str, str]:
        return self._map.live(bridge_id)

    def expire(self) -> int:
        return self._map.expire()
