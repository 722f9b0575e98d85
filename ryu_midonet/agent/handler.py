"""What the agent does with a packet that missed the flow table: simulate, then act.

A packet whose next hop a router is still resolving (and that goes nowhere else) is held
(:mod:`.arpwait`) and handled again when the ARP entry appears (:meth:`PacketHandler.release`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ryu_midonet.agent.arpwait import HeldPackets, tag_of
from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.flowsource import FlowSource, decision_tags
from ryu_midonet.agent.locator import Locator
from ryu_midonet.agent.tagset import compact
from ryu_midonet.datapath import packets
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.flows import Message, PacketOut, output
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import IP_TCP, IP_UDP, ArpWait, DatapathReply, Packet, Result
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.state import State


@dataclass(frozen=True)
class NatReturn:
    """A packet-in from the nat-return table: the NAT address the packet was sent to, and
    whether the connection tracker translated it back (a reply to a known connection)."""

    nat_ip: str
    translated: bool


class PacketHandler(FlowSource):
    """Turns one table-miss packet into switch messages (flow, packet-outs)."""

    def __init__(self, view: DictView, state: State, index: FlowIndex, host_id: str,
                 ofports: dict[str, int], tunnels: dict[str, int],
                 idle_timeout: int = 60, held: HeldPackets | None = None) -> None:
        super().__init__(view, state, index, host_id, ofports, tunnels)
        self.idle_timeout = idle_timeout
        self.held = held if held is not None else HeldPackets()
        self.last: Result | None = None  # the latest decision, for tracing and tests

    def handle(self, port_id: str, in_port: int, packet: Packet, data: bytes,
               nat: NatReturn | None = None) -> list[Message]:
        """With ``nat``, ``packet`` came back from the connection tracker (source NAT in the
        datapath): a translated reply is simulated as it entered, the reverse translation
        being the tracker's, and its flow goes to the nat-return table."""
        since = self.index.generation()
        reply = _reply(packet, nat)
        entered = packet if reply is None or nat is None else packet.replace(
            ipv4_dst=nat.nat_ip)
        result = simulate(self.view, self.state, port_id, entered, datapath_reply=reply)
        self.last = result
        locate = self.locator()
        actions = tr.output_actions(result, locate, in_port)
        messages: list[Message] = self._steering(locate)
        for emit in result.emits:
            where = locate(emit.port_id)
            if where is not None:
                messages.append(PacketOut(packets.build(emit.packet),
                                          tr.output_actions_to(where)))
        if tr.cacheable(result):
            tags = compact(decision_tags(result, locate), self.view)
            cookie = None if nat is not None and reply is None else self.index.add(
                tags, since, result.state_keys)  # an untranslated return packet: no flow
            if cookie is not None:
                flow = (tr.flow_for(result, packet, in_port, locate, cookie, self.idle_timeout)
                        if nat is None else
                        tr.nat_return_flow(result, packet, in_port, nat.nat_ip, locate, cookie,
                                           self.idle_timeout))
                if flow is not None:
                    messages.append(flow)
                    if tr.has_datapath_snat(result):
                        # through the new flow, so the tracker sees the connection's first packet
                        actions = (output("table"),)
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

    def switch_connected(self) -> list[Message]:
        """The steering flows of every NAT port range already handed out (a switch that
        connects has none: replies to established connections need them back)."""
        again = getattr(self.state.nat_ranges, "again", None)
        if again is None:
            return []
        again()
        return self._steering(self.locator())

    def _steering(self, locate: Locator) -> list[Message]:
        """The flows that send replies to the NAT port ranges handed out since last asked
        through the tracker (they must be on the switch before the first reply comes)."""
        take = getattr(self.state.nat_ranges, "take_new", None)
        messages: list[Message] = []
        for path in take() if take is not None else ():
            where = locate(path.port_id)
            if isinstance(where, tr.Local):
                messages += tr.nat_steering(where.ofport, path.scope, path.ip, path.first,
                                            path.last)
        return messages


def _reply(packet: Packet, nat: NatReturn | None) -> DatapathReply | None:
    """What the tracker's reverse translation of ``packet`` was, if it did one."""
    if nat is None or not nat.translated or packet.ipv4_dst is None:
        return None
    port = {IP_TCP: packet.tcp_dst, IP_UDP: packet.udp_dst}.get(packet.ip_proto or 0)
    return None if port is None else DatapathReply(packet.ipv4_dst, port)
