"""The flow-state table: connection-tracking and NAT entries shared by every agent.

Entries map a key (``ct:...`` for connection tracking, ``nat:...`` for NAT; see
:mod:`ryu_midonet.sim.rules.conntrack` and :mod:`ryu_midonet.sim.rules.nat`; ``lb:sticky:...``
for a load balancer's sticky sources) to a short string, and live ``ttl`` seconds (default
:data:`FLOW_TTL`; :data:`STICKY_TTL` for sticky sources, see :func:`ttl_of`) after they were
written or last refreshed. The agent refreshes the keys a live flow depends on
(``Result.state_keys``), so entries outlive their flows by at most ``ttl``.

A key is also the tag of the decisions that depend on it: the table announces the key to its
listeners when it appears (written while absent), changes value, is deleted or expires, so
flows built on its presence or on its absence can be removed. A refresh announces nothing.
Expired entries read as absent at once; :meth:`FlowTable.expire` removes them and announces
the removals (the agent calls it periodically).

This module holds the interface and the in-memory implementation;
:mod:`ryu_midonet.statestore.flowstate` shares the table through Redis.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

FLOW_TTL = 120.0
STICKY_PREFIX = "lb:sticky:"
STICKY_TTL = 86400.0  # a sticky source keeps its member for a day idle


def ttl_of(key: str, ttl: float) -> float:
    """The life of entry ``key`` in a table whose entries live ``ttl``: a load balancer's
    sticky source lives :data:`STICKY_TTL`."""
    return STICKY_TTL if key.startswith(STICKY_PREFIX) else ttl

Listener = Callable[[str], None]


class FlowTable(Protocol):
    def get(self, key: str) -> str | None:
        """The value of a live entry, None when absent or expired."""
        ...

    def put(self, key: str, value: str) -> bool:
        """Write (or refresh) an entry; True when that changed the table (and was announced)."""
        ...

    def put_new(self, key: str, value: str) -> bool:
        """Write an entry only if there is no live one (atomically); True when written."""
        ...

    def delete(self, key: str) -> bool:
        """Remove an entry; True when there was one."""
        ...

    def refresh(self, keys: Iterable[str]) -> int:
        """Push back the deadline of the live entries among ``keys``; returns how many."""
        ...

    def live(self, keys: Iterable[str]) -> set[str]:
        """The keys among ``keys`` that have a live entry."""
        ...

    def expire(self) -> int:
        """Remove the expired entries, announcing each; returns how many."""
        ...


@dataclass
class MemoryFlowTable:
    """The flow-state table in this process (tests, tools, a single agent)."""

    ttl: float = FLOW_TTL
    clock: Callable[[], float] = time.monotonic
    listeners: list[Listener] = field(default_factory=list)
    data: dict[str, tuple[str, float]] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        held = self.data.get(key)
        if held is None or held[1] <= self.clock():
            return None
        return held[0]

    def put(self, key: str, value: str) -> bool:
        changed = self.get(key) != value
        self.data[key] = (value, self.clock() + ttl_of(key, self.ttl))
        if changed:
            self._announce(key)
        return changed

    def put_new(self, key: str, value: str) -> bool:
        if self.get(key) is not None:
            return False
        return self.put(key, value)

    def delete(self, key: str) -> bool:
        held = self.data.pop(key, None)
        if held is not None:
            self._announce(key)
        return held is not None

    def refresh(self, keys: Iterable[str]) -> int:
        now, count = self.clock(), 0
        for key in set(keys):
            held = self.data.get(key)
            if held is not None and held[1] > now:
                self.data[key] = (held[0], now + ttl_of(key, self.ttl))
                count += 1
        return count

    def live(self, keys: Iterable[str]) -> set[str]:
        return {key for key in keys if self.get(key) is not None}

    def expire(self) -> int:
        now = self.clock()
        gone = [key for key, (_, deadline) in self.data.items() if deadline <= now]
        for key in gone:
            self.delete(key)
        return len(gone)

    def _announce(self, key: str) -> None:
        for listener in list(self.listeners):
            listener(key)
