"""What the agent does with a packet that missed the flow table: simulate, then act.

A packet whose next hop a router is still resolving (and that goes nowhere else) is held
(:mod:`.arpwait`) and handled again when the ARP entry appears (:meth:`PacketHandler.release`).
"""

from __future__ import annotations

from ryu_midonet.agent.arpwait import HeldPackets, tag_of
from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.locator import Locator
from ryu_midonet.agent.tagset import compact
from ryu_midonet.datapath import packets
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.flows import Message, PacketOut
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import ArpWait, Packet, Result
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.state import State, mac_tag


class PacketHandler:
    """Turns one table-miss packet into switch messages (flow, packet-outs)."""

    def __init__(self, view: DictView, state: State, index: FlowIndex, host_id: str,
                 ofports: dict[str, int], tunnels: dict[str, int],
                 idle_timeout: int = 60, held: HeldPackets | None = None) -> None:
        self.view = view
        self.state = state
        self.index = index
        self.host_id = host_id
        self.ofports = ofports
        self.tunnels = tunnels
        self.idle_timeout = idle_timeout
        self.held = held if held is not None else HeldPackets()
        self.last: Result | None = None  # the latest decision, for tracing and tests

    def handle(self, port_id: str, in_port: int, packet: Packet, data: bytes
               ) -> list[Message]:
        since = self.index.generation()
        result = simulate(self.view, self.state, port_id, packet)
        self.last = result
        locate = Locator(self.view, self.host_id, self.ofports, self.tunnels)
        actions = tr.output_actions(result, locate, in_port)
        messages: list[Message] = []
        for emit in result.emits:
            where = locate(emit.port_id)
            if where is not None:
                messages.append(PacketOut(packets.build(emit.packet),
                                          tr.output_actions_to(where)))
        if tr.cacheable(result):
            # a learned source's expiry must re-learn it: tag the flow with that entry too
            learned = {mac_tag(entry.bridge_id, entry.mac) for entry in result.learned}
            tags = compact(result.tags | locate.tags | learned, self.view)
            cookie = self.index.add(tags, since, result.state_keys)
            if cookie is not None:
                flow = tr.flow_for(result, packet, in_port, locate, cookie, self.idle_timeout)
                if flow is not None:
                    messages.append(flow)
        if actions:
            messages.append(PacketOut(data, actions, in_port=in_port))
        if result.waiting and not result.outputs:
            wait = result.waiting[0]
            self.held.hold(wait, port_id, in_port, packet, data)
            if self._resolved(wait):  # resolved meanwhile: its announcement may have gone by
                messages += self.release(tag_of(wait))
        return messages

    def release(self, tag: str) -> list[Message]:
        """The messages that deliver the packets held for ARP entry ``tag``, if it is known.

        Each held packet is simulated again (the topology may have changed while it waited).
        """
        messages: list[Message] = []
        for wait in self.held.waits(tag):
            if self._resolved(wait):
                for item in self.held.take(tag):
                    messages += self.handle(item.port_id, item.in_port, item.packet, item.data)
        return messages

    def _resolved(self, wait: ArpWait) -> bool:
        return self.state.arps.get(wait.router_id, wait.ip) is not None
