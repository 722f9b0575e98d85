"""The MAC and ARP tables an agent simulates with: local copies of the shared ones.

Lookups never leave the process. A device's table is read from Redis once, the first time the
agent needs it, then kept current by the change feed: the agent hands every announced tag to
:meth:`LocalState.changed`, which reads that one entry again (in the feed's thread), and calls
:meth:`LocalState.reload` after it subscribes again (announcements are lost while it is not
subscribed). Each entry keeps the time it had left on the server's clock when read, so an entry
past its deadline is not used, as in Redis (:mod:`ryu_midonet.sim.state.tables`).

What the simulation learns (a MAC behind a port, a neighbour's MAC) is in the local copy at once
and written to Redis by a writer thread (:mod:`.asyncwriter`). Learning an entry again with the
same value refreshes its deadline in Redis at most once per ``REFRESH_FRACTION`` of its TTL. A
read from Redis never overwrites an entry learned here whose write is still queued (or was
learned while the read was under way): the write's own announcement brings the store's word.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.store import Store
from ryu_midonet.sim.state import (
    ARP_TTL,
    IP4MAC_TTL,
    MAC_TTL,
    State,
    arp_tag,
    ip4mac_tag,
    mac_tag,
)
from ryu_midonet.sim.state.flowstate import FLOW_TTL
from ryu_midonet.sim.state.leases import PortLeaser
from ryu_midonet.statestore.asyncwriter import QUEUE_LIMIT, AsyncWriter
from ryu_midonet.statestore.flowstate import RedisBlockLeases, RedisFlowTable
from ryu_midonet.statestore.tables import (
    Entries,
    RedisArpTable,
    RedisIp4MacTable,
    RedisMacTable,
    Write,
    mac_field,
    mac_of_field,
)

REFRESH_FRACTION = 0.25  # an unchanged entry is written again once its TTL is this far gone

Key = tuple[str, str]  # (table id, field)


class Remote(Protocol):
    """The shared table a local copy reads and writes (:class:`~.tables.RedisEntries`)."""

    kind: str

    def read(self, table_id: str, field: str = "", pattern: bool = False) -> Entries: ...

    def write(self, writes: Iterable[Write]) -> None: ...


@dataclass(frozen=True)
class _Entry:
    value: str | None  # None: removed here
    deadline: float  # on this process's monotonic clock
    stamp: int  # the local write that set it; 0: read from the store


class LocalEntries:
    """The local copy of one kind of table (``mac`` or ``arp``): the devices' tables used so
    far, by field; writes go to the store through ``writer``."""

    def __init__(self, remote: Remote, expire: Callable[[], int], ttl: float,
                 writer: AsyncWriter[Key, Write] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.remote = remote
        self.ttl = ttl
        self.clock = clock
        self.writer: AsyncWriter[Key, Write] = writer or AsyncWriter(
            remote.write, errors.unavailable, QUEUE_LIMIT, name=f"{remote.kind}-writer")
        self._expire_remote = expire
        self._tables: dict[str, dict[str, _Entry]] = {}
        self._lock = threading.Lock()
        self._seq = 0

    # -- the packet path -------------------------------------------------------------------
    def get(self, table_id: str, field: str) -> str | None:
        entry = self._table(table_id).get(field)
        if entry is None or entry.value is None or entry.deadline <= self.clock():
            return None
        return entry.value

    def left(self, table_id: str, field: str) -> float:
        """The seconds an entry has left (0: none)."""
        entry = self._table(table_id).get(field)
        if entry is None or entry.value is None:
            return 0.0
        return max(0.0, entry.deadline - self.clock())

    def put(self, table_id: str, field: str, value: str, tag: str) -> bool:
        """Set an entry here and queue its write; True when that changed the table."""
        table = self._table(table_id)
        now = self.clock()
        with self._lock:
            held = table.get(field)
            same = (held is not None and held.value == value and held.deadline > now)
            if same and held is not None and held.deadline - now > self.ttl * (
                    1 - REFRESH_FRACTION):
                return False
            self._seq += 1
            table[field] = _Entry(value, now + self.ttl, self._seq)
            self.writer.submit((table_id, field), Write(table_id, field, value, tag),
                               refresh=same)
        return not same

    def remove(self, table_id: str, field: str, tag: str) -> bool:
        table = self._table(table_id)
        with self._lock:
            held = table.get(field)
            if held is None or held.value is None:
                return False
            self._seq += 1
            table[field] = _Entry(None, 0.0, self._seq)
            self.writer.submit((table_id, field), Write(table_id, field, None, tag))
        return held.deadline > self.clock()

    def live(self, table_id: str) -> dict[str, str]:
        now = self.clock()
        return {f: e.value for f, e in list(self._table(table_id).items())
                if e.value is not None and e.deadline > now}

    # -- the feed's thread -----------------------------------------------------------------
    def changed(self, table_id: str, field: str, pattern: bool = False) -> None:
        """Read again the entries of a loaded table that an announcement named: ``field``, or
        those matching the glob ``field``."""
        if table_id not in self._tables:
            return  # read in full when first used
        start, t0 = self._seq, self.clock()
        found = self.remote.read(table_id, field, pattern)
        if pattern:
            suffix = field.lstrip("*")
            self._apply(table_id, found, start, t0, lambda f: f.endswith(suffix))
        else:
            self._apply(table_id, found, start, t0, lambda f: f == field)

    def reload(self) -> None:
        """Read every loaded table again."""
        for table_id in list(self._tables):
            self._load(table_id)

    def expire(self) -> int:
        """Age entries out of the store (announcing each); forget the dead ones here."""
        removed = self._expire_remote()
        now = self.clock()
        with self._lock:
            for table_id, table in self._tables.items():
                for field in [f for f, e in table.items() if e.deadline <= now]:
                    if not self.writer.busy((table_id, field)):
                        del table[field]
        return removed

    # -- loading ---------------------------------------------------------------------------
    def _table(self, table_id: str) -> dict[str, _Entry]:
        table = self._tables.get(table_id)
        if table is None:
            self._load(table_id)
            table = self._tables[table_id]
        return table

    def _load(self, table_id: str) -> None:
        start, t0 = self._seq, self.clock()
        found = self.remote.read(table_id)
        self._apply(table_id, found, start, t0, lambda f: True)

    def _apply(self, table_id: str, found: Entries, start: int, t0: float,
               covers: Callable[[str], bool]) -> None:
        """Take the store's entries ``found`` for the fields ``covers`` selects, except those
        written here since ``start`` or still being written."""
        with self._lock:
            table = self._tables.setdefault(table_id, {})
            for field in set(found) | {f for f in table if covers(f)}:
                held = table.get(field)
                if held is not None and (held.stamp > start
                                         or self.writer.busy((table_id, field))):
                    continue
                got = found.get(field)
                if got is None:
                    table.pop(field, None)
                else:
                    table[field] = _Entry(got[0], t0 + got[1], 0)


class LocalMacTable:
    """Bridge MAC tables (:class:`~ryu_midonet.sim.state.MacTable`) from a local copy."""

    def __init__(self, entries: LocalEntries) -> None:
        self.copy = entries

    def get(self, bridge_id: str, mac: str, vlan: int | None) -> str | None:
        return self.copy.get(bridge_id, mac_field(mac, vlan))

    def learn(self, bridge_id: str, mac: str, vlan: int | None, port_id: str) -> bool:
        field = mac_field(mac, vlan)
        if self.copy.left(bridge_id, field) > self.copy.ttl:
            return False  # a static entry (the API's): learning never overwrites it
        return self.copy.put(bridge_id, field, port_id, mac_tag(bridge_id, mac))

    def forget(self, bridge_id: str, mac: str, vlan: int | None) -> bool:
        return self.copy.remove(bridge_id, mac_field(mac, vlan), mac_tag(bridge_id, mac))

    def entries(self, bridge_id: str) -> dict[tuple[str, int | None], str]:
        return {mac_of_field(f): port for f, port in self.copy.live(bridge_id).items()}

    def expire(self) -> int:
        return self.copy.expire()


class LocalArpTable:
    """Router ARP tables (:class:`~ryu_midonet.sim.state.ArpTable`) from a local copy."""

    def __init__(self, entries: LocalEntries) -> None:
        self.copy = entries

    def get(self, router_id: str, ip: str) -> str | None:
        return self.copy.get(router_id, ip)

    def put(self, router_id: str, ip: str, mac: str) -> bool:
        return self.copy.put(router_id, ip, mac.lower(), arp_tag(router_id, ip))

    def forget(self, router_id: str, ip: str) -> bool:
        return self.copy.remove(router_id, ip, arp_tag(router_id, ip))

    def entries(self, router_id: str) -> dict[str, str]:
        return self.copy.live(router_id)

    def expire(self) -> int:
        return self.copy.expire()


class LocalIp4MacTable:
    """Bridge ARP tables (:class:`~ryu_midonet.sim.state.Ip4MacTable`) from a local copy."""

    def __init__(self, entries: LocalEntries) -> None:
        self.copy = entries

    def get(self, bridge_id: str, ip: str) -> str | None:
        return self.copy.get(bridge_id, ip)

    def learn(self, bridge_id: str, ip: str, mac: str) -> bool:
        """As :meth:`LocalEntries.put`: a static entry of the same MAC (its deadline far off)
        is neither changed nor written."""
        return self.copy.put(bridge_id, ip, mac.lower(), ip4mac_tag(bridge_id, ip))

    def forget(self, bridge_id: str, ip: str) -> bool:
        return self.copy.remove(bridge_id, ip, ip4mac_tag(bridge_id, ip))

    def entries(self, bridge_id: str) -> dict[str, str]:
        return self.copy.live(bridge_id)

    def expire(self) -> int:
        return self.copy.expire()


class LocalState:
    """An agent's state tables: MAC and ARP (routers' and bridges') from local copies, flow
    state and SNAT leases on Redis (read and written on the packet path, as
    :func:`~.redis_state` has them)."""

    def __init__(self, store: Store, mac_ttl: float = MAC_TTL, arp_ttl: float = ARP_TTL,
                 flow_ttl: float = FLOW_TTL, host_id: str | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 ip4mac_ttl: float = IP4MAC_TTL) -> None:
        macs, arps = RedisMacTable(store, mac_ttl), RedisArpTable(store, arp_ttl)
        ip4macs = RedisIp4MacTable(store, ip4mac_ttl)
        self.macs = LocalEntries(macs.raw, macs.expire, mac_ttl, clock=clock)
        self.arps = LocalEntries(arps.raw, arps.expire, arp_ttl, clock=clock)
        self.ip4macs = LocalEntries(ip4macs.raw, ip4macs.expire, ip4mac_ttl, clock=clock)
        self.state = State(LocalMacTable(self.macs), LocalArpTable(self.arps),
                           RedisFlowTable(store, flow_ttl),
                           PortLeaser(RedisBlockLeases(store, host_id)),
                           ip4macs=LocalIp4MacTable(self.ip4macs))

    def changed(self, tag: str) -> None:
        """An announced tag: read the entry it names again, if its table is copied here."""
        kind, _, rest = tag.partition(":")
        table_id, _, key = rest.partition(":")
        if not key:
            return
        if kind == "mac":
            self.macs.changed(table_id, f"*/{key}", pattern=True)
        elif kind == "arp":
            self.arps.changed(table_id, key)
        elif kind == "ip4mac":
            self.ip4macs.changed(table_id, key)

    def reload(self) -> None:
        """Read every copied table again (after announcements may have been missed)."""
        self.macs.reload()
        self.arps.reload()
        self.ip4macs.reload()

    def wait_written(self, timeout: float) -> bool:
        """Wait until every queued write was made; False when ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        return all(e.writer.wait_idle(max(0.0, deadline - time.monotonic()))
                   for e in (self.macs, self.arps, self.ip4macs))

    def close(self) -> None:
        """Stop the writer threads."""
        self.macs.writer.close()
        self.arps.writer.close()
        self.ip4macs.writer.close()
