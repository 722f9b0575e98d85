"""A packet simulated against the topology as its ingress host's agent would handle it.

Nothing is sent and nothing is written: MAC and ARP entries are read (learning is not
recorded), connection tracking and NAT see a new connection (their state is kept in memory
for this trace only). The agent's own packet handler turns the decision into flows, so the
flows shown are the ones the agent would install, except for two things only the host knows:
OpenFlow port numbers (placeholders, named in :attr:`OfflineTrace.ports`) and cookies (the
first ones of an empty flow index).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import PacketHandler
from ryu_midonet.agent.proactive import ReadOnlyState
from ryu_midonet.datapath import packets
from ryu_midonet.datapath.flows import CT_NEW, CT_TRK, Message
from ryu_midonet.sim.core.model import Packet, Result
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.state import State
from ryu_midonet.sim.state.flowstate import MemoryFlowTable
from ryu_midonet.sim.state.leases import MemoryBlockLeases, PortLeaser
from ryu_midonet.types import Obj

TUNNEL_OFPORTS = {"vxlan": 0xFFF0, "gre": 0xFFF1}


class UnknownPort(LookupError):
    """The ingress port named does not exist (or is not an exterior port)."""


@dataclass(frozen=True)
class Pass:
    """One packet-in the agent would handle: its decision and the messages it sends."""

    title: str
    result: Result
    messages: list[Message]


@dataclass
class OfflineTrace:
    port_id: str
    host_id: str | None
    packet: Packet
    passes: list[Pass] = field(default_factory=list)
    ports: dict[int, str] = field(default_factory=dict)  # OpenFlow port number -> its name


def trace_state(state: State) -> State:
    """``state`` for a trace: MAC/ARP entries read, never written; connection tracking and
    SNAT leases private to the trace."""
    traced = ReadOnlyState(state).state
    traced.flows = MemoryFlowTable()
    traced.leases = PortLeaser(MemoryBlockLeases())
    traced.nat_ranges = None
    return traced


def find_port(view: DictView, device: tuple[str, str] | None, port: str) -> str:
    """The id of the ingress port: ``port`` itself, or with ``device`` (``("bridge" or
    "router", name or id)``) its ``port``-th port (0-based, ports ordered by id)."""
    if device is None:
        if view.get("port", port) is None:
            raise UnknownPort(f"no port {port}")
        return port
    kind, name = device
    found = [o for o in view.all_of(kind).values() if name in (o.get("id"), o.get("name"))]
    if len(found) != 1:
        raise UnknownPort(f"no {kind} {name}" if not found else f"several {kind}s named {name}")
    ports = view.ports_of(str(found[0]["id"]))
    try:
        index = int(port)
    except ValueError:
        raise UnknownPort(f"{port!r} is not a port number") from None
    if not 0 <= index < len(ports):
        raise UnknownPort(f"{kind} {name} has no port {index} (it has {len(ports)})")
    return str(ports[index]["id"])


def trace(view: DictView, state: State, port_id: str, packet: Packet,
          conntrack_in_datapath: bool = True) -> OfflineTrace:
    """``packet`` entering at exterior port ``port_id``, as its host's agent would see it;
    ``state`` is used as :func:`trace_state` returns it."""
    port = view.get("port", port_id)
    if port is None:
        raise UnknownPort(f"no port {port_id}")
    if port.get("peerId"):
        raise UnknownPort(f"port {port_id} is interior (linked to {port['peerId']})")
    host = port.get("hostId")
    out = OfflineTrace(port_id, host, packet)
    ofports = _ofports(view, host, port_id)
    out.ports = {n: _port_name(view.get("port", p) or {"id": p}) for p, n in ofports.items()}
    out.ports.update({n: f"{kind} tunnel" for kind, n in TUNNEL_OFPORTS.items()})
    handler = PacketHandler(view, state, FlowIndex(), str(host or ""), ofports,
                            dict(TUNNEL_OFPORTS))
    handler.conntrack_in_datapath = conntrack_in_datapath
    data = _frame(packet)
    in_port = ofports[port_id]
    messages = handler.handle(port_id, in_port, packet, data)
    result = cast(Result, handler.last)
    out.passes.append(Pass("the packet enters", result, messages))
    if result.ct_scope is not None and result.ct_return is None:
        messages = handler.handle(port_id, in_port, packet, data, tracked=CT_TRK | CT_NEW)
        out.passes.append(Pass("back from the connection tracker: a new connection",
                               cast(Result, handler.last), messages))
    return out


def _ofports(view: DictView, host: Any, port_id: str) -> dict[str, int]:
    """Placeholder OpenFlow numbers for the ports bound on the ingress host."""
    bound = sorted(p["id"] for p in view.all_of("port").values()
                   if host and p.get("hostId") == host and not p.get("peerId"))
    if port_id not in bound:
        bound.insert(0, port_id)
    return {p: n for n, p in enumerate(bound, start=1)}


def _port_name(port: Obj) -> str:
    iface = port.get("interfaceName")
    return f"{port['id']} ({iface})" if iface else str(port["id"])


def _frame(packet: Packet) -> bytes:
    try:
        return packets.build(packet)
    except Exception:  # noqa: BLE001 - a header the builder does not know: no bytes needed
        return b""
