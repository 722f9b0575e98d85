"""Bound ports on this host: plugged into the integration bridge, with their flows."""

from __future__ import annotations

import logging
from pathlib import Path

from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.flows import Message
from ryu_midonet.nsdb.cache import TopologyCache
from ryu_midonet.ovsdb.switch import LocalSwitch

LOG = logging.getLogger(__name__)


class Bindings:
    """Makes the switch hold exactly the interfaces bound to virtual ports on this host.

    A binding whose interface does not exist (yet) is retried on every :meth:`reconcile`.
    With ``miss``, each plugged port's misses reach the agent through a meter of its own.
    """

    def __init__(self, cache: TopologyCache, switch: LocalSwitch, host_id: str,
                 miss: tr.MissLimit | None = None) -> None:
        self.cache = cache
        self.switch = switch
        self.host_id = host_id
        self.miss = miss
        self.ofports: dict[str, int] = {}  # virtual port id -> OpenFlow port
        self.ifaces: dict[str, str] = {}  # virtual port id -> interface name
        self.keys: dict[str, int] = {}  # virtual port id -> tunnel key
        self.changed: set[str] = set()  # ports plugged or unplugged since last asked

    def port_at(self, ofport: int) -> str | None:
        for port_id, number in self.ofports.items():
            if number == ofport:
                return port_id
        return None

    def desired(self) -> dict[str, str]:
        return {port["id"]: port["interfaceName"]
                for port in self.cache.objects.get("port", {}).values()
                if port.get("hostId") == self.host_id and port.get("interfaceName")}

    def reconcile(self) -> list[Message]:
        """Plug and unplug interfaces to match the bindings; the flow changes that follow."""
        want = self.desired()
        messages: list[Message] = []
        for iface, port_id in self.switch.plugged().items():
            if want.get(port_id) != iface:
                LOG.info("unplugging %s (port %s)", iface, port_id)
                self.switch.unplug(iface)
                messages += self._forget(port_id)
        for port_id in list(self.ofports):
            if want.get(port_id) != self.ifaces.get(port_id):
                messages += self._forget(port_id)
        for port_id, iface in want.items():
            if port_id in self.ofports:
                continue
            if not Path(f"/sys/class/net/{iface}").exists():
                continue  # not created yet (VM not started): retried later
            self.switch.plug(iface, port_id)
            ofport = self.switch.ofport(iface)
            if ofport is None:
                LOG.warning("interface %s got no OpenFlow port", iface)
                continue
            key = self.cache.objects["port"][port_id]["tunnelKey"]
            self.ofports[port_id], self.ifaces[port_id], self.keys[port_id] = ofport, iface, key
            LOG.info("plugged %s as OpenFlow port %d for port %s", iface, ofport, port_id)
            self.changed.add(port_id)
            messages += tr.port_flows(ofport, key, self.miss)
        return messages

    def pending(self) -> bool:
        """Whether some binding still waits for its interface."""
        return set(self.desired()) != set(self.ofports)

    def port_flows(self) -> list[Message]:
        flows: list[Message] = []
        for port_id, ofport in self.ofports.items():
            flows += tr.port_flows(ofport, self.keys[port_id], self.miss)
        return flows

    def take_changed(self) -> set[str]:
        """Ports whose location on this host changed: flows built on them must go."""
        changed, self.changed = self.changed, set()
        return changed

    def _forget(self, port_id: str) -> list[Message]:
        self.changed.add(port_id)
        key = self.keys.pop(port_id, None)
        self.ofports.pop(port_id, None)
        self.ifaces.pop(port_id, None)
        if key is None:
            return []
        return tr.port_deletes(key)
