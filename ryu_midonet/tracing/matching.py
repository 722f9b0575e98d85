"""Which trace requests a simulated packet meets: on its path, and with their condition.

A request is *live* while it is enabled and its limit is above 0. It meets a packet when its
device (a port, a bridge or a router) is on the packet's simulated path -- the ingress port,
or any device or port the decision depended on -- and its condition (the fields of a rule's
condition, :mod:`ryu_midonet.sim.rules.conditions`) holds for the packet as it entered the
virtual topology. Checking the condition reads header fields like a rule does; those fields
are what a flow must match exactly so that it never carries a packet the request would have
traced (see :mod:`.live`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from ryu_midonet.sim.core.context import Context, Frame, Where
from ryu_midonet.sim.core.model import Packet, Result
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.rules import conditions
from ryu_midonet.types import Obj

KINDS = {"BRIDGE": "bridge", "ROUTER": "router", "PORT": "port"}


@dataclass(frozen=True)
class Request:
    """A trace request as the agent uses it."""

    id: str
    name: str
    device_type: str  # BRIDGE, ROUTER or PORT
    device_id: str
    condition: Obj
    limit: int
    enabled: bool

    @classmethod
    def of(cls, obj: Obj) -> Request | None:
        """From a stored ``traceRequest`` (None: it is not usable)."""
        try:
            return cls(str(obj["id"]), str(obj.get("name") or ""), str(obj["deviceType"]),
                       str(obj["deviceId"]), dict(obj.get("condition") or {}),
                       int(obj.get("limit") or 0), bool(obj.get("enabled")))
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def live(self) -> bool:
        return self.enabled and self.limit > 0


def requests(view: DictView) -> list[Request]:
    """The live trace requests of the topology, oldest first."""
    found = (Request.of(o) for o in view.all_of("traceRequest").values())
    return sorted((r for r in found if r is not None and r.live), key=lambda r: r.id)


def path(port_id: str, result: Result) -> set[str]:
    """The ids of the ports and devices on the packet's path (and everything else the
    decision depended on)."""
    ids = {port_id} | result.tags
    for step in result.steps:
        ids.update(x for x in (step.device, step.port) if x)
    return ids


def on_path(request: Request, port_id: str, result: Result) -> bool:
    return request.device_id in path(port_id, result)


class _Reads:
    """Just enough of a simulation context for a condition: it records the fields read."""

    def __init__(self, view: DictView) -> None:
        self.view = view
        self.state: Any = None
        self.filters: Any = None
        self.session: Any = None
        self.fields: set[str] = set()

    def read(self, frame: Frame, *fields: str) -> None:
        self.fields.update(fields)

    def __getattr__(self, name: str) -> Any:  # tag, trace, keep, ...: nothing to do
        return lambda *args, **kwargs: None


def check(request: Request, view: DictView, port_id: str, packet: Packet
          ) -> tuple[bool, set[str]]:
    """Whether ``request``'s condition holds for ``packet`` entering at ``port_id``, and the
    header fields that took reading. A condition that cannot be checked does not hold."""
    reads = _Reads(view)
    kind = KINDS.get(request.device_type, "port")
    device = view.get(kind, request.device_id) or {"id": request.device_id}
    port = view.get("port", port_id)
    frame = Frame(packet, in_port=port_id, entered=packet,
                  devices=(request.device_id,) if kind != "port" else ())
    try:
        held = conditions.matches(cast(Context, reads), request.condition,
                                  Where(device, port), frame)
    except Exception:  # noqa: BLE001 - a condition this packet cannot answer: not traced
        return False, reads.fields
    return held, reads.fields


def meeting(live: Iterable[Request], view: DictView, port_id: str, packet: Packet,
            result: Result) -> tuple[list[Request], set[str]]:
    """The requests on ``result``'s path whose condition holds, and the fields every
    request on the path read (the flow must match them)."""
    met: list[Request] = []
    fields: set[str] = set()
    ids = path(port_id, result)
    for request in live:
        if request.device_id not in ids:
            continue
        held, read = check(request, view, port_id, packet)
        fields |= read
        if held:
            met.append(request)
    return met, fields
