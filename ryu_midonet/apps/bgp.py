"""BGP uplinks: one FRR bgpd per bound router port that has BGP peers.

``ryu-midonet-manager ... ryu_midonet.apps.agent ryu_midonet.apps.bgp``

- When a port of a router with an AS number is plugged on this host and one of the
  router's BGP peers sits in its subnet, a namespace (:mod:`ryu_midonet.bgp.netns`) gets the
  port's MAC and address on a veth into the integration bridge, bgpd runs in it
  (:mod:`ryu_midonet.bgp.bgpd`) with the configuration of :mod:`ryu_midonet.bgp.config`, and
  the flows of :mod:`ryu_midonet.bgp.wire` carry BGP and ARP between the port and it. An
  agent started after one that was killed takes over the namespace and the bgpd it left
  (their sessions stay up) when bgpd runs the wanted configuration, else starts it anew.
- A change of the router, its peers or networks, or the port is applied to the running bgpd
  without touching unaffected sessions (a new AS or address restarts it); a dead bgpd is
  started again; an unplugged port, or one left without peers, loses bgpd, namespace and
  flows.
- Every :data:`POLL` seconds the best paths bgpd learned become routes of the router
  (``learned: true``, the peer as gateway, the port as next hop), and those no longer
  learned (withdrawn, session down, bgpd dead) are deleted. Each peer's session state and
  the number of routes it gave are written to the peer's ``status``.
- The host of each uplink holds its speaker lease (:mod:`ryu_midonet.bgp.liveness`); the
  routes learned by uplinks whose lease ran out (their host died) are deleted by whichever
  hosts see it first.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from os_ken.base import app_manager

from ryu_midonet import config as rm_config
from ryu_midonet.agent import features
from ryu_midonet.bgp import bgpd, config, liveness, netns, rib, routes, wire
from ryu_midonet.datapath.flows import Message
from ryu_midonet.nsdb.topology import Topology

LOG = logging.getLogger(__name__)

POLL = 2.0
WATCHED = frozenset({"router", "port", "bgpPeer", "bgpNetwork"})


@dataclass
class Uplink:
    """A local router port with its bgpd."""

    port_id: str
    router_id: str
    tunnel_key: int
    ofport: int
    service: int  # the OpenFlow port of the namespace's interface
    where: tuple[str, str, int]  # MAC, address, length the namespace was set up with
    ns: netns.Namespace
    daemon: bgpd.Bgpd


class BgpService(features.FeatureBase):
    """The bgpds of one host's uplinks."""

    name = "bgp"
    interval = POLL

    def __init__(self, prefix: str = "rm-", run_dir: Path = Path("/run/ryu-midonet/bgp"),
                 bridge: str = "br-int", ovsdb: str | None = None) -> None:
        self.prefix = prefix
        self.run_dir = run_dir
        self.bridge = bridge
        self.ovsdb = ovsdb
        self.agent: features.AgentContext | None = None
        self.topo: Topology | None = None
        self._ofports: dict[str, int] = {}  # local ports: id -> OpenFlow port
        self.uplinks: dict[str, Uplink] = {}
        self._status: dict[str, dict[str, Any]] = {}  # peer id -> status last written
        self._books: dict[tuple[str, str], routes.Book] = {}  # learned routes, by uplink
        self._readers: dict[str, rib.Reader] = {}  # each uplink's bgpd's RIB, by port
        self._lock = threading.RLock()
        self._renewer: liveness.Renewer | None = None
        self._reaper: liveness.Reaper | None = None
        self._learners: set[str] | None = None  # next-hop ports of learned routes

    def start(self, agent: features.AgentContext) -> None:
        self.agent = agent
        self.topo = Topology(agent.store)
        leases = liveness.Leases(agent.store)
        self._renewer = liveness.Renewer(leases, agent.host_id)
        self._renewer.start()
        self._reaper = liveness.Reaper(leases, self._foreign_learners, self._reap)
        self._reaper.start()

    def stop(self) -> None:
        with self._lock:
            for port_id in list(self.uplinks):
                self._drop(port_id)
        for thread in (self._renewer, self._reaper):
            if thread is not None:
                thread.stop()

    def port_flows(self, port_id: str, ofport: int, plugged: bool) -> list[Message]:
        with self._lock:
            if not plugged:
                self._ofports.pop(port_id, None)
                return self._drop(port_id)
            self._ofports[port_id] = ofport
            uplink = self.uplinks.get(port_id)
            if uplink is not None and uplink.ofport != ofport:
                self._drop(port_id)
            return self._ensure(port_id, replug=True)

    def topology_changed(self, op: str, kind: str, obj_id: str) -> list[Message]:
        if kind == "route":
            self._learners = None
        if kind not in WATCHED:
            return []
        with self._lock:
            messages: list[Message] = []
            for port_id in list(self._ofports):
                messages += self._ensure(port_id)
            return messages

    def periodic(self) -> list[Message]:
        self._learners = None  # also after a resynchronisation, which names no route
        with self._lock:
            for uplink in list(self.uplinks.values()):
                try:
                    self._poll(uplink)
                except Exception:  # noqa: BLE001 - one uplink's fault spares the others
                    LOG.exception("BGP poll of port %s failed", uplink.port_id)
        return []

    # -- routes of dead hosts --------------------------------------------------------------

    def _foreign_learners(self) -> list[str]:
        """The ports, not bound here, that are next hops of learned routes (the routes are
        scanned again only after a route changed)."""
        assert self.agent is not None
        if self._learners is None:
            routes_ = list(self.agent.view.all_of("route").values())
            self._learners = {str(r["nextHopPort"]) for r in routes_
                              if r.get("learned") and r.get("nextHopPort")}
        mine = set(self._ofports) | set(self.uplinks)
        return sorted(p for p in self._learners if p not in mine)

    def _reap(self, orphans: list[str]) -> None:
        assert self.agent is not None
        for port_id in orphans:
            port = self.agent.view.get("port", port_id)
            if port is None:
                continue
            LOG.warning("the speaker of port %s is gone: deleting its learned routes",
                        port_id)
            try:
                routes.Book(self.agent.store, str(port.get("deviceId")), port_id).sync([])
            except Exception as exc:  # noqa: BLE001 - the next poll tries again
                LOG.warning("learned routes of port %s not deleted: %s", port_id, exc)

    # -- one port ----------------------------------------------------------------------

    def _speaker(self, port_id: str) -> tuple[config.Speaker, dict[str, Any]] | None:
        assert self.agent is not None
        view = self.agent.view
        port = view.get("port", port_id)
        if port is None or port.get("type") != "Router":
            return None
        router = view.get("router", port.get("deviceId"))
        if router is None:
            return None
        rid = router["id"]
        peers = [p for p in view.all_of("bgpPeer").values() if p.get("routerId") == rid]
        nets = [n for n in view.all_of("bgpNetwork").values() if n.get("routerId") == rid]
        spk = config.speaker(router, port, peers, nets)
        return None if spk is None else (spk, port)

    def _ensure(self, port_id: str, replug: bool = False) -> list[Message]:
        if self.agent is None:
            return []
        found = self._speaker(port_id)
        uplink = self.uplinks.get(port_id)
        if found is None:
            return self._drop(port_id)
        spk, port = found
        key = port.get("tunnelKey")
        iface = config.port_network(port)
        if not isinstance(key, int) or key <= 0 or iface is None:
            return self._drop(port_id)
        where = (str(port.get("portMac")), str(iface.ip), iface.network.prefixlen)
        if uplink is not None and uplink.where == where:
            uplink.daemon.apply(spk)
            self._hold(port_id, spk)
            return [wire.delete(key), *self._flows(uplink)] if replug else []
        if uplink is not None:
            self._drop(port_id)
        names = netns.names(self.prefix, port_id)
        ns = netns.Namespace(names, self.bridge, self.ovsdb)
        daemon = bgpd.Bgpd(names.netns, self.run_dir / names.netns)
        # a bgpd an agent that died left running keeps its namespace alive: take both over
        service = ns.setup(*where, holder=daemon.leftover())
        if service is None:
            LOG.warning("BGP namespace %s for port %s could not be set up", names.netns,
                        port_id)
            daemon.stop_stale()
            ns.remove()
            return []
        uplink = Uplink(port_id, str(port["deviceId"]), key, self._ofports[port_id], service,
                        where, ns, daemon)
        self.uplinks[port_id] = uplink
        self._hold(port_id, spk)
        try:
            if not daemon.adopt(spk):
                daemon.start(spk)
        except OSError as exc:  # the next poll tries again
            LOG.warning("bgpd for port %s did not start: %s", port_id, exc)
        return [wire.delete(key), *self._flows(uplink)]

    def _hold(self, port_id: str, spk: config.Speaker) -> None:
        if self._renewer is not None:
            self._renewer.hold(port_id, liveness.lease_seconds(spk.peers))

    def _flows(self, uplink: Uplink) -> list[Message]:
        return wire.flows(uplink.tunnel_key, uplink.ofport, uplink.service, uplink.where[1])

    def _drop(self, port_id: str) -> list[Message]:
        uplink = self.uplinks.pop(port_id, None)
        if uplink is None:
            return []
        uplink.daemon.stop()
        uplink.ns.remove()
        self._sync_routes(uplink, [])
        if self._renewer is not None:
            self._renewer.give(port_id)
        LOG.info("BGP of port %s stopped", port_id)
        return [wire.delete(uplink.tunnel_key)]

    def _poll(self, uplink: Uplink) -> None:
        if not uplink.daemon.alive():
            LOG.warning("bgpd of port %s is not running; starting it again", uplink.port_id)
            self._sync_routes(uplink, [])
            found = self._speaker(uplink.port_id)
            if found is not None:
                down = {peer.address: rib.Session("Idle", 0) for peer in found[0].peers}
                self._write_status(uplink, down, [])
                uplink.daemon.start(found[0])
            return
        reader = self._readers.setdefault(uplink.port_id, rib.Reader())
        sessions, learned = reader.read(uplink.daemon.vtysh,
                                        (id(uplink.daemon), uplink.daemon.pid))
        up = {a for a, s in sessions.items() if s.state == rib.ESTABLISHED}
        learned = [r for r in learned if r.next_hop in up]
        self._sync_routes(uplink, learned)
        self._write_status(uplink, sessions, learned)

    def _sync_routes(self, uplink: Uplink, learned: list[rib.Learned]) -> None:
        assert self.agent is not None
        key = (uplink.router_id, uplink.port_id)
        book = self._books.get(key)
        if book is None:
            book = self._books[key] = routes.Book(self.agent.store, *key)
        try:
            book.sync(learned)
        except Exception as exc:  # noqa: BLE001 - the store is down: the next poll tries again
            LOG.warning("learned routes of port %s not written: %s", uplink.port_id, exc)
            return
        if uplink.port_id not in self.uplinks:
            self._books.pop(key, None)

    def _write_status(self, uplink: Uplink, sessions: dict[str, rib.Session],
                      learned: list[rib.Learned]) -> None:
        assert self.agent is not None
        counts: dict[str, int] = {}
        for route in learned:
            counts[route.next_hop] = counts.get(route.next_hop, 0) + 1
        for peer in self._list_by("bgpPeer", uplink.router_id) or []:
            session = sessions.get(str(peer.get("address")))
            if session is None:
                continue
            status = {"state": session.state,
                      "learnedRoutes": counts.get(str(peer["address"]), 0)}
            if peer.get("status") == status and self._status.get(peer["id"]) == status:
                continue
            self._status[peer["id"]] = status
            self._put_status(peer["id"], status)

    def _list_by(self, kind: str, router_id: str) -> list[dict[str, Any]] | None:
        """The router's objects of ``kind`` as stored, ``None`` when the store fails."""
        assert self.agent is not None
        try:
            found: list[dict[str, Any]] = self.agent.store.read(
                lambda txn: txn.list_by(kind, "routerId", router_id))
        except Exception as exc:  # noqa: BLE001 - the next poll tries again
            LOG.debug("%s of router %s not read: %s", kind, router_id, exc)
            return None
        return found

    def _put_status(self, peer_id: str, status: dict[str, Any]) -> None:
        assert self.agent is not None

        def work(txn: Any) -> None:
            obj = txn.get("bgpPeer", peer_id)
            if obj is not None:
                obj["status"] = status
                txn.put("bgpPeer", obj)

        try:
            self.agent.store.transaction(work)
        except Exception as exc:  # noqa: BLE001 - the next poll tries again
            LOG.debug("status of BGP peer %s not written: %s", peer_id, exc)
            self._status.pop(peer_id, None)


class BgpApp(app_manager.OSKenApp):
    """Registers :class:`BgpService` with the agent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        conf = rm_config.CONF
        self.feature = BgpService(conf.bgp_netns_prefix, Path(conf.bgp_run_dir),
                                  conf.integration_bridge, conf.ovsdb_connection)
        features.register(self.feature)
