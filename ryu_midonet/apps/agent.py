"""The per-host agent: simulates new flows at the ingress host and programs the local switch.

``ryu-midonet-manager --redis-url URL --ovsdb-connection unix:/path/db.sock
--host-id-file FILE ryu_midonet.apps.agent``

- registers this host (stable id, name, interfaces) and keeps it alive with heartbeats;
- keeps a local copy of the topology, current from the store's change feed;
- plugs the interfaces bound to virtual ports on this host into the integration bridge and
  pre-installs their classification and tunnel-delivery flows;
- on a table miss, simulates the packet through the virtual topology, installs the flow the
  decision allows and sends the packet on; later packets never reach the agent. Misses are
  rate-limited per local port by a meter on the switch and wait in per-port queues that one
  worker serves in turn (:mod:`ryu_midonet.agent.missqueue`), so a VM opening new flows flat
  out delays others' new flows by little and the agent's memory stays bounded;
- removes exactly the flows built from something that changed (topology, MAC, ARP entries);
- pre-installs the stateless paths of its ports toward known MACs and neighbours, and
  installs them again after such changes (:mod:`ryu_midonet.agent.proactive`);
- calls the hooks of the features other apps of the process registered
  (:mod:`ryu_midonet.agent.features`) and sends what they return;
- with ``--check-flow-contracts``, leaves out (and logs) every flow that breaks its pipeline
  table's contract (:mod:`ryu_midonet.agent.sender`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.ofproto import ofproto_v1_3

from ryu_midonet import config
from ryu_midonet.agent import features, natusage
from ryu_midonet.agent.bindings import Bindings
from ryu_midonet.agent.cttimeouts import ZoneTimeouts
from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import NatReturn, PacketHandler
from ryu_midonet.agent.host import HostPresence, load_host_id
from ryu_midonet.agent.lbfast import LbFast
from ryu_midonet.agent.locator import Locator
from ryu_midonet.agent.missqueue import MissQueue
from ryu_midonet.agent.proactive import Compiler
from ryu_midonet.agent.reconnect import hurry_switch
from ryu_midonet.agent.sender import Sender
from ryu_midonet.agent.seqcheck import SeqCheck
from ryu_midonet.agent.tagset import Parents
from ryu_midonet.datapath import ctcopy, lbflows, packets
from ryu_midonet.datapath import ctlookup as ctl
from ryu_midonet.datapath import pipeline as pl
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.flows import (
    FlowDelete,
    GroupDelete,
    Message,
    MeterDelete,
    SwitchConfig,
)
from ryu_midonet.nsdb import divergence, errors
from ryu_midonet.nsdb.cache import TopologyCache
from ryu_midonet.nsdb.schema import parent_fields
from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.ovsdb.switch import LocalSwitch
from ryu_midonet.sim.core.topology import CacheView
from ryu_midonet.sim.rules.conntrack import PORT_GROUPS_TAG, scope_of
from ryu_midonet.statestore import LocalState, StateChanges
from ryu_midonet.statestore.natleases import RedisNatRanges
from ryu_midonet.tracing import live, tracelog

LOG = logging.getLogger(__name__)

# Parent objects whose flows change when a child appears or goes (a new port changes a
# bridge's flooding, a new route a router's decisions): the kinds' parent fields.
PARENT_FIELDS = parent_fields()
STOP_WRITES_WAIT = 2.0  # seconds a stopping agent gives its queued MAC/ARP writes
PERIODIC_TICK = 0.5  # seconds between checks for features' periodic work
DROPS_LOG_INTERVAL = 10.0  # seconds between reports of packet-ins dropped unhandled
LB_REPLY_MISS = -1  # a packet-in's meta: from the lb-reply table (state, zone)
NAT_USAGE_INTERVAL = 5.0  # seconds between counts of the tracker's connections per NAT block


class AgentApp(app_manager.OSKenApp):
    """The agent of one host."""

    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]
    nat_in_datapath = False  # the option: source NAT by the switch's connection tracker
    nat_ranges: RedisNatRanges | None = None  # with it: NAT port blocks, return paths
    conntrack_in_datapath = False  # the option: connection tracking by the switch's tracker
    tracing: live.LiveTracer | None = None  # live packet tracing (:mod:`ryu_midonet.tracing.live`)
    lb: LbFast | None = None  # load balancing in the datapath (the packet handler's)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        conf = self.CONF
        config.register_opts(conf)
        self.store = Store.from_url(conf.redis_url, conf.nsdb_prefix)
        self.topo = Topology(self.store)
        self.host_id = load_host_id(conf.host_id_file)
        self.presence = HostPresence(self.topo, self.host_id, conf.host_name,
                                     conf.host_alive_ttl_ms)
        self.cache = TopologyCache(Store.from_url(conf.redis_url, conf.nsdb_prefix),
                                   grace=conf.store_divergence_grace)
        # MAC/ARP lookups from local copies, learned entries written by threads of their own
        self.local_state = LocalState(self.store, host_id=self.host_id)
        self.state = self.local_state.state
        self.nat_in_datapath = bool(conf.nat_in_datapath)
        if self.nat_in_datapath:  # NAT port blocks leased through the store
            self.nat_ranges = RedisNatRanges(self.store, self.host_id,
                                             conf.nat_datapath_block_bits)
            self.state.nat_ranges = self.nat_ranges
            self.tracker_listing = natusage.TrackerListing(
                *natusage.unixctl_target(conf.ovsdb_connection))
        self.view = CacheView(self.cache)
        self.switch = LocalSwitch(conf.ovsdb_connection, conf.integration_bridge)
        self.index = FlowIndex()
        self.tunnels: dict[str, int] = {}
        miss = (tr.MissLimit(conf.miss_rate_per_port, conf.miss_burst_per_port)
                if conf.miss_rate_per_port else None)
        self.bindings = Bindings(self.cache, self.switch, self.host_id, miss)
        self.misses = MissQueue(conf.miss_queue_per_port, conf.miss_max_wait)
        self.handler = PacketHandler(self.view, self.state, self.index, self.host_id,
                                     self.bindings.ofports, self.tunnels,
                                     conf.flow_idle_timeout)
        self.conntrack_in_datapath = bool(conf.conntrack_in_datapath)
        self.handler.conntrack_in_datapath = self.conntrack_in_datapath
        self.lb = self.handler.lb
        self.ct_delivery = ctl.CommitDelivery(metered=miss is not None)
        self.ct_copies = ctcopy.CopyFlows()
        self.seq_check = SeqCheck(*natusage.unixctl_target(conf.ovsdb_connection),
                                  enabled=bool(conf.conntrack_copies_tcp_liberal))
        self.zone_timeouts = ZoneTimeouts(self.switch.set_zone_timeouts,
                                          conf.conntrack_copies_tcp_timeout)
        self.proactive = Compiler(self.view, self.state, self.index, self.host_id,
                                  self.bindings.ofports, self.tunnels,
                                  conf.proactive_max_flows_per_port, conf.proactive_flows)
        self.sender = Sender(check=conf.check_flow_contracts)
        self.tracing = live.LiveTracer(self.view, tracelog.StoreCounter(self.store),
                                       tracelog.StoreLog(self.store), self.presence.name,
                                       live.copy_simulator(self.view, self.state))
        self.handler.tracer = self.tracing
        self.proactive.hides = self.tracing.hides
        self.features = features.REGISTRY
        self._pending_tags: set[str] = set()
        self.parents = Parents(PARENT_FIELDS)
        self._pending_messages: list[Message] = []
        self._stop = threading.Event()

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> Any:
        super().start()
        conf = self.CONF
        self.presence.start()
        port = conf.ofp_tcp_listen_port or 6653
        controller = f"tcp:127.0.0.1:{port}"
        self.switch.ensure_bridge(controller=controller)
        for kind in ("vxlan", "gre"):
            name = self.switch.ensure_tunnel(kind, conf.vxlan_udp_port)
            ofport = self.switch.ofport(name)
            if ofport:
                self.tunnels[kind] = ofport
        self.features.start(features.AgentContext(self.host_id, self.store, self.view,
                                                  self.bindings.ofports,
                                                  bool(conf.miss_rate_per_port)))
        self.cache.listeners.append(self._on_topology_change)
        self.cache.divergence_listeners.append(self._on_divergence)
        self.cache.resync()
        self._send(self._take_pending_messages() + self._reconcile())
        threading.Thread(target=self._follow_topology, name="topology-feed",
                         daemon=True).start()
        threading.Thread(target=self._follow_state, name="state-feed", daemon=True).start()
        threading.Thread(target=self._run_proactive, name="proactive", daemon=True).start()
        threading.Thread(target=self._run_periodic, name="feature-periodic",
                         daemon=True).start()
        threading.Thread(target=self._serve_misses, name="packet-ins", daemon=True).start()
        threading.Thread(target=self._serve_trace_copies, name="trace-copies",
                         daemon=True).start()
        if self.nat_ranges is not None:
            threading.Thread(target=self._count_nat_blocks, name="nat-blocks",
                             daemon=True).start()
        threading.Thread(target=hurry_switch, name="hurry-switch", daemon=True,
                         args=(self.switch, controller, port, lambda: self.dp is not None,
                               self._stop)).start()
        LOG.info("agent of host %s (%s) started", self.host_id, self.presence.name)
        return None

    def stop(self) -> None:
        self._stop.set()
        self.features.stop()
        self.presence.stop()
        self.local_state.wait_written(STOP_WRITES_WAIT)  # what was learned, if Redis is up
        self.local_state.close()
        super().stop()

    def _follow_topology(self) -> None:
        while not self._stop.is_set():
            try:
                if self.cache.poll(block_ms=1000):
                    self._after_changes()
                elif self.bindings.pending():
                    self._send(self._reconcile())
            except Exception:  # noqa: BLE001 - keep following; the store may come back
                LOG.warning("following the topology feed failed", exc_info=True)
                self._stop.wait(1)

    def _follow_state(self) -> None:
        """Remove flows built on MAC/ARP entries that changed or expired (on every host), and
        deliver the packets held for an ARP entry that appeared (on whichever host)."""
        changes: StateChanges | None = None
        ticks = 0
        while not self._stop.is_set():
            try:
                if changes is None:  # (re)subscribe; announcements missed meanwhile are lost
                    changes = StateChanges(self.store)
                    self.local_state.reload()  # so the MAC/ARP copies are read again
                    self._reload_nat()
                tag = changes.get(timeout=1.0)
                if changes.resubscribed():
                    self.local_state.reload()
                    self._reload_nat()
                if tag is not None:
                    self.local_state.changed(tag)
                    if self.nat_ranges is not None and self.nat_ranges.changed(tag):
                        self._send(self.handler.nat_steering())
                    self._send(self.index.invalidate([tag]))
                    self.proactive.state_changed(tag)
                    self._send(self.handler.release(tag))
                self.handler.held.expire()
                ticks += 1
                if ticks % 20 == 0:  # any agent may age entries out; each is announced once
                    self._maintain_state()
            except Exception as exc:  # noqa: BLE001 - keep following; the store may come back
                if not isinstance(exc, errors.UNAVAILABLE):  # the topology feed logs outages
                    LOG.warning("following MAC/ARP changes failed", exc_info=True)
                changes = None
                self._stop.wait(1)

    def _run_proactive(self) -> None:
        """Install the proactive flows of the ports marked (:mod:`ryu_midonet.agent.proactive`)."""
        while not self._stop.is_set():
            if not self.proactive.wait(1.0):
                continue
            try:
                messages = self.proactive.compile()
                self._send(messages)
                self._send(self.proactive.confirm(messages))
            except Exception:  # noqa: BLE001 - keep compiling; the next change retries
                LOG.warning("installing proactive flows failed", exc_info=True)

    def _run_periodic(self) -> None:
        while not self._stop.wait(PERIODIC_TICK):
            self._send(self.features.periodic())

    def _maintain_state(self) -> None:
        """Keep the connection state of live flows; age out what nobody uses any more."""
        self.state.flows.refresh(self.index.live_state())
        self.state.macs.expire()
        self.state.arps.expire()
        self.state.ip4macs.expire()
        self.state.flows.expire()
        self.state.leases.maintain(self.state.flows)
        if self.nat_ranges is not None:
            self.nat_ranges.maintain(lambda port_id: self.view.get("port", port_id) is not None)

    def _count_nat_blocks(self) -> None:
        """Every :data:`NAT_USAGE_INTERVAL`: count the tracker's connections on each NAT
        port block held here, lease the next block of an address ahead of need (and move
        the flows to it), release blocks no connection uses any more."""
        while not self._stop.wait(NAT_USAGE_INTERVAL):
            if self.nat_ranges is None or not self.nat_ranges.blocks_held():
                continue  # nothing to count
            try:
                listing = self.tracker_listing()
                if listing is not None:
                    self.nat_ranges.adjust(natusage.count(listing, self.nat_ranges.bits))
                # also when no block changed: a flow built while one did may have old ports
                self._send(self.handler.nat_blocks_changed())
            except Exception:  # noqa: BLE001 - the next round tries again
                LOG.warning("counting the NAT port blocks' connections failed", exc_info=True)

    def _reload_nat(self) -> None:
        """Read every NAT return path again; the steering flows that changed."""
        if self.nat_ranges is not None:
            self.nat_ranges.reload()
            self._send(self.handler.nat_steering())

    def _on_topology_change(self, op: str, kind: str, obj_id: str) -> None:
        self._pending_messages += self.features.topology_changed(op, kind, obj_id)
        self._pending_tags.add(obj_id)
        if self.tracing is not None:
            self._pending_tags |= self.tracing.topology_changed(kind, obj_id)
        if kind == "portGroup":
            self._pending_tags.add(PORT_GROUPS_TAG)
        # the parent also when the object was deleted (flows carry a port's device only)
        self._pending_tags.update(self.parents.changed(obj_id, self.cache.get(kind, obj_id)))

    def _on_divergence(self, found: divergence.Divergence | None) -> None:
        """Tell operators (through the store) that this host keeps its cached topology."""
        try:
            divergence.report(self.store, self.host_id, self.presence.name, found,
                              self.CONF.store_divergence_grace)
        except Exception as exc:  # noqa: BLE001 - the store may be failing again
            LOG.warning("could not report the store divergence: %s", exc)

    def _after_changes(self) -> None:
        tags, self._pending_tags = self._pending_tags, set()
        # the flows built on what changed go first, before the bindings are looked at (an
        # OVSDB round trip) and before any flow is compiled again
        self._send(list(self.index.invalidate(tags)))
        messages = self._take_pending_messages()
        messages += self._reconcile()
        if self.lb is not None:  # the VIPs' members at the local ports
            messages += self.lb.host_flows()
        if self.nat_ranges is not None:  # ports may have moved: their NAT steering with them
            messages += self.handler.nat_steering()
        self._send(messages)
        self.proactive.everything()

    def _take_pending_messages(self) -> list[Message]:
        """What features answered topology changes with since last taken."""
        messages, self._pending_messages = self._pending_messages, []
        return messages

    def _reconcile(self) -> list[Message]:
        """Plug/unplug bound interfaces; drop flows that saw those ports elsewhere or nowhere;
        the features' flows for the ports plugged and unplugged."""
        before = dict(self.bindings.ofports)
        messages = self.bindings.reconcile()
        changed = self.bindings.take_changed()
        if self.conntrack_in_datapath:  # after the bindings' own delivery flows
            self.ct_delivery.forget(changed)
            messages += self._commit_deliveries()
        messages += self.index.invalidate(changed | self.parents.of(changed))
        after = self.bindings.ofports
        for port_id, ofport in before.items():
            if after.get(port_id) != ofport:
                self.misses.forget(ofport)
                messages += self.features.port_flows(port_id, ofport, False)
        for port_id, ofport in after.items():
            if before.get(port_id) != ofport:
                messages += self.features.port_flows(port_id, ofport, True)
                self.proactive.ports_plugged([port_id])
        return messages

    def _commit_deliveries(self) -> list[Message]:
        """The committing delivery flows of the local ports that are new or changed, and
        the ct-copy flows of their scopes bound on several hosts."""
        copies = ctcopy.plan(self.view, self.host_id, self.bindings.ofports,
                             Locator(self.view, self.host_id, self.bindings.ofports,
                                     self.tunnels))
        self.seq_check.need(bool(copies))
        self.zone_timeouts.need(tr.zone_of(scope) for scope in copies)
        return [*self.ct_delivery.flows(self.bindings.ofports,
                                        lambda port_id: self.view.get("port", port_id),
                                        lambda port: scope_of(self.view, port), copies),
                *self.ct_copies.flows(copies, self.tunnels.values())]

    # -- the switch ------------------------------------------------------------------------
    @property
    def dp(self) -> Any:
        """The connected switch's datapath, or ``None``."""
        return self.sender.dp

    def _send(self, messages: list[Message]) -> None:
        """The one place that sends to the switch."""
        self.sender.send(messages)

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def switch_features(self, ev: Any) -> None:
        self.sender.dp = ev.msg.datapath
        self.index.clear()
        self.proactive.everything()
        messages: list[Message] = [SwitchConfig(), FlowDelete(0, 0), MeterDelete(),
                                   GroupDelete()]
        messages += tr.base_flows(self.tunnels.values(), self.nat_in_datapath)
        messages += self.bindings.port_flows()
        if self.lb is not None:  # load balancing in the datapath: misses, members' flows
            self.lb.reset()
            messages += [*lbflows.miss_flows(), *self.lb.host_flows()]
        if self.conntrack_in_datapath:
            self.ct_delivery.reset()
            self.ct_copies.reset()
            self.seq_check.reset()
            self.zone_timeouts.reset()
            messages += [ctl.miss_flow(), *self._commit_deliveries()]
        for port_id, ofport in list(self.bindings.ofports.items()):
            messages += self.features.port_flows(port_id, ofport, True)
        if self.nat_in_datapath:
            messages += self.handler.switch_connected()
        self._send(messages)
        LOG.info("switch %016x connected", self.dp.id)

    @set_ev_cls(ofp_event.EventOFPFlowRemoved, MAIN_DISPATCHER)
    def flow_removed(self, ev: Any) -> None:
        self.index.removed(ev.msg.cookie)
        if self.lb is not None:  # a VIP's entry flow went idle: the flows built with it
            self._send(self.lb.removed(ev.msg.cookie))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev: Any) -> None:
        """Queue the packet-in for the worker (a full queue drops it): nothing more here."""
        in_port = ev.msg.match.get("in_port")
        if (in_port is not None and self.tracing is not None
                and self.tracing.copied(ev.msg.cookie)):  # a copy from a traced flow
            self.tracing.queue_copy(in_port, ev.msg.data, ev.msg.cookie)
            return
        nat_ip = ev.msg.match.get(pl.NAT_REG)  # back from the tracker (source NAT)
        state = ev.msg.match.get("ct_state") or 0  # (value, mask) when the switch masks it
        entry = ev.msg.match.get(pl.ENTRY_REG) or 0  # steered here from another host
        zone = ev.msg.match.get("ct_zone") or 0
        egress = ev.msg.match.get(pl.EGRESS_REG) or 0  # the exit zone's answer, if asked
        meta: tuple[int, ...] | None = None if not nat_ip else (
            nat_ip, state[0] if isinstance(state, tuple) else state, entry,
            zone[0] if isinstance(zone, tuple) else zone, egress)
        if meta is None and self.conntrack_in_datapath and state:  # from the ct-lookup table
            meta = (0, state[0] if isinstance(state, tuple) else state)
        if getattr(ev.msg, "table_id", None) == pl.TABLE_LB_REPLY:  # from a VIP's member
            meta = (LB_REPLY_MISS, state[0] if isinstance(state, tuple) else state,
                    zone[0] if isinstance(zone, tuple) else zone)
        data = ev.msg.data
        spent = ev.msg.match.get(pl.TTL_REG)  # TTL decrements done (translator's docstring)
        if isinstance(spent, int) and spent and ev.msg.reason == ofproto_v1_3.OFPR_INVALID_TTL:
            data = tr.ttl_restored(data, spent)  # as it entered the flow
        if in_port is not None:
            self.misses.put(in_port, data, meta)

    def _serve_misses(self) -> None:
        logged = time.monotonic()
        while not self._stop.is_set():
            self.serve_miss(timeout=1.0)
            if time.monotonic() - logged >= DROPS_LOG_INTERVAL:
                logged = time.monotonic()
                drops = self.misses.take_drops()
                if drops:
                    LOG.warning("dropped packet-ins unhandled (OpenFlow port: count): %s",
                                drops)

    def _serve_trace_copies(self) -> None:
        """Trace the copies traced flows send (:mod:`ryu_midonet.tracing.live`); delete the
        flows through the devices of trace requests that reached their limit."""
        while not self._stop.is_set() and self.tracing is not None:
            try:
                copy = self.tracing.copies.get(timeout=1.0)
            except queue.Empty:
                copy = None
            try:
                if copy is not None:
                    self.tracing.trace_copy(self.bindings.port_at(copy.in_port),
                                            packets.parse(copy.data), copy.cookie)
                stale = self.tracing.take_stale()
                if stale:  # a request reached its limit: plain and proactive flows again
                    self._send(self.index.invalidate(stale))
                    self.proactive.everything()
                self.tracing.forget(self.index.__contains__)
            except Exception:  # noqa: BLE001 - one packet's fault must not stop the worker
                LOG.exception("tracing a traced flow's packet failed")

    def serve_miss(self, timeout: float | None = 0) -> bool:
        """Handle the next queued packet-in, if one comes within ``timeout`` seconds."""
        miss = self.misses.get(timeout)
        if miss is None:
            return False
        try:
            self.handle_miss(miss.in_port, miss.data, miss.meta)
        except Exception:  # noqa: BLE001 - one packet's fault must not stop the worker
            LOG.exception("handling a packet-in from OpenFlow port %d failed", miss.in_port)
        return True

    def handle_miss(self, in_port: int, data: bytes,
                    meta: tuple[int, ...] | None = None) -> None:
        """Claim or simulate one packet that missed the flow table, and send the outcome
        (``meta``: it came back from the connection tracker, see :class:`NatReturn`)."""
        if meta is not None and meta[0] == LB_REPLY_MISS:
            self._lb_reply_miss(in_port, data, meta[1], meta[2])
            return
        entry = meta[2] if meta is not None and len(meta) > 2 else 0
        port_id = self.bindings.port_at(in_port) if not entry else self._port_of_key(entry)
        packet = packets.parse(data)
        if port_id is None or packet is None:
            return
        tracked = meta[1] if meta is not None and not meta[0] else None  # ct-lookup's miss
        nat = None if meta is None or not meta[0] else NatReturn.of(
            meta[0], meta[1], entry, meta[3] if len(meta) > 3 else 0,
            meta[4] if len(meta) > 4 else 0)
        claimed = None if nat else self.features.packet_in(port_id, in_port, packet, data)
        if claimed is not None:
            self._send(claimed)
            return
        try:
            messages = (self.handle(port_id, in_port, packet, data, nat) if tracked is None
                        else self.handler.handle(port_id, in_port, packet, data,
                                                 tracked=tracked))
        except errors.UNAVAILABLE as exc:
            # The MAC/ARP tables and flow state live in the store: new flows wait for it.
            # Established ones are on the switch and keep flowing.
            if self.cache.connected:
                LOG.warning("store unavailable; dropping a new flow's first packet: %s", exc)
            return
        self._send(messages)

    def _lb_reply_miss(self, in_port: int, data: bytes, state: int, zone: int) -> None:
        """A packet from a VIP's member that missed the lb-reply table (:mod:`.lbfast`)."""
        port_id = self.bindings.port_at(in_port)
        packet = packets.parse(data)
        if port_id is None or packet is None or self.lb is None:
            return
        try:
            self._send(self.lb.reply_miss(
                port_id, in_port, packet, data, state, zone,
                lambda: self.handle(port_id, in_port, packet, data)))
        except errors.UNAVAILABLE as exc:
            LOG.warning("store unavailable; dropping a member's packet: %s", exc)

    def _port_of_key(self, key: int) -> str | None:
        """The exterior port whose tunnel key is ``key``."""
        ports = self.view.objects().get("port", {}).values()
        return next((str(p["id"]) for p in ports if p.get("tunnelKey") == key), None)

    def handle(self, port_id: str, in_port: int, packet: Any, data: bytes,
               nat: NatReturn | None = None) -> list[Message]:
        """Simulate one packet that missed the flow table; the messages that carry it out."""
        if nat is None:
            return self.handler.handle(port_id, in_port, packet, data)
        return self.handler.handle(port_id, in_port, packet, data, nat)
