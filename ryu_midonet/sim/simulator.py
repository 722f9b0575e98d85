"""The simulator as the agent uses it: the walk with the real devices, rule chains and flow
state wired in."""

from __future__ import annotations

from ryu_midonet.sim.core import walk
from ryu_midonet.sim.core.context import Filters, Semantics
from ryu_midonet.sim.core.model import DatapathCt, DatapathReply, Packet, Result
from ryu_midonet.sim.core.topology import TopologyView
from ryu_midonet.sim.devices.bridge import Bridge
from ryu_midonet.sim.devices.l2insertion import InsertionFilters
from ryu_midonet.sim.devices.router import Router
from ryu_midonet.sim.rules import conntrack, nat
from ryu_midonet.sim.rules.chains import ChainFilters
from ryu_midonet.sim.state import State

SEMANTICS = Semantics(devices={"Bridge": Bridge(), "Router": Router()},
                      on_exit=conntrack.record, on_lost=nat.rollback)


def simulate(view: TopologyView, state: State, ingress_port_id: str, packet: Packet,
             filters: Filters | None = None,
             datapath_reply: DatapathReply | None = None,
             datapath_ct: DatapathCt | None = None) -> Result:
    """The decision for ``packet`` entering the topology at exterior port ``ingress_port_id``;
    rule chains, then L2 insertions' redirects, are evaluated unless other ``filters`` are
    given. ``datapath_reply``: the
    packet is a reply the datapath translated back; ``datapath_ct``: connection tracking in
    the datapath (see :func:`walk.simulate`)."""
    return walk.simulate(view, state, ingress_port_id, packet,
                         filters if filters is not None else InsertionFilters(ChainFilters()),
                         SEMANTICS,
                         datapath_reply, datapath_ct)
