"""Service insertion's control plane: the link state of service ports, for fail-open.

``ryu-midonet-manager ... ryu_midonet.apps.agent ryu_midonet.apps.service_insertion``

The packet semantics are the simulator's (:mod:`ryu_midonet.sim.devices.l2insertion`); this
app reports, for every service port bound on this host, whether its interface's link is up,
as the port's ``linkUp`` field in the topology store. A change reaches every agent through
the change feed, and the flows that depended on the port are replaced: an insertion whose
service port went down is skipped (fail-open) or drops (fail-closed) at every ingress host,
and used again once the link is back. Only links are watched, as MidoNet did: no probing.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from os_ken.base import app_manager

from ryu_midonet.agent import features
from ryu_midonet.datapath.flows import Message
from ryu_midonet.sim.devices import l2insertion

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

LOG = logging.getLogger(__name__)
SYS_NET = Path("/sys/class/net")
UP_STATES = ("up", "unknown")  # unknown: a device that reports no operational state


def link_up(interface: str, sys_net: Path = SYS_NET) -> bool:
    """Whether ``interface`` exists and its link is operationally up."""
    try:
        state = (sys_net / interface / "operstate").read_text().strip()
    except OSError:
        return False
    return state in UP_STATES


class ServiceLinks(features.FeatureBase):
    """Reports the link state of this host's service ports."""

    name = "service_insertion"
    interval = 0.5

    def __init__(self, sys_net: Path = SYS_NET) -> None:
        self.agent: features.AgentContext | None = None
        self.sys_net = sys_net

    def start(self, agent: features.AgentContext) -> None:
        self.agent = agent

    def periodic(self) -> list[Message]:
        agent = self.agent
        if agent is None:
            return []
        served = l2insertion.index(agent.view).by_srv
        for port_id in list(agent.ofports):
            port = agent.view.get("port", port_id)
            if port_id not in served or port is None or not port.get("interfaceName"):
                continue
            up = link_up(str(port["interfaceName"]), self.sys_net)
            if port.get("linkUp") is not up:
                self._report(agent, port_id, up)
        return []

    @staticmethod
    def _report(agent: features.AgentContext, port_id: str, up: bool) -> None:
        def work(txn: Txn) -> None:
            port = txn.get("port", port_id)
            if port is not None and port.get("linkUp") is not up:
                port["linkUp"] = up
                txn.put("port", port)

        try:
            agent.store.transaction(work, system=True)
            LOG.info("service port %s: link %s", port_id, "up" if up else "down")
        except Exception:  # noqa: BLE001 - the store may be away; the next poll tries again
            LOG.warning("service port %s: link state not written", port_id, exc_info=True)


class ServiceInsertionApp(app_manager.OSKenApp):
    """Registers :class:`ServiceLinks` with the agent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.feature = ServiceLinks()
        features.register(self.feature)
