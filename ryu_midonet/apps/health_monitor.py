"""Health monitoring of load-balancer pools: one elected agent probes each monitored pool.

``ryu-midonet-manager ... ryu_midonet.apps.agent ryu_midonet.apps.health_monitor``

- Every agent that runs this app stands in the election of every monitored pool (a pool with
  an admin-up health monitor, of a load balancer attached to a router); the winner
  (:mod:`ryu_midonet.healthmon.election`) runs the pool's monitor, and another agent takes
  over within a few seconds when it dies.
- The winner wires a namespace to the load balancer's router (:mod:`~ryu_midonet.healthmon.wiring`)
  and probes the members from it by TCP connects every ``delay`` seconds, waiting ``timeout``
  seconds (:mod:`~ryu_midonet.healthmon.prober`); a member turns INACTIVE after
  ``maxRetries`` failures in a row and ACTIVE after one success, written to the store
  (:mod:`~ryu_midonet.healthmon.status`) where the API shows it and the load balancer reads it.
- A pool that loses its monitor (detached, admin-down, deleted) is no longer probed: its
  prober stops, its namespace and router port go, and its members are ACTIVE. An agent that
  loses the election stops probing and removes its namespace.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from os_ken.base import app_manager

from ryu_midonet import config as rm_config
from ryu_midonet.agent import features
from ryu_midonet.datapath.flows import Message
from ryu_midonet.healthmon import election, pools, prober, status, wiring
from ryu_midonet.healthmon.probes import ACTIVE
from ryu_midonet.nsdb.topology import Topology

LOG = logging.getLogger(__name__)

POLL = 1.0


@dataclass
class Running:
    """A pool this host probes."""

    router_id: str
    wiring: wiring.Wiring
    prober: prober.Prober


class HealthMonitorService(features.FeatureBase):
    """The health monitors this host runs."""

    name = "health-monitor"
    interval = POLL

    def __init__(self, prefix: str = "rm-", bridge: str = "br-int",
                 ovsdb: str | None = None) -> None:
        self.prefix = prefix
        self.bridge = bridge
        self.ovsdb = ovsdb
        self.agent: features.AgentContext | None = None
        self.topo: Topology | None = None
        self.election: election.Election | None = None
        self.running: dict[str, Running] = {}
        self._lock = threading.RLock()

    def start(self, agent: features.AgentContext) -> None:
        self.agent = agent
        self.topo = Topology(agent.store)
        self.election = election.Election(election.RedisLeases(agent.store), agent.host_id)

    def stop(self) -> None:
        with self._lock:
            for pool_id in list(self.running):
                self._drop(pool_id)
                if self.election is not None:
                    self.election.give(pool_id)

    def periodic(self) -> list[Message]:
        if self.agent is None or self.election is None:
            return []
        with self._lock:
            view = self.agent.view
            watched = pools.monitored(view)
            for pool_id, settings in watched.items():
                try:
                    if self.election.hold(pool_id):
                        self._ensure(settings)
                    else:
                        self._drop(pool_id)
                except Exception:  # noqa: BLE001 - one pool's fault spares the others
                    LOG.exception("health monitor of pool %s failed", pool_id)
            for pool_id in [p for p in self.running if p not in watched]:
                self._retire(pool_id)
            self._reset_unmonitored(view, watched)
            self._sweep(watched)
        return []

    # -- one pool ----------------------------------------------------------------------

    def _ensure(self, settings: pools.Monitored) -> None:
        assert self.agent is not None and self.topo is not None
        run = self.running.get(settings.pool_id)
        if run is not None and run.router_id != settings.router_id:
            self._drop(settings.pool_id)
            run = None
        if run is not None:
            run.prober.update(settings)
            port = self.agent.view.get("port", wiring.port_id(settings.pool_id))
            if port is None or port.get("hostId") != self.agent.host_id:
                run.wiring.up()  # lost or taken: wire it again
            return
        wire = wiring.Wiring(self.topo, self.agent.host_id, self.prefix, settings.pool_id,
                             settings.router_id, self.bridge, self.ovsdb)
        if not wire.up():
            return  # the next poll tries again
        pool_id = settings.pool_id

        def write(changes: Mapping[str, str]) -> bool:
            if self.election is None or not self.election.held(pool_id):
                return True  # no longer ours: the new prober decides
            return status.write(self.agent.store if self.agent else None, pool_id, changes)

        probe = prober.Prober(settings, write, wire.names.netns)
        self.running[pool_id] = Running(settings.router_id, wire, probe)
        probe.start()
        LOG.info("probing pool %s (%d members) every %.0f s", pool_id,
                 len(settings.targets), settings.delay)

    def _drop(self, pool_id: str) -> None:
        """Stop probing ``pool_id`` here and remove its namespace."""
        run = self.running.pop(pool_id, None)
        if run is None:
            return
        run.prober.stop()
        run.wiring.down()
        LOG.info("no longer probing pool %s", pool_id)

    def _retire(self, pool_id: str) -> None:
        """``pool_id`` lost its monitor: stop, remove its port, give the lease up."""
        assert self.topo is not None and self.election is not None
        run = self.running.pop(pool_id, None)
        if run is not None:
            run.prober.stop()
            wiring.remove_port(self.topo, pool_id)
            run.wiring.down()
            LOG.info("pool %s is no longer monitored", pool_id)
        self.election.give(pool_id)

    def _reset_unmonitored(self, view: Any, watched: Mapping[str, pools.Monitored]) -> None:
        assert self.agent is not None
        stale: set[str] = set()
        for member in view.all_of("poolMember").values():
            if member.get("status", ACTIVE) != ACTIVE:
                stale.add(str(member.get("poolId")))
        for pool_id, pool in view.all_of("pool").items():
            if pool.get("status", ACTIVE) != ACTIVE:
                stale.add(pool_id)
        for pool_id in stale - set(watched):
            if view.get("pool", pool_id) is not None:
                status.reset(self.agent.store, pool_id)

    def _sweep(self, watched: Mapping[str, pools.Monitored]) -> None:
        """Remove the router ports of pools no longer monitored whose prober is gone."""
        assert self.topo is not None and self.election is not None
        for pool_id in wiring.registered(self.topo) - set(watched):
            if self.election.hold(pool_id):
                wiring.remove_port(self.topo, pool_id)
                self.election.give(pool_id)


class HealthMonitorApp(app_manager.OSKenApp):
    """Registers :class:`HealthMonitorService` with the agent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        conf = rm_config.CONF
        self.feature = HealthMonitorService(conf.health_monitor_netns_prefix,
                                            conf.integration_bridge, conf.ovsdb_connection)
        features.register(self.feature)
