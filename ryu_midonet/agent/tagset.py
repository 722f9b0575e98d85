"""Fewer tags per flow: a device's tag stands for its ports' tags.

The agent invalidates a port's device whenever the port changes: created, updated or deleted
in the topology (its parent field, remembered by :class:`Parents` for deletions) and plugged
or unplugged on this host. So a flow tagged with a device needs no tags of that device's
ports. A flood on a bridge of 100 ports used to carry 100 port tags; it carries the bridge's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ryu_midonet.sim.core.topology import DictView


def compact(tags: set[str], view: DictView) -> set[str]:
    """``tags`` less the ports whose device is among them."""
    kept = set()
    for tag in tags:
        port = view.get("port", tag)
        if port is None or port.get("deviceId") not in tags:
            kept.add(tag)
    return kept


class Parents:
    """The parents (a port's device, a route's router, ...) of the topology's objects, kept
    from the change feed so that a deleted object's parent is still known."""

    def __init__(self, fields: Sequence[str]) -> None:
        self.fields = tuple(fields)
        self._of: dict[str, tuple[str, ...]] = {}

    def changed(self, obj_id: str, obj: dict[str, Any] | None) -> set[str]:
        """Object ``obj_id`` is now ``obj`` (None: deleted): its parents, before and after."""
        before = self._of.pop(obj_id, ())
        if obj is None:
            return set(before)
        after = tuple(obj[f] for f in self.fields if obj.get(f))
        if after:
            self._of[obj_id] = after
        return set(before) | set(after)

    def of(self, obj_ids: Iterable[str]) -> set[str]:
        """The parents of ``obj_ids``."""
        return {parent for obj_id in obj_ids for parent in self._of.get(obj_id, ())}
