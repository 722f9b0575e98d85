"""Feature hooks: how feature apps add to the agent without editing its core.

A feature (DHCP, VTEP sync, BGP, health monitoring, ...) implements :class:`Feature`; every
hook returns the switch messages it wants sent (the agent sends them from its one sending
place) and a feature that does not care about a hook inherits the no-op of
:class:`FeatureBase`.

How a feature app finds the agent: both are os-ken apps launched in one process
(``ryu-midonet-manager ryu_midonet.apps.agent ryu_midonet.apps.portlog``). The feature app
calls :func:`register` with its feature in its ``__init__``; the agent reads :data:`REGISTRY`
from its ``start``. os-ken builds every app before it starts any, so the order the apps are
named in does not matter, and neither side needs the other's class name or module (which
``_CONTEXTS`` or ``lookup_service_brick`` would). Apps still talk to each other only through
the topology store and the simulator's contracts.

Hooks are called from the agent's threads (topology feed, packet-ins, periodic work), so a
feature guards whatever state its hooks share. A hook that raises is logged and counts as
returning nothing: one feature's fault does not stop the agent or the other features.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ryu_midonet.datapath.flows import Message
from ryu_midonet.sim.core.model import Packet

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentContext:
    """What the agent shares with features when it starts them."""

    host_id: str
    store: Any  # the topology store (``nsdb.store.Store``)
    view: Any  # the agent's local copy of the topology (``sim.core.topology.DictView``)
    ofports: Mapping[str, int]  # virtual port id -> OpenFlow port, of ports on this host
    miss_meters: bool = False  # each local port has a miss meter (id: its tunnel key)


@runtime_checkable
class Feature(Protocol):
    """What a feature app gives the agent."""

    name: str
    interval: float  # seconds between calls of :meth:`periodic` (0: never)

    def start(self, agent: AgentContext) -> None:
        """The agent starts, before it loads the topology (each object then comes as a
        topology change) and before its switch connects."""

    def stop(self) -> None:
        """The agent stops."""

    def port_flows(self, port_id: str, ofport: int, plugged: bool) -> list[Message]:
        """A local port was plugged (also again after the switch connected, when every flow
        was wiped) or unplugged: the flows this feature wants for it, or their deletions."""

    def topology_changed(self, op: str, kind: str, obj_id: str) -> list[Message]:
        """An object of the topology changed (``op``: the store's change operation)."""

    def packet_in(self, port_id: str, in_port: int, packet: Packet, data: bytes
                  ) -> list[Message] | None:
        """A packet from a local port missed the flow table: ``None`` lets it be simulated;
        a list (maybe empty) claims it, and is sent instead."""

    def periodic(self) -> list[Message]:
        """Every :attr:`interval` seconds."""


class FeatureBase:
    """No-op hooks to inherit, so a feature writes only the ones it needs."""

    name = "feature"
    interval = 0.0

    def start(self, agent: AgentContext) -> None:
        pass

    def stop(self) -> None:
        pass

    def port_flows(self, port_id: str, ofport: int, plugged: bool) -> list[Message]:
        return []

    def topology_changed(self, op: str, kind: str, obj_id: str) -> list[Message]:
        return []

    def packet_in(self, port_id: str, in_port: int, packet: Packet, data: bytes
                  ) -> list[Message] | None:
        return None

    def periodic(self) -> list[Message]:
        return []


class Features:
    """The registered features, and each hook called on all of them in registration order."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.features: list[Feature] = []
        self._clock = clock
        self._due: dict[int, float] = {}

    def register(self, feature: Feature) -> None:
        if feature not in self.features:
            self.features.append(feature)

    def start(self, agent: AgentContext) -> None:
        now = self._clock()
        for feature in self.features:
            self._call(feature, "start", agent)
            self._due[id(feature)] = now + feature.interval

    def stop(self) -> None:
        for feature in self.features:
            self._call(feature, "stop")

    def port_flows(self, port_id: str, ofport: int, plugged: bool) -> list[Message]:
        return self._gather("port_flows", port_id, ofport, plugged)

    def topology_changed(self, op: str, kind: str, obj_id: str) -> list[Message]:
        return self._gather("topology_changed", op, kind, obj_id)

    def packet_in(self, port_id: str, in_port: int, packet: Packet, data: bytes
                  ) -> list[Message] | None:
        """The first claim's messages, or ``None`` when no feature claims the packet."""
        for feature in self.features:
            claimed = self._call(feature, "packet_in", port_id, in_port, packet, data)
            if claimed is not None:
                return list(claimed)
        return None

    def periodic(self) -> list[Message]:
        """The periodic work of every feature whose interval has passed since its last."""
        now = self._clock()
        messages: list[Message] = []
        for feature in self.features:
            if feature.interval <= 0:
                continue
            due = self._due.setdefault(id(feature), now + feature.interval)
            if now >= due:
                self._due[id(feature)] = now + feature.interval
                messages += self._call(feature, "periodic") or []
        return messages

    def _gather(self, hook: str, *args: Any) -> list[Message]:
        messages: list[Message] = []
        for feature in self.features:
            messages += self._call(feature, hook, *args) or []
        return messages

    @staticmethod
    def _call(feature: Feature, hook: str, *args: Any) -> Any:
        try:
            return getattr(feature, hook)(*args)
        except Exception:  # noqa: BLE001 - one feature's fault must not stop the agent
            LOG.exception("feature %s failed in %s", getattr(feature, "name", feature), hook)
            return None


# The features of this process: feature apps register here, the agent reads it.
REGISTRY = Features()


def register(feature: Feature) -> None:
    """Add ``feature`` to the agent of this process (call it from the app's ``__init__``)."""
    REGISTRY.register(feature)
