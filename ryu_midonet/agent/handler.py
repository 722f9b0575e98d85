"""What the agent does with a packet that missed the flow table: simulate, then act."""

from __future__ import annotations

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.locator import Locator
from ryu_midonet.datapath import packets
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.flows import Message, PacketOut
from ryu_midonet.sim import simulate
from ryu_midonet.sim.model import Packet, Result
from ryu_midonet.sim.state import State, mac_tag
from ryu_midonet.sim.topology import DictView


class PacketHandler:
    """Turns one table-miss packet into switch messages (flow, packet-outs)."""

    def __init__(self, view: DictView, state: State, index: FlowIndex, host_id: str,
                 ofports: dict[str, int], tunnels: dict[str, int],
                 idle_timeout: int = 60) -> None:
        self.view = view
        self.state = state
        self.index = index
        self.host_id = host_id
        self.ofports = ofports
        self.tunnels = tunnels
        self.idle_timeout = idle_timeout
        self.last: Result | None = None  # the latest decision, for tracing and tests

    def handle(self, port_id: str, in_port: int, packet: Packet, data: bytes
               ) -> list[Message]:
        since = self.index.generation()
        result = simulate(self.view, self.state, port_id, packet)
        self.last = result
        locate = Locator(self.view, self.host_id, self.ofports, self.tunnels)
        actions = tr.output_actions(result, locate)
        messages: list[Message] = []
        for emit in result.emits:
            where = locate(emit.port_id)
            if where is not None:
                messages.append(PacketOut(packets.build(emit.packet),
                                          tr.output_actions_to(where)))
        if tr.cacheable(result):
            # a learned source's expiry must re-learn it: tag the flow with that entry too
            learned = {mac_tag(entry.bridge_id, entry.mac) for entry in result.learned}
            cookie = self.index.add(result.tags | locate.tags | learned, since,
                                    result.state_keys)
            if cookie is not None:
                flow = tr.flow_for(result, packet, in_port, locate, cookie, self.idle_timeout)
                if flow is not None:
                    messages.append(flow)
        if actions:
            messages.append(PacketOut(data, actions, in_port=in_port))
        return messages
