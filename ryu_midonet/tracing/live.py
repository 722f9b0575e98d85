"""Live packet tracing in the agent: packets that meet a trace request are logged with their
whole simulation and the exact OpenFlow messages sent for them.

Which packets: those a live request meets (:mod:`.matching`): its device on the simulated
path, its condition true for the packet as it entered. Each traced packet takes one from the
request's limit, counted in the store for all agents (:mod:`.tracelog`); at 0 the request
traces no more.

What is logged, regardless of the log level: one entry per packet and request in the
request's trace log in the store (``mm-trace show``, ``GET /traces/{id}/log``), also written
to the agent's log at INFO with the prefix ``trace:``. An entry names the packet
(``<host>#<n>``, unique on its host) and its trace cookie -- the OpenFlow cookie of the flow
installed for it, as ``ovs-ofctl -O OpenFlow13 dump-flows`` shows it (``none`` when no flow
was installed) -- then every step of the simulation (devices, chains, rules, decisions), the
outcome, the flows installed (table, priority, timeouts, match, actions, cookie) and the
packet-outs.

Keeping traced packets visible to the agent while a request is live (the choice made):

- a flow whose path crosses a live request's device matches exactly every header field the
  request's condition read (the simulator's megaflow, widened like a rule's read), so a flow
  built for a packet the condition rejects never carries one it accepts;
- the flow built for a traced packet stays as the agent built it, plus one action first: a
  copy of each packet to the agent (``output:CONTROLLER``). Later packets of the connection
  are forwarded by the switch at full speed and their copies traced (simulated again on a
  read-only copy of the state; nothing is sent for them) until the limit is reached; then
  the agent deletes the flows through the device (its tag), and packets get plain flows again.
  The flows stay on the switch with their cookie while the operator looks at them;
- the proactive compiler installs nothing through a live request's device;
- when a request appears, changes or goes, the flows through its device (old and new) are
  deleted, so no flow built before hides what it matches.
"""

from __future__ import annotations

import datetime
import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from ryu_midonet.agent.proactive import ReadOnlyState
from ryu_midonet.datapath.flows import TO_CONTROLLER, FlowSpec, Message, PacketOut, output
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import Packet, Result
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.state import State
from ryu_midonet.tracing.matching import Request, meeting, path, requests
from ryu_midonet.tracing.render import describe, outcome

LOG = logging.getLogger(__name__)
COPIES_QUEUED = 256  # copies of traced flows' packets waiting for the agent (more: dropped)
THROUGH_TABLE = output("table")


class Counter(Protocol):
    def take(self, request_id: str, limit: int) -> bool:
        """One packet of the request traced; False when its limit was reached."""
        ...


class Log(Protocol):
    def write(self, request_id: str, entry: str) -> None:
        ...


@dataclass
class Traced:
    """A packet being traced: the requests it took one from, and what it was decided."""

    requests: list[Request]
    port_id: str
    packet: Packet
    result: Result


@dataclass(frozen=True)
class Copy:
    """A copy of a packet a traced flow forwarded."""

    in_port: int
    data: bytes
    cookie: int


class LiveTracer:
    """The agent's live tracing (see the module docstring). Thread-safe."""

    def __init__(self, view: DictView, counter: Counter, log: Log, host_name: str,
                 simulate: Callable[[str, Packet], Result] | None = None) -> None:
        self.view = view
        self.counter = counter
        self.log = log
        self.host_name = host_name
        self.simulate = simulate  # a read-only simulation, for the copies
        self.copies: queue.Queue[Copy] = queue.Queue(COPIES_QUEUED)
        self._lock = threading.Lock()
        self._exhausted: set[str] = set()
        self._flows: dict[int, tuple[tuple[Request, ...], FlowSpec]] = {}  # traced flows
        self._skip: dict[int, int] = {}  # copies of the first packet sent through its flow
        self._devices: dict[str, set[str]] = {}  # request -> its flows' tags, as last seen
        self._stale: set[str] = set()  # tags whose flows must go
        self._seq = itertools.count(1)

    # -- which requests --------------------------------------------------------------------
    def live(self) -> list[Request]:
        with self._lock:
            exhausted = set(self._exhausted)
        return [r for r in requests(self.view) if r.id not in exhausted]

    def hides(self, port_id: str, result: Result) -> bool:
        """Whether a proactive flow built from ``result`` could carry a packet a live
        request wants (it crosses the request's device)."""
        live = self.live()
        if not live:
            return False
        ids = path(port_id, result)
        return any(r.device_id in ids for r in live)

    def topology_changed(self, kind: str, obj_id: str) -> set[str]:
        """The tags whose flows must go after trace request ``obj_id`` changed."""
        if kind != "traceRequest":
            return set()
        obj = self.view.get("traceRequest", obj_id)
        request = Request.of(obj) if obj is not None else None
        with self._lock:
            tags = set(self._devices.pop(obj_id, ()))
            self._exhausted.discard(obj_id)  # a new limit is a new count
            if request is not None:
                self._devices[obj_id] = self._tags(request)
                tags |= self._devices[obj_id]
        return {t for t in tags if t}

    def _tags(self, request: Request) -> set[str]:
        """The tags of the flows through the request's device (a port's flows carry its
        device's tag instead of the port's when they carry both)."""
        tags = {request.device_id}
        port = self.view.get("port", request.device_id) if request.device_type == "PORT" \
            else None
        if port is not None and port.get("deviceId"):
            tags.add(str(port["deviceId"]))
        return tags

    def take_stale(self) -> set[str]:
        """Tags of the devices of requests that reached their limit since last asked."""
        with self._lock:
            stale, self._stale = self._stale, set()
        return stale

    def _take(self, request: Request) -> bool:
        try:
            if self.counter.take(request.id, request.limit):
                return True
        except Exception as exc:  # noqa: BLE001 - the store is away: this packet goes untraced
            LOG.warning("trace request %s: could not count a packet: %s", request.id, exc)
            return False
        with self._lock:
            if request.id not in self._exhausted:
                self._exhausted.add(request.id)
                self._stale |= self._tags(request)
                LOG.info("trace request %s reached its limit", request.id)
        return False

    # -- packets that missed the flow table ------------------------------------------------
    def observe(self, port_id: str, packet: Packet, result: Result) -> Traced | None:
        """After the simulation of a packet, before its flow is built: the flow is widened
        to the fields the requests on its path read; the packet is traced when one meets it."""
        live = self.live()
        if not live:
            return None
        met, fields = meeting(live, self.view, port_id, packet, result)
        result.fields_read |= fields
        taken = [r for r in met if self._take(r)]
        return Traced(taken, port_id, packet, result) if taken else None

    def finish(self, traced: Traced, messages: list[Message]) -> list[Message]:
        """The messages for a traced packet, its flows copying packets to the agent; its
        entries written."""
        through_table = any(isinstance(m, PacketOut) and THROUGH_TABLE in m.actions
                            for m in messages)
        out: list[Message] = []
        flows: list[FlowSpec] = []
        for m in messages:
            if isinstance(m, FlowSpec) and m.cookie:
                m = with_copy(m)
                flows.append(m)
            out.append(m)
        with self._lock:
            for flow in flows:
                self._flows[flow.cookie] = (tuple(traced.requests), flow)
                if through_table:
                    self._skip[flow.cookie] = 1
        cookie = flows[0].cookie if flows else None
        self._write(traced.requests, traced.port_id, traced.packet, traced.result, cookie,
                    out, "missed the flow table")
        return out

    # -- copies of packets traced flows forwarded ------------------------------------------
    def copied(self, cookie: int) -> bool:
        """Whether a packet-in with ``cookie`` is a copy from a traced flow."""
        with self._lock:
            return cookie in self._flows

    def queue_copy(self, in_port: int, data: bytes, cookie: int) -> None:
        try:
            self.copies.put_nowait(Copy(in_port, data, cookie))
        except queue.Full:
            pass  # the agent is behind: these packets go untraced

    def trace_copy(self, port_id: str | None, packet: Packet | None, cookie: int) -> None:
        """Trace one copy: simulated again (read-only), logged with its flow."""
        with self._lock:
            found = self._flows.get(cookie)
            if found is not None and self._skip.get(cookie):
                del self._skip[cookie]
                return
        if found is None or port_id is None or packet is None or self.simulate is None:
            return
        wanted, flow = found
        live = {r.id: r for r in self.live()}
        taken = [r for r in wanted if r.id in live and self._take(live[r.id])]
        if not taken:
            return
        result = self.simulate(port_id, packet)
        self._write(taken, port_id, packet, result, cookie, [flow],
                    "forwarded by its flow; a copy came to the agent")

    def forget(self, present: Callable[[int], bool]) -> None:
        """Forget the traced flows that are no longer on the switch."""
        with self._lock:
            for cookie in [c for c in self._flows if not present(c)]:
                del self._flows[cookie]
                self._skip.pop(cookie, None)

    # -- the log ---------------------------------------------------------------------------
    def _write(self, taken: list[Request], port_id: str, packet: Packet, result: Result,
               cookie: int | None, messages: list[Message], how: str) -> None:
        number = next(self._seq)
        for request in taken:
            lines = entry(request, f"{self.host_name}#{number}", port_id, packet, result,
                          cookie, messages, self.view, how)
            for line in lines:
                LOG.info("trace: %s", line)
            try:
                self.log.write(request.id, "\n".join(lines))
            except Exception as exc:  # noqa: BLE001 - the agent's log has it still
                LOG.warning("trace request %s: could not store a trace: %s", request.id, exc)


def copy_simulator(view: DictView, state: State) -> Callable[[str, Packet], Result]:
    """A simulation of a copy: on a read-only copy of ``state`` (it was simulated already)."""
    def run(port_id: str, packet: Packet) -> Result:
        return simulate(view, ReadOnlyState(state).state, port_id, packet)
    return run


def with_copy(flow: FlowSpec) -> FlowSpec:
    """``flow`` sending a copy of each packet to the agent first (as it entered the flow)."""
    if TO_CONTROLLER in flow.actions:
        return flow
    actions = list(flow.actions)
    at = 0
    while at < len(actions) and actions[at].kind == "meter":
        at += 1
    actions.insert(at, TO_CONTROLLER)
    return replace(flow, actions=tuple(actions))


def entry(request: Request, packet_id: str, port_id: str, packet: Packet, result: Result,
          cookie: int | None, messages: list[Message], view: DictView, how: str) -> list[str]:
    """The lines of one traced packet's entry."""
    name = f" {request.name}" if request.name else ""
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
    lines = [f"packet {packet_id} cookie={'none' if cookie is None else hex(cookie)}"
             f" trace request{name} ({request.id}) at {now}",
             f"  packet: {describe(packet)}",
             f"  ingress: port {port_id} ({how})",
             "  path:"]
    for step in result.steps:
        stage = f"[{step.stage}] " if step.stage is not None else ""
        rule = f" (rule {step.rule})" if step.rule and step.rule not in step.decision else ""
        lines.append("    " + "  " * step.depth + stage + step.decision + rule)
    lines += ["  outcome:", *("    " + x for x in outcome(result, view))]
    lines.append("  OpenFlow:")
    for m in messages:
        if isinstance(m, FlowSpec):
            match = ",".join(f"{k}={v}" for k, v in m.match.items()) or "any"
            acts = ",".join(map(str, m.actions)) or "drop"
            lines.append(f"    flow table={m.table} cookie={m.cookie:#x} priority={m.priority}"
                         f" idle_timeout={m.idle_timeout} hard_timeout={m.hard_timeout}"
                         f" match={match} actions={acts}")
        elif isinstance(m, PacketOut):
            lines.append(f"    packet-out actions={','.join(map(str, m.actions)) or 'drop'}")
    if not any(isinstance(m, FlowSpec) for m in messages):
        lines.append("    no flow installed")
    return lines
