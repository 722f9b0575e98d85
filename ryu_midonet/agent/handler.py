"""What the agent does with a packet that missed the flow table: simulate, then act.

A packet whose next hop a router is still resolving (and that goes nowhere else) is held
(:mod:`.arpwait`) and handled again when the ARP entry appears (:meth:`PacketHandler.release`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ryu_midonet.agent.arpwait import HeldPackets, tag_of
from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.flowsource import FlowSource, decision_tags
from ryu_midonet.agent.lbfast import LbFast
from ryu_midonet.agent.locator import Locator
from ryu_midonet.agent.natsteer import NatSteering, SnatFlows, entry_ports
from ryu_midonet.agent.tagset import compact
from ryu_midonet.datapath import ctlookup as ctl
from ryu_midonet.datapath import packets
from ryu_midonet.datapath import pipeline as pl
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.flows import CT_RPL, CT_TRK, Message, PacketOut, output, set_field
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import (
    ETH_IPV4,
    IP_ICMP,
    IP_TCP,
    IP_UDP,
    ArpWait,
    DatapathCt,
    DatapathReply,
    DatapathSnat,
    Packet,
    Result,
    RewriteOp,
)
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.rules.conntrack import scope_of
from ryu_midonet.sim.rules.tuples import ICMP_ERRORS, parse_quote
from ryu_midonet.sim.state import State
from ryu_midonet.sim.state.natranges import ReturnPath


@dataclass(frozen=True)
class NatReturn:
    """A packet-in from the nat-return table: the NAT address the packet was sent to, and
    whether the connection tracker translated it back (a reply to a known connection)."""

    nat_ip: str
    translated: bool
    entry_key: int = 0  # steered from another host: the tunnel key of the port it entered by
    state: int | None = None  # the tracker's ``ct_state`` (None: unknown)
    zone: int = 0  # the zone the tracker looked it up in (0: unknown)
    egress: int = 0  # the exit zone's answer before the reverse translation (EGRESS_REG)

    @classmethod
    def of(cls, nat_reg: int, ct_state: int, entry_key: int = 0, zone: int = 0,
           egress: int = 0) -> NatReturn:
        """From a nat-return packet-in: the NAT address register, the tracker's state, the
        entry port's key (0: entered here), the tracker's zone and the exit zone's answer
        (0: not asked)."""
        return cls(str(ipaddress.IPv4Address(nat_reg)), bool(ct_state & CT_RPL), entry_key,
                   ct_state, zone, egress)


class PacketHandler(FlowSource):
    """Turns one table-miss packet into switch messages (flow, packet-outs)."""

    def __init__(self, view: DictView, state: State, index: FlowIndex, host_id: str,
                 ofports: dict[str, int], tunnels: dict[str, int],
                 idle_timeout: int = 60, held: HeldPackets | None = None) -> None:
        super().__init__(view, state, index, host_id, ofports, tunnels)
        self.idle_timeout = idle_timeout
        self.held = held if held is not None else HeldPackets()
        self.last: Result | None = None  # the latest decision, for tracing and tests
        self.conntrack_in_datapath = True  # the agent option
        self.steering = NatSteering(host_id)
        self.snat_flows = SnatFlows()  # to move to a NAT address's new port block
        self._steered: frozenset[ReturnPath] | None = None  # the paths last synced
        self.tracer: Any = None  # live tracing (:class:`ryu_midonet.tracing.live.LiveTracer`)
        # load balancing in the datapath: new connections to a VIP (:mod:`.lbfast`)
        self.lb = LbFast(view, state, index, host_id, ofports, tunnels, idle_timeout)

    def handle(self, port_id: str, in_port: int, packet: Packet, data: bytes,
               nat: NatReturn | None = None, tracked: int | None = None) -> list[Message]:
        """With ``nat``, ``packet`` came back from the connection tracker (source NAT in the
        datapath): a translated reply is simulated as it entered, the reverse translation
        being the tracker's, and its flow goes to the nat-return table. With
        :attr:`conntrack_in_datapath`, connection tracking asks the switch's tracker
        (:mod:`~ryu_midonet.datapath.ctlookup`); ``tracked``: the packet comes from the
        ct-lookup table, with this ``ct_state``."""
        if nat is None and tracked is None:
            balanced = self.lb.first_packet(port_id, in_port, packet, data)
            if balanced is not None:
                return balanced
        since = self.index.generation()
        if nat is None:
            steered = self._to_owner(port_id, in_port, packet, data)
            if steered is not None:
                return steered
        reply = _reply(packet, nat)
        entered = packet if reply is None or nat is None else packet.replace(
            ipv4_dst=nat.nat_ip)
        datapath_ct = None
        if self.conntrack_in_datapath and nat is None:
            datapath_ct = DatapathCt(None if tracked is None else ctl.returning(packet, tracked))
        elif self.conntrack_in_datapath and nat is not None:
            datapath_ct = self._nat_tracked(packet, nat)
        result = simulate(self.view, self.state, port_id, entered, datapath_reply=reply,
                          datapath_ct=datapath_ct)
        to_tracker = result.ct_scope is not None and result.ct_return is None
        if to_tracker and not tr.cacheable(result):  # no flow can take it to the tracker
            result = simulate(self.view, self.state, port_id, entered, datapath_reply=reply)
            to_tracker = False
        self.last = result
        traced = None if self.tracer is None else self.tracer.observe(port_id, packet, result)
        if nat is None and self._refresh_paths(packet, result):
            steered = self._to_owner(port_id, in_port, packet, data)
            if steered is not None:  # its return path had not been announced here yet
                return steered
        locate = self.locator()
        # to the tracker: through the flow that takes it there (without one, dropped); a
        # connection is committed by its flow (without one, it is not)
        actions = () if to_tracker else ctl.without_commits(
            tr.output_actions(result, locate, in_port))
        self._record(result)
        messages: list[Message] = [*self.lb.take_requests(), *self._steering(locate)]
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
                if nat is not None:
                    flow = tr.nat_return_flow(result, packet, in_port, nat.nat_ip, locate,
                                              cookie, self.idle_timeout, nat.entry_key,
                                              nat.egress & 0xFFFF)
                elif to_tracker:
                    flow = ctl.lookup_flow(result, packet, in_port, cookie, self.idle_timeout)
                elif tracked is not None:
                    flow = ctl.answered_flow(result, packet, in_port, locate, cookie,
                                             self.idle_timeout)
                else:
                    flow = tr.flow_for(result, packet, in_port, locate, cookie,
                                       self.idle_timeout)
                if flow is not None:
                    messages.append(flow)
                    if nat is None and not to_tracker and tr.has_datapath_snat(result):
                        self.snat_flows.add(flow, _snat_exits(result))
                    if tr.has_datapath_snat(result) or to_tracker or ctl.commits(result):
                        # through the new flow, so the tracker sees the connection's first packet
                        actions = (output("table"),)
        if actions:
            messages.append(PacketOut(data, actions, in_port=in_port))
        if result.waiting and not result.outputs:
            wait = result.waiting[0]
            self.held.hold(wait, port_id, in_port, packet, data)
            if self._resolved(wait):  # resolved meanwhile: its announcement may have gone by
                messages += self.release(tag_of(wait))
        if traced is not None:
            messages = self.tracer.finish(traced, messages)
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
        """The steering flows of every NAT return path known (a switch that connects has
        none: replies to established connections need them back)."""
        self.steering.reset()
        return self.nat_steering()

    def nat_steering(self) -> list[Message]:
        """The steering flows to add and remove after the return paths or the ports'
        locations changed."""
        self._steered = None
        return self._steering(self.locator())

    def _steering(self, locate: Locator) -> list[Message]:
        """The steering flows to add and remove since the return paths last changed (a
        path's flows must be on the switch before its first reply comes)."""
        paths = getattr(self.state.nat_ranges, "paths", None)
        if paths is None:
            return []
        known = paths()
        if known == self._steered:
            return []
        self._steered = known
        return self.steering.sync(known, locate)

    def nat_blocks_changed(self) -> list[Message]:
        """The flows that translate to a NAT address whose newest port block changed, moved
        to it (new connections take its ports; tracked ones keep theirs), after the return
        paths of the new block are recorded, and the steering flows they need here."""
        current = getattr(self.state.nat_ranges, "current", None)
        record = getattr(self.state.nat_ranges, "record", None)
        if current is None or record is None:
            return []
        flows, paths = self.snat_flows.retarget(current, self.index.__contains__, self.host_id)
        if not flows:
            return []
        for path in paths:
            record(path)
        return [*self.nat_steering(), *flows]

    def _record(self, result: Result) -> None:
        """Record the return paths of the outputs the datapath translates the source of."""
        record = getattr(self.state.nat_ranges, "record", None)
        if record is None:
            return
        for out in result.outputs:
            for rw in out.rewrites:
                if rw.op is RewriteOp.DATAPATH_SNAT and isinstance(rw.value, DatapathSnat):
                    snat = rw.value
                    record(ReturnPath(out.port_id, snat.scope, snat.ip, snat.port_from,
                                      snat.port_to, self.host_id))

    def _nat_tracked(self, packet: Packet, nat: NatReturn) -> DatapathCt | None:
        """The tracker's answer for a packet from the nat-return table: it went through the
        zone of the scope of one of this host's return paths to ``nat.nat_ip`` (the one of
        zone ``nat.zone``; None: no single such scope, or the answer is unknown)."""
        paths = getattr(self.state.nat_ranges, "paths", None)
        state = nat.state
        if state is None and not _is_error(packet):
            state = CT_TRK | (CT_RPL if nat.translated else 0)
        if paths is None or state is None:
            return None
        mine = [x for x in paths() if x.ip == nat.nat_ip and x.host == self.host_id
                and (not nat.zone or tr.zone_of(x.scope) == nat.zone)]
        found = {x.scope for x in mine}
        if len(found) != 1:
            return None
        return DatapathCt(ctl.returning(packet, state), next(iter(found)),
                          self._egress(mine, nat.egress))

    def _egress(self, paths: list[ReturnPath], egress: int) -> tuple[str, bool] | None:
        """The exit zone's answer (``EGRESS_REG``: zone | returning bit, 0: not asked) as
        (scope, returning): the exit port's scope of one of ``paths`` in that zone."""
        zone = egress & 0xFFFF
        if not zone:
            return None
        scopes = {s for x in paths if (port := self.view.get("port", x.port_id)) is not None
                  and tr.zone_of(s := scope_of(self.view, port)) == zone}
        if len(scopes) != 1:
            return None
        return next(iter(scopes)), bool(egress & pl.CT_EGRESS_RETURNING)

    def _refresh_paths(self, packet: Packet, result: Result) -> bool:
        """Whether the store knew return paths for ``packet`` that this host had not heard
        of yet: asked only when a reverse source NAT found no translation for it (a reply
        may come before its path's announcement)."""
        refresh = getattr(self.state.nat_ranges, "refresh", None)
        nat_port = _nat_port(packet)
        if (refresh is None or nat_port is None or packet.ipv4_dst is None
                or not any(t.startswith("nat:rev_snat:") for t in result.tags)):
            return False
        return bool(refresh(packet.ipv4_dst, nat_port))

    def _to_owner(self, port_id: str, in_port: int, packet: Packet,
                  data: bytes) -> list[Message] | None:
        """A reply (or ICMP error) to another host's NAT ports that entered here before the
        steering flow, or that no flow can steer: sent to that host as the flow would.
        None: it is none of those."""
        paths = getattr(self.state.nat_ranges, "paths", None)
        nat_port = _nat_port(packet)
        if paths is None or nat_port is None:
            return None
        path = next((x for x in paths() if x.ip == packet.ipv4_dst and x.host != self.host_id
                     and x.first <= nat_port <= x.last
                     and port_id in entry_ports(x, self.view)), None)
        port = self.view.get("port", port_id)
        key = int((port or {}).get("tunnelKey") or 0)
        if path is None or not 0 < key < pl.NAT_TUNNEL_FLAG:
            return None
        locate = self.locator()
        owner = locate.host(path.host, key)
        if owner is None:
            return None
        actions = (set_field("tunnel_id", tr.steered_key(key)),
                   set_field("tun_ipv4_dst", owner.ip), output(owner.tunnel_ofport))
        return [*self._steering(locate), PacketOut(data, actions, in_port=in_port)]


def _snat_exits(result: Result) -> list[tuple[str, str, str]]:
    """(exterior port, scope, NAT address) of each output the datapath translates."""
    return [(out.port_id, rw.value.scope, rw.value.ip) for out in result.outputs
            for rw in out.rewrites
            if rw.op is RewriteOp.DATAPATH_SNAT and isinstance(rw.value, DatapathSnat)]


def _nat_port(packet: Packet) -> int | None:
    """The NAT port a packet to a NAT address would be a reply to: its destination port, or
    the source port an ICMP error quotes."""
    if packet.eth_type != ETH_IPV4 or packet.ipv4_dst is None:
        return None
    if packet.ip_proto == IP_TCP:
        return packet.tcp_dst
    if packet.ip_proto == IP_UDP:
        return packet.udp_dst
    if packet.ip_proto == IP_ICMP and packet.icmpv4_type in ICMP_ERRORS:
        quote = parse_quote(packet.payload or b"")
        if quote is not None and quote.src == packet.ipv4_dst and quote.proto in (IP_TCP,
                                                                                  IP_UDP):
            return quote.ports()[0]
    return None


def _is_error(packet: Packet) -> bool:
    return packet.ip_proto == IP_ICMP and packet.icmpv4_type in ICMP_ERRORS


def _reply(packet: Packet, nat: NatReturn | None) -> DatapathReply | None:
    """What the tracker's reverse translation of ``packet`` was, if it did one (for an ICMP
    error, related to a connection: its destination and quote; port 0)."""
    if nat is None or packet.ipv4_dst is None:
        return None
    if (packet.ip_proto == IP_ICMP and packet.icmpv4_type in ICMP_ERRORS
            and packet.ipv4_dst != nat.nat_ip):
        return DatapathReply(packet.ipv4_dst, 0)
    if not nat.translated:
        return None
    port = {IP_TCP: packet.tcp_dst, IP_UDP: packet.udp_dst}.get(packet.ip_proto or 0)
    return None if port is None else DatapathReply(packet.ipv4_dst, port)
