"""What the packet-in handler and the proactive compiler share to turn a decision into a flow."""

from __future__ import annotations

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.locator import Locator
from ryu_midonet.sim.core.model import Result
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.state import State, mac_tag


class FlowSource:
    """The topology, state and flow index of one host, and where its ports are."""

    def __init__(self, view: DictView, state: State, index: FlowIndex, host_id: str,
                 ofports: dict[str, int], tunnels: dict[str, int]) -> None:
        self.view = view
        self.state = state
        self.index = index
        self.host_id = host_id
        self.ofports = ofports
        self.tunnels = tunnels

    def locator(self) -> Locator:
        """A fresh locator (its tags are those of one decision)."""
        return Locator(self.view, self.host_id, self.ofports, self.tunnels)


def decision_tags(result: Result, locate: Locator) -> set[str]:
    """The tags a flow of ``result`` depends on: the decision's, the locations', and the
    MAC entries it learned (a learned source's expiry must re-learn it)."""
    learned = {mac_tag(entry.bridge_id, entry.mac) for entry in result.learned}
    return result.tags | locate.tags | learned
