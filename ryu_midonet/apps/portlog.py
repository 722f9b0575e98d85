"""An example feature app: logs this host's ports as they are plugged and unplugged, and
how many are plugged, every minute.

``ryu-midonet-manager ... ryu_midonet.apps.agent ryu_midonet.apps.portlog``

It shows the shape of a feature app: an os-ken app that registers a
:class:`~ryu_midonet.agent.features.Feature` with the agent of its process and implements
only the hooks it needs.
"""

from __future__ import annotations

import logging
from typing import Any

from os_ken.base import app_manager

from ryu_midonet.agent import features
from ryu_midonet.datapath.flows import Message

LOG = logging.getLogger(__name__)


class PortLog(features.FeatureBase):
    """Logs port plugs and unplugs, and the plugged ports every :attr:`interval` seconds."""

    name = "portlog"
    interval = 60.0

    def __init__(self) -> None:
        self.agent: features.AgentContext | None = None

    def start(self, agent: features.AgentContext) -> None:
        self.agent = agent
        LOG.info("logging the ports of host %s", agent.host_id)

    def port_flows(self, port_id: str, ofport: int, plugged: bool) -> list[Message]:
        LOG.info("port %s %s OpenFlow port %d", port_id,
                 "plugged as" if plugged else "unplugged from", ofport)
        return []

    def periodic(self) -> list[Message]:
        if self.agent is not None:
            ports = dict(self.agent.ofports)
            LOG.info("%d ports plugged on host %s%s", len(ports), self.agent.host_id,
                     "".join(f"; {pid} at {n}" for pid, n in sorted(ports.items())))
        return []


class PortLogApp(app_manager.OSKenApp):
    """Registers :class:`PortLog` with the agent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.feature = PortLog()
        features.register(self.feature)
