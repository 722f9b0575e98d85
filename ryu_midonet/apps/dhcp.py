"""DHCP answered by the agent of the VM's host.

``ryu-midonet-manager ... ryu_midonet.apps.agent ryu_midonet.apps.dhcp``

- Every local port gets a flow sending its DHCP client messages (UDP 68 -> 67) to the agent,
  through the port's miss meter when misses are rate-limited, above every other flow.
- A client message from a port of a bridge with an enabled DHCP subnet is answered from the
  topology (:mod:`ryu_midonet.sim.devices.dhcp`: OFFER, ACK or NAK, or nothing for a MAC
  without a host entry) by a packet-out on that port, and goes nowhere else: it never leaves
  the host and never reaches another VM, answered or not.
- On a bridge without an enabled subnet, DHCP is simulated like any packet (a DHCP server
  of the tenant's own on the bridge still gets it).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from os_ken.base import app_manager

from ryu_midonet.agent import features
from ryu_midonet.datapath import dhcpwire
from ryu_midonet.datapath.flows import Message, PacketOut, output
from ryu_midonet.sim.core.model import IP_UDP, Packet
from ryu_midonet.sim.devices import dhcp

LOG = logging.getLogger(__name__)


class DhcpService(features.FeatureBase):
    """The DHCP server of one host's ports."""

    name = "dhcp"

    def __init__(self) -> None:
        self.agent: features.AgentContext | None = None
        self._keys: dict[str, int] = {}  # port id -> tunnel key, of the ports with a flow
        self._lock = threading.Lock()

    def start(self, agent: features.AgentContext) -> None:
        self.agent = agent

    def port_flows(self, port_id: str, ofport: int, plugged: bool) -> list[Message]:
        if self.agent is None:
            return []
        with self._lock:
            if not plugged:
                key = self._keys.pop(port_id, None)
                return [] if key is None else [dhcpwire.punt_delete(key)]
            port = self.agent.view.get("port", port_id)
            key = port.get("tunnelKey") if port is not None else None
            if not isinstance(key, int) or key <= 0:
                return []
            self._keys[port_id] = key
        return [dhcpwire.punt_flow(ofport, key, self.agent.miss_meters)]

    def packet_in(self, port_id: str, in_port: int, packet: Packet, data: bytes
                  ) -> list[Message] | None:
        if self.agent is None or not is_dhcp_request(packet):
            return None
        port = self.agent.view.get("port", port_id)
        bridge_id = port.get("deviceId") if port is not None else None
        if port is None or port.get("type") != "Bridge" or not bridge_id:
            return None
        if not dhcp.of_bridge(self.agent.view, bridge_id).serving:
            return None
        received = dhcpwire.parse(data)
        answer = None if received is None else dhcp.answer(self.agent.view, bridge_id,
                                                            received.request)
        if received is None or answer is None:
            LOG.debug("DHCP from port %s not answered", port_id)
            return []
        return [PacketOut(dhcpwire.build(answer, received), (output(in_port),))]


def is_dhcp_request(packet: Packet) -> bool:
    """A DHCP client's message (by its UDP ports)."""
    return (packet.ip_proto == IP_UDP and packet.udp_src == dhcpwire.CLIENT_PORT
            and packet.udp_dst == dhcpwire.SERVER_PORT)


class DhcpApp(app_manager.OSKenApp):
    """Registers :class:`DhcpService` with the agent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.feature = DhcpService()
        features.register(self.feature)
