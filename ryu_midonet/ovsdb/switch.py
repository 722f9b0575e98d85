"""The local Open vSwitch database, through ovsdbapp: integration bridge, tunnels, bound ports."""

from __future__ import annotations

import logging
import time

from ovsdbapp.backend.ovs_idl import connection
from ovsdbapp.backend.ovs_idl.transaction import Transaction
from ovsdbapp.schema.open_vswitch import impl_idl

from ryu_midonet.ovsdb.zonetimeouts import SyncZoneTimeouts, Timeouts

LOG = logging.getLogger(__name__)

TUNNEL_PORTS = {"vxlan": "tun-vxlan", "gre": "tun-gre"}
CONTROLLER_MAX_BACKOFF_MS = 1000
RECONNECT_PAUSE = 0.1  # seconds for ovs-vswitchd to drop a removed controller
IFACE_ID = "ryu-midonet-port"  # external_ids key naming the virtual port of an interface
DATAPATH_TYPE = "netdev"  # the userspace datapath of the integration bridge


class LocalSwitch:
    """The integration bridge of this host and the ports the agent manages on it."""

    def __init__(self, ovsdb: str, bridge: str = "br-int", timeout: int = 10) -> None:
        idl = connection.OvsdbIdl.from_server(ovsdb, "Open_vSwitch")
        self.api = impl_idl.OvsdbIdl(connection.Connection(idl=idl, timeout=timeout))
        self.bridge = bridge

    def ensure_bridge(self, controller: str | None = None) -> None:
        """The integration bridge, OpenFlow 1.3 only, secure fail mode, userspace datapath.

        The controller record is replaced only when its target differs; it retries a lost
        controller every second at most (``max_backoff``).
        """
        with self.api.transaction(check_error=True) as txn:
            txn.add(self.api.add_br(self.bridge, may_exist=True, datapath_type=DATAPATH_TYPE))
            txn.add(self.api.db_set("Bridge", self.bridge, ("protocols", ["OpenFlow13"]),
                                    ("fail_mode", "secure")))
        if not controller:
            return
        current = self.api.get_controller(self.bridge).execute(check_error=True)
        if list(current) != [controller]:
            self._set_controller(controller)

    def set_zone_timeouts(self, wanted: dict[int, Timeouts]) -> list[int]:
        """The connection-tracking timeout policies of the agent's zones, exactly ``wanted``
        (:mod:`.zonetimeouts`); returns the zones another owner has. The transaction does
        not wait for ovs-vswitchd to reconfigure (nor bump ``next_cfg``)."""
        command = SyncZoneTimeouts(self.api, DATAPATH_TYPE, wanted)
        with Transaction(self.api, self.api.ovsdb_connection, check_error=True) as txn:
            txn.add(command)
        result: list[int] = command.result
        return result

    def reconnect(self, controller: str) -> None:
        """Make the switch connect to ``controller`` now, whatever its back-off: the record is
        removed and, once the switch dropped it, created again (a new connection)."""
        self.api.del_controller(self.bridge).execute(check_error=True)
        time.sleep(RECONNECT_PAUSE)
        self._set_controller(controller)

    def _set_controller(self, controller: str) -> None:
        self.api.set_controller(self.bridge, [controller]).execute(check_error=True)
        self.api.db_set("Controller", self.bridge,
                        ("max_backoff", CONTROLLER_MAX_BACKOFF_MS)).execute(check_error=True)

    def ensure_tunnel(self, kind: str, udp_port: int | None = None) -> str:
        """A flow-based tunnel port (``remote_ip=flow key=flow``); returns its name.

        Encapsulated packets leave with outer TTL 255, as MidoNet's tunnels do.
        """
        name = TUNNEL_PORTS[kind]
        options = {"remote_ip": "flow", "key": "flow", "ttl": "255"}
        if kind == "vxlan" and udp_port:
            options["dst_port"] = str(udp_port)
        with self.api.transaction(check_error=True) as txn:
            txn.add(self.api.add_port(self.bridge, name, may_exist=True))
            txn.add(self.api.db_set("Interface", name, ("type", kind), ("options", options)))
        return name

    def plug(self, iface: str, port_id: str) -> None:
        """Add a bound interface to the integration bridge, tagged with its virtual port."""
        with self.api.transaction(check_error=True) as txn:
            txn.add(self.api.add_port(self.bridge, iface, may_exist=True))
            txn.add(self.api.db_set("Interface", iface, ("external_ids", {IFACE_ID: port_id})))

    def unplug(self, iface: str) -> None:
        self.api.del_port(iface, bridge=self.bridge, if_exists=True).execute(check_error=True)

    def plugged(self) -> dict[str, str]:
        """Interfaces on the bridge that carry a virtual port id: name -> port id."""
        out = {}
        for row in self.api.db_find("Interface", columns=["name", "external_ids"]).execute(
                check_error=True):
            port_id = row["external_ids"].get(IFACE_ID)
            if port_id:
                out[row["name"]] = port_id
        return out

    def ofport(self, iface: str, wait: float = 5.0) -> int | None:
        """The OpenFlow port number of an interface, once vswitchd assigned one."""
        deadline = time.monotonic() + wait
        while True:
            value = self.api.db_get("Interface", iface, "ofport").execute(check_error=False)
            if isinstance(value, list):
                value = value[0] if value else None
            if isinstance(value, int) and value > 0:
                return value
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)
