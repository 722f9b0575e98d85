"""A local copy of the topology kept current from the change feed.

Agents read the topology from here instead of asking Redis for every packet. The copy follows
the feed; when it fell too far behind (the feed was trimmed while it was away) it reloads a
consistent snapshot.

While the store is unreachable the copy stays as it is. When the store comes back with lost
data (another epoch, or a version older than the copy's) the copy is *not* replaced: see
:mod:`.divergence`. It is replaced once an operator accepted the store, or after ``grace``
seconds when that is set (0 waits for the operator).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from ryu_midonet.nsdb import divergence, errors
from ryu_midonet.nsdb.divergence import Divergence
from ryu_midonet.nsdb.store import Store

LOG = logging.getLogger(__name__)

Listener = Callable[[str, str, str], None]  # (op, kind, id)
DivergenceListener = Callable[[Divergence | None], None]


class TopologyCache:
    """Every object of the store, by kind and id, as of :attr:`version`."""

    def __init__(self, store: Store, grace: float = 0) -> None:
        self.store = store
        self.grace = grace
        self.version = -1
        self.epoch: str | None = None
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.listeners: list[Listener] = []
        self.divergence_listeners: list[DivergenceListener] = []
        self.divergence: Divergence | None = None
        self.resyncs = 0
        self.connected = True

    def get(self, kind: str, obj_id: str) -> dict[str, Any] | None:
        return self.objects.get(kind, {}).get(obj_id)

    def resync(self) -> int:
        """Reload everything from a snapshot; listeners hear of every object that changed.

        Returns how many objects changed."""
        epoch = self.store.epoch()
        version, snapshot = self.store.snapshot()
        old = self.objects
        self.objects = {kind: {o["id"]: o for o in objs} for kind, objs in snapshot.items()}
        self.version = version
        self.epoch = epoch
        self.resyncs += 1
        changed = 0
        for kind in set(old) | set(self.objects):
            before, after = old.get(kind, {}), self.objects.get(kind, {})
            for obj_id in set(before) | set(after):
                if before.get(obj_id) != after.get(obj_id):
                    op = ("create" if obj_id not in before else
                          "delete" if obj_id not in after else "update")
                    self._notify(op, kind, obj_id)
                    changed += 1
        return changed

    def poll(self, block_ms: int | None = None) -> int:
        """Apply the changes committed since :attr:`version`; returns how many were applied."""
        try:
            if self.version < 0:
                return self.resync()
            changed = self._poll(block_ms)
        except errors.UNAVAILABLE as exc:
            if self.connected:
                LOG.warning("lost the topology store (%s); keeping the cached topology", exc)
            self.connected = False
            if block_ms:
                time.sleep(block_ms / 1000)
            return 0
        if not self.connected:
            LOG.warning("the topology store is back (version %d)", self.version)
            self.connected = True
        return changed

    def _poll(self, block_ms: int | None) -> int:
        epoch, version = self.store.epoch(), self.store.version()
        if self.epoch is None and self.version == 0:
            self.epoch = epoch  # the cache was built from an empty store: nothing to lose
        if self.divergence is not None or epoch != self.epoch or version < self.version:
            return self._diverged(epoch, version, block_ms)
        changes = self.store.changes(self.version, block_ms=block_ms)
        if changes is None:
            LOG.info("change feed trimmed past version %d; resynchronising", self.version)
            return self.resync()
        for change in changes:
            self._apply(change)
        return len(changes)

    def _diverged(self, epoch: str | None, version: int, block_ms: int | None) -> int:
        """Keep the cache against a store that lost data, until it is accepted."""
        now = time.time()
        accepted = epoch is not None and divergence.accepted_epoch(self.store) == epoch
        found = self.divergence
        if found is None and not accepted:
            found = Divergence(self.epoch, self.version, epoch, version, now)
            LOG.error("%s; keeping the cached topology, its ports and flows until an operator "
                      "accepts the store (ryu-midonet: POST /midonet-api/store_status/accept, "
                      "or midonet-cli 'store accept')%s", found.describe(),
                      f" or for {self.grace:.0f} s" if self.grace else "")
        elif found is not None:
            found.store_epoch, found.store_version = epoch, version
        expired = found is not None and self.grace > 0 and now - found.since >= self.grace
        if accepted or expired:
            LOG.warning("applying the topology store as it is (version %d): %s", version,
                        "accepted by an operator" if accepted else "grace period over")
            self.divergence = None
            self._tell(None)
            return self.resync()
        self.divergence = found
        self._tell(found)
        if block_ms:
            time.sleep(block_ms / 1000)
        return 0

    def _tell(self, found: Divergence | None) -> None:
        for listener in self.divergence_listeners:
            listener(found)

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
