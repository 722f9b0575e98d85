"""The VXLAN gateway's control plane: hardware VTEPs programmed through their OVSDB.

``ryu-midonet-manager ... ryu_midonet.apps.agent ryu_midonet.apps.vtep``

- Every agent that runs this app stands in the election of every VTEP
  (:mod:`ryu_midonet.healthmon.election`, leases ``vteplease:<vtep id>``); the one that holds
  a VTEP's lease owns it (the log reads ``this host now runs the VTEP <id>``), and another
  takes over within a few seconds when it dies.
- The owner connects to the switch's ``hardware_vtep`` database
  (:mod:`ryu_midonet.vtep.connection`) and writes what the switch says of itself into the
  VTEP (name, description, tunnel IPs, physical ports) with its ``connectionState``:
  CONNECTED, DISCONNECTED (unreachable; the connection is retried), ERROR (reached, but no
  ``hardware_vtep`` database or no ``Physical_Switch`` in it: not a VTEP).
- It is the L2 control plane both ways: the MACs the switch learned on bound ports
  (``Ucast_Macs_Local``) are static entries of the bridge's MAC table behind the bridge's
  VXLAN port; and the switch gets one logical switch per bound bridge with the bridge's VNI,
  the VLAN bindings, a remote MAC for each MAC of the bridge behind a host of the VTEP's
  tunnel zone at that host's address, and unknown destinations at the flooding proxy
  (:mod:`ryu_midonet.vtep.proxy`) -- all rewritten every poll, so a switch whose database
  restarted gets everything back at the first poll after it reconnects.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from os_ken.base import app_manager

from ryu_midonet.agent import features
from ryu_midonet.healthmon import election
from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.statestore.tables import RedisMacTable
from ryu_midonet.types import Obj
from ryu_midonet.vtep import desired, proxy
from ryu_midonet.vtep.connection import VtepConnection

LOG = logging.getLogger(__name__)

POLL = 1.0
LEASE_FAMILY = "vteplease"


class VtepService(features.FeatureBase):
    """The VTEPs this host owns, synchronised every :data:`POLL` seconds by a thread."""

    name = "vtep"

    def __init__(self, poll: float = POLL) -> None:
        self.poll = poll
        self.topo: Topology | None = None
        self.macs: RedisMacTable | None = None
        self.election: election.Election | None = None
        self.conns: dict[str, VtepConnection] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, agent: features.AgentContext) -> None:
        self.topo = Topology(agent.store)
        self.macs = RedisMacTable(agent.store)
        self.election = election.Election(
            election.RedisLeases(agent.store, LEASE_FAMILY), agent.host_id, what="the VTEP")
        self._thread = threading.Thread(target=self._run, name="vtep-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for vtep_id in list(self.conns):
            self._drop(vtep_id)
            if self.election is not None:
                self.election.give(vtep_id)

    def _run(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.round()
            except errors.UNAVAILABLE as exc:
                LOG.debug("VTEP round skipped: %s", exc)
            except Exception:  # noqa: BLE001 - the next round tries again
                LOG.exception("VTEP round failed")

    def round(self) -> None:
        """One poll: stand in every VTEP's election and synchronise those this host owns."""
        assert self.topo is not None and self.election is not None
        vteps = {v["id"]: v for v in self.topo.list("vtep")}
        for vtep_id, vtep in vteps.items():
            if self.election.hold(vtep_id):
                try:
                    self._sync(vtep)
                except Exception:  # noqa: BLE001 - one VTEP's fault spares the others
                    LOG.exception("VTEP %s not synchronised", vtep_id)
            else:
                self._drop(vtep_id)
        for vtep_id in [v for v in self.conns if v not in vteps]:
            self._drop(vtep_id)
            self.election.give(vtep_id)

    # -- one VTEP ------------------------------------------------------------------------

    def _state(self, vtep: Obj, **state: Any) -> None:
        assert self.topo is not None
        self.topo.set_vtep_switch_state(vtep["id"], **state)

    def _connection(self, vtep: Obj) -> VtepConnection | None:
        conn = self.conns.get(vtep["id"])
        target = (vtep["managementIp"], vtep["managementPort"])
        if conn is not None and conn.target != f"tcp:{target[0]}:{target[1]}":
            self._drop(vtep["id"])
            conn = None
        if conn is None:
            try:
                conn = VtepConnection(*target)
            except OSError as exc:  # unreachable, refused
                LOG.warning("VTEP %s at %s:%s cannot be reached: %s", vtep["id"], *target, exc)
                self._state(vtep, connectionState="DISCONNECTED")
                return None
            except Exception as exc:  # noqa: BLE001 - reached, but no hardware_vtep database
                LOG.warning("VTEP %s at %s:%s is not a VTEP: %s", vtep["id"], *target, exc)
                self._state(vtep, connectionState="ERROR")
                return None
            self.conns[vtep["id"]] = conn
            LOG.info("connected to VTEP %s at %s:%s", vtep["id"], *target)
        return conn

    def _sync(self, vtep: Obj) -> None:
        assert self.topo is not None and self.macs is not None
        conn = self._connection(vtep)
        if conn is None:
            return
        if not conn.connected():
            self._state(vtep, connectionState="DISCONNECTED")
            return
        switch, local = conn.read()
        if switch is None:
            self._state(vtep, connectionState="ERROR")
            return
        self._state(vtep, name=switch.name, description=switch.description or None,
                    tunnelIpAddrs=switch.tunnel_ips, physicalPorts=switch.ports,
                    connectionState="CONNECTED")
        ports = {p["id"]: p for p in self.topo.list("port")}
        self._learn(vtep, ports, local)
        zone = self.topo.store.get("tunnelZone", vtep["tunnelZoneId"])
        addresses = desired.zone_addresses(zone)
        proxy_host = self._proxy(vtep["id"], addresses)
        wanted = desired.compute(vtep, ports, addresses, self.macs.listing,
                                 addresses.get(proxy_host or ""))
        conn.apply(wanted)

    def _proxy(self, vtep_id: str, addresses: dict[str, str]) -> str | None:
        assert self.topo is not None
        weights: dict[str, int] = {}
        for host_id in addresses:
            host = self.topo.store.get("host", host_id)
            if host is not None and self.topo.is_alive(host_id):
                weights[host_id] = int(host.get("floodingProxyWeight", 1))
        return proxy.elect(vtep_id, weights)

    def _learn(self, vtep: Obj, ports: dict[str, Obj], local: dict[str, set[str]]) -> None:
        """The switch's local MACs as static MAC table entries behind the VXLAN port."""
        assert self.macs is not None
        for port in ports.values():
            if port.get("vtepId") != vtep["id"]:
                continue
            bridge_id = port["deviceId"]
            learned = local.get(desired.switch_name(bridge_id), set())
            for mac, vlan, port_id, static in self.macs.listing(bridge_id):
                if static and port_id == port["id"] and vlan is None and mac.lower() not in learned:
                    self.macs.forget(bridge_id, mac, None)
            for mac in sorted(learned):
                if self.macs.get(bridge_id, mac, None) != port["id"]:
                    self.macs.add_static(bridge_id, mac, None, port["id"])

    def _drop(self, vtep_id: str) -> None:
        conn = self.conns.pop(vtep_id, None)
        if conn is not None:
            conn.close()
            LOG.info("no longer connected to VTEP %s", vtep_id)


class VtepApp(app_manager.OSKenApp):  # type: ignore[misc]
    """Registers :class:`VtepService` with the agent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.feature = VtepService()
        features.register(self.feature)
