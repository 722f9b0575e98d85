"""Load balancing in the datapath, the agent's side: what it installs so that new connections
to a VIP are balanced by the switch (:mod:`ryu_midonet.datapath.lbflows` says how).

- The first packet of a client (an ingress port and source address) to a VIP is simulated
  as any other, with the flow-state writes kept aside (:class:`Aside`): when the simulator
  balanced it as a new connection, the agent simulates a packet of a connection to each
  member of the pool (the flow state the simulator keys the member by given), and installs
  the entry flow, the new-connection flow (to the VIP's select group of the eligible
  members by weight; with source-IP persistence, to the member the simulator chose for that
  source) and a flow per member, with the path the simulator gave, all removed together
  when anything they were built from changes, or when the entry flow was idle for the
  agent's idle timeout (:meth:`LbFast.removed`: the entry flow is the one every packet
  takes). Nothing was written to the store: the tracker keeps the connections (a packet of
  one whose flows went is simulated as a new connection again, and the tracker sends it to
  its member). The packet goes on through the new flows.
- A packet from a member's address and port that the lb-reply table does not know reaches
  :meth:`LbFast.reply_miss`: a balanced reply (``+rpl``) is simulated with the reverse
  translation given as flow state; anything else as usual (the handler's flow moves to the
  lb-reply table, keyed by the tracker's answer).
- :meth:`LbFast.host_flows` keeps every host's flows of the VIPs' members in step with the
  topology and the local ports.

Which choice of member is the datapath's: without persistence, the select group's hash
picks among the same eligible members with the same weights (as the tracker picks a source
NAT port for the simulator); with persistence the simulator's choice is installed.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.flowsource import FlowSource, decision_tags
from ryu_midonet.agent.tagset import compact
from ryu_midonet.datapath import lbflows as lbf
from ryu_midonet.datapath import packets
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.flows import (
    CT_RPL,
    Action,
    FlowDelete,
    FlowSpec,
    GroupDelete,
    Message,
    PacketOut,
    group,
    output,
)
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import ETH_IPV4, IP_TCP, Packet, Result
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.devices import l4lb
from ryu_midonet.sim.rules.nat import Binding
from ryu_midonet.sim.rules.tuples import Conn
from ryu_midonet.sim.state import State
from ryu_midonet.sim.state.flowstate import STICKY_PREFIX, FlowTable

_LB_KEYS = ("nat:dnat:lb:", "nat:rev_dnat:lb:", STICKY_PREFIX)


class Aside:
    """A flow-state table that reads through to ``real`` (``given`` first) and keeps its
    writes to itself."""

    def __init__(self, real: FlowTable, given: dict[str, str] | None = None) -> None:
        self.real = real
        self.given = dict(given or {})
        self.written: dict[str, str] = {}
        self.created: list[str] = []

    def get(self, key: str) -> str | None:
        if key in self.written:
            return self.written[key]
        if key in self.given:
            return self.given[key]
        return self.real.get(key)

    def put(self, key: str, value: str) -> bool:
        self.written[key] = value
        return True

    def put_new(self, key: str, value: str) -> bool:
        if self.get(key) is not None:
            return False
        self.written[key] = value
        self.created.append(key)
        return True

    def delete(self, key: str) -> bool:
        return self.written.pop(key, None) is not None

    def refresh(self, keys: Iterable[str]) -> int:
        return 0

    def live(self, keys: Iterable[str]) -> set[str]:
        return set()

    def expire(self) -> int:
        return 0


def fast_vips(view: DictView) -> dict[tuple[str, int], l4lb.Vip]:
    """The VIPs the datapath balances, by address and port: every active VIP whose members'
    endpoints serve no other VIP (the reply's zone must be known from its source); kept
    until the topology changes."""
    return view.derived("lb-fast", "vips", lambda: _fast_vips(view))


def _fast_vips(view: DictView) -> dict[tuple[str, int], l4lb.Vip]:
    found: dict[tuple[str, int], l4lb.Vip] = {}
    for _, router in sorted(view.all_of("router").items()):
        balancer = l4lb.balancer_of(view, router)
        if balancer is None:
            continue
        for address, vip in balancer.vips.items():
            ends = endpoints(vip)
            if all([x.id for x in balancer.serving.get(e, ())] == [vip.id] for e in ends):
                found[address] = vip
    return found


def endpoints(vip: l4lb.Vip) -> list[tuple[str, int]]:
    """The endpoints (address, port) of the VIP's members that have one."""
    ends = []
    for member in vip.members:
        address, port = member.get("address"), member.get("protocolPort")
        if isinstance(address, str) and isinstance(port, int) and not isinstance(port, bool):
            ends.append((address, port))
    return ends


def eligible(vip: l4lb.Vip) -> list[tuple[str, int, int]]:
    """The members new connections may go to: (address, port, weight)."""
    out = []
    for member in vip.eligible():
        weight = member.get("weight", 1)
        out.append((str(member["address"]), int(member["protocolPort"]),
                    weight if isinstance(weight, int) else 1))
    return out


class LbFast(FlowSource):
    """This host's part of load balancing in the datapath."""

    def __init__(self, view: DictView, state: State, index: FlowIndex, host_id: str,
                 ofports: dict[str, int], tunnels: dict[str, int],
                 idle_timeout: int = 60) -> None:
        super().__init__(view, state, index, host_id, ofports, tunnels)
        self.idle_timeout = idle_timeout
        self.groups: set[int] = set()  # installed
        self.cookies: set[int] = set()  # of the flows installed for new connections
        self._requests: list[Message] = []  # ARP requests for members, to send
        self.sent: dict[int, tuple[FlowSpec, ...]] = {}  # zone -> member host flows
        self._lock = threading.Lock()

    # -- new connections -------------------------------------------------------------------
    def first_packet(self, port_id: str, in_port: int, packet: Packet,
                     data: bytes) -> list[Message] | None:
        """The flows that balance ``packet``'s connection and those after it, when it is a
        new connection to a VIP the datapath balances (None: it is not; simulate it as
        usual)."""
        if packet.eth_type != ETH_IPV4 or packet.ip_proto != IP_TCP:
            return None
        vip = fast_vips(self.view).get((packet.ipv4_dst or "", packet.tcp_dst or 0))
        if vip is None:
            return None
        since = self.index.generation()
        aside = Aside(self.state.flows)
        result = self._simulate(port_id, packet, aside)
        prefix = f"nat:dnat:{vip.scope}:"
        new = [k for k in aside.created if k.startswith(prefix)]
        if (len(new) != 1 or not _plain(result)
                or any(not k.startswith(_LB_KEYS) for k in aside.written)):
            return None
        chosen = Binding.parse(aside.written[new[0]])
        locate = self.locator()
        tags = decision_tags(result, locate)
        fields = set(result.fields_read) - {"tcp_src"}
        if result.learned:
            fields.add("eth_src")
        match = tr.match_for(packet, in_port, fields)
        base: dict[str, object] = {"in_port": in_port}
        if "ipv4_src" in match:
            base["ipv4_src"] = packet.ipv4_src
        zone = tr.zone_of(vip.scope)
        paths: list[tuple[tuple[str, int], tuple[Action, ...]]] = []
        for end in endpoints(vip):
            given = Aside(self.state.flows, {new[0]: str(Binding(*end))})
            path = self._simulate(port_id, packet, given)
            if path.waiting:  # the router resolves the member's address first
                self._ask(path)
            if not _plain(path):
                return None
            where = self.locator()
            tags |= decision_tags(path, where)
            actions = lbf.committing(tr.with_ttl_checks(
                path, tr.output_actions(path, where, in_port))) if path.outputs else ()
            paths.append((end, actions))
        # a sticky source's entry is written (and kept alive by the entry flow, which lives
        # while the source sends): the translations stay the tracker's
        sticky = {k: v for k, v in aside.written.items() if k.startswith(STICKY_PREFIX)}
        cookie = self.index.add(compact(tags, self.view), since, set(sticky))
        if cookie is None:
            return None
        for key, value in sticky.items():
            self.state.flows.put(key, value)
        messages: list[Message] = list(self.host_flows())
        if vip.sticky:
            to = lbf.commit_to(zone, chosen)
        else:
            spec = lbf.vip_group(zone, eligible(vip))
            with self._lock:
                if spec.group_id not in self.groups:
                    self.groups.add(spec.group_id)
                    messages.append(spec)
            to = group(spec.group_id)
        with self._lock:
            self.cookies.add(cookie)
        messages.append(lbf.entry_flow(match, zone, cookie, self.idle_timeout))
        messages.append(lbf.new_flow(base, vip.address, zone, to, cookie, 0))
        messages += [lbf.member_flow(base, end, zone, actions, cookie, 0)
                     for end, actions in paths]
        messages.append(PacketOut(data, (output("table"),), in_port=in_port))
        return messages

    def _ask(self, path: Result) -> None:
        """Keep the packets (ARP requests) of a path that waits for an address, for the
        handler to send with its answer (:meth:`take_requests`)."""
        locate = self.locator()
        for emit in path.emits:
            where = locate(emit.port_id)
            if where is not None:
                with self._lock:
                    self._requests.append(PacketOut(packets.build(emit.packet),
                                                    tr.output_actions_to(where)))

    def take_requests(self) -> list[Message]:
        """The ARP requests for members' addresses that the last new connections waited
        for (the packet went the agent's way meanwhile)."""
        with self._lock:
            requests, self._requests = self._requests, []
        return requests

    def _simulate(self, port_id: str, packet: Packet, flows: Aside) -> Result:
        state = dataclasses.replace(self.state, flows=flows)
        return simulate(self.view, state, port_id, packet)

    def removed(self, cookie: int) -> list[Message]:
        """The switch removed a flow: when it was the entry of connections to a VIP, the
        flows installed with it go too."""
        with self._lock:
            if cookie not in self.cookies:
                return []
            self.cookies.discard(cookie)
        return [FlowDelete(cookie)]

    # -- replies ---------------------------------------------------------------------------
    def reply_miss(self, port_id: str, in_port: int, packet: Packet, data: bytes,
                   ct_state: int, zone: int,
                   usual: Callable[[], list[Message]]) -> list[Message]:
        """A packet from a member's endpoint that missed the lb-reply table, after the
        tracker in ``zone`` said ``ct_state``; ``usual``: the handler's messages for it."""
        vip = next((v for v in fast_vips(self.view).values()
                    if tr.zone_of(v.scope) == zone
                    and (packet.ipv4_src, packet.tcp_src) in endpoints(v)), None)
        if vip is None or not ct_state & CT_RPL or packet.ip_proto != IP_TCP:
            return [_to_lb_reply(m, zone) for m in usual()]
        since = self.index.generation()
        conn = Conn(IP_TCP, packet.ipv4_src or "", packet.tcp_src or 0, packet.ipv4_dst or "",
                    packet.tcp_dst or 0)
        given = Aside(self.state.flows,
                      {f"nat:rev_dnat:{vip.scope}:{conn}": str(vip.address)})
        result = self._simulate(port_id, packet, given)
        locate = self.locator()
        actions = lbf.reply_actions(tr.with_ttl_checks(
            result, tr.output_actions(result, locate, in_port)), zone) if result.outputs else ()
        if actions is None or not _plain(result):
            return []
        cookie = self.index.add(compact(decision_tags(result, locate), self.view), since,
                                set())
        if cookie is None:
            return []
        fields = set(result.fields_read) - {"tcp_dst"}
        if result.learned:
            fields.add("eth_src")
        flow = lbf.reply_flow(tr.match_for(packet, in_port, fields), zone, True, actions,
                              cookie, self.idle_timeout)
        return [flow, PacketOut(data, (output("table"),), in_port=in_port)]

    # -- every host ------------------------------------------------------------------------
    def host_flows(self) -> list[Message]:
        """The flows of the VIPs' members at this host's ports that are new or changed
        (those that changed or went removed first), and the removal of groups of VIPs that
        changed."""
        ports = sorted((ofport, key) for port_id, ofport in self.ofports.items()
                       if (key := _key(self.view.get("port", port_id))))
        vips = fast_vips(self.view)
        wanted: dict[int, tuple[FlowSpec, ...]] = {}
        current: set[int] = set()
        for vip in vips.values():
            zone = tr.zone_of(vip.scope)
            wanted[zone] = tuple(lbf.member_host_flows(ports, zone, endpoints(vip),
                                                       lbf.host_cookie(zone)))
            if not vip.sticky and eligible(vip):
                current.add(lbf.group_id(zone, eligible(vip)))
        messages: list[Message] = []
        with self._lock:
            for zone, flows in self.sent.items():
                if wanted.get(zone) != flows:
                    messages.append(FlowDelete(lbf.host_cookie(zone)))
            for zone, flows in wanted.items():
                if self.sent.get(zone) != flows:
                    messages += flows
            self.sent = wanted
            for gone in sorted(self.groups - current):
                messages.append(GroupDelete(gone))
            self.groups &= current
        return messages

    def reset(self) -> None:
        """The switch lost its flows and groups."""
        with self._lock:
            self.groups.clear()
            self.sent.clear()
            self.cookies.clear()


def _plain(result: Result) -> bool:
    """A decision the fast path can install: cacheable, no packets of its own, no
    connection tracking of its own, nothing held."""
    return (tr.cacheable(result) and not result.emits and result.ct_scope is None
            and not result.waiting)


def _key(port: object) -> int:
    key = port.get("tunnelKey") if isinstance(port, dict) else None
    return key if isinstance(key, int) and not isinstance(key, bool) else 0


def _to_lb_reply(msg: Message, zone: int) -> Message:
    """A flow the handler built for a packet from a member's endpoint that is no balanced
    reply, moved to the lb-reply table (the packets it is for reach only that)."""
    if not isinstance(msg, FlowSpec) or msg.table != p.TABLE_FLOWS:
        return msg
    return lbf.reply_flow(msg.match, zone, False, msg.actions, msg.cookie, msg.idle_timeout)
