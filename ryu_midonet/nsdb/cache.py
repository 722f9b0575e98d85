"""A local copy of the topology kept current from the change feed.

Agents read the topology from here instead of asking Redis for every packet. The copy follows
the feed; when it fell too far behind (the feed was trimmed while it was away) it reloads a
consistent snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis

from ryu_midonet.nsdb.store import Store

LOG = logging.getLogger(__name__)

Listener = Callable[[str, str, str], None]  # (op, kind, id)


class TopologyCache:
    """Every object of the store, by kind and id, as of :attr:`version`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.version = -1
        self.epoch: str | None = None
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.listeners: list[Listener] = []
        self.resyncs = 0

    def get(self, kind: str, obj_id: str) -> dict[str, Any] | None:
        return self.objects.get(kind, {}).get(obj_id)

    def resync(self) -> None:
        """Reload everything from a snapshot; listeners hear of every object that changed."""
        self.epoch = self.store.epoch()
        version, snapshot = self.store.snapshot()
        old = self.objects
        self.objects = {kind: {o["id"]: o for o in objs} for kind, objs in snapshot.items()}
        self.version = version
        self.resyncs += 1
        for kind in set(old) | set(self.objects):
            before, after = old.get(kind, {}), self.objects.get(kind, {})
            for obj_id in set(before) | set(after):
                if before.get(obj_id) != after.get(obj_id):
                    op = ("create" if obj_id not in before else
                          "delete" if obj_id not in after else "update")
                    self._notify(op, kind, obj_id)

    def poll(self, block_ms: int | None = None) -> int:
        """Apply the changes committed since :attr:`version`; returns how many were applied."""
        if self.version < 0:
            self.resync()
            return 0
        try:
            if self.store.epoch() != self.epoch:
                LOG.info("the topology store was reset; resynchronising")
                self.resync()
                return 0
            changes = self.store.changes(self.version, block_ms=block_ms)
        except redis.ConnectionError:
            LOG.warning("lost the topology store; keeping the cached topology")
            return 0
        if changes is None:
            LOG.info("change feed trimmed past version %d; resynchronising", self.version)
            self.resync()
            return 0
        for change in changes:
            self._apply(change)
        return len(changes)

    def _apply(self, change: dict[str, Any]) -> None:
        kind, obj_id, op = change["kind"], change["id"], change["op"]
        if kind != "state":
            table = self.objects.setdefault(kind, {})
            obj = None if op == "delete" else self.store.get(kind, obj_id)
            if obj is None:
                table.pop(obj_id, None)
            else:
                table[obj_id] = obj
            self._notify(op, kind, obj_id)
        self.version = max(self.version, change["version"])

    def _notify(self, op: str, kind: str, obj_id: str) -> None:
        for listener in self.listeners:
            listener(op, kind, obj_id)
