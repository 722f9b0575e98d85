"""After a topology change, the flows built on what changed leave the switch first: before the
agent looks at its host's bindings (an OVSDB round trip) and before any flow is compiled
again, so traffic follows the change as soon as the change feed delivers it."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from ryu_midonet.agent.features import Features
from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.missqueue import MissQueue
from ryu_midonet.agent.sender import Sender
from ryu_midonet.agent.tagset import Parents
from ryu_midonet.apps import agent as agent_app
from ryu_midonet.apps.agent import AgentApp
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath.fakeswitch import FakeSwitch
from ryu_midonet.datapath.flows import FlowSpec, Message, output

ROUTER = "router-1"


class Witness:
    """Notes, when the agent calls it, whether the stale flow was still on the switch."""

    def __init__(self, switch: FakeSwitch) -> None:
        self.switch = switch
        self.cookie = 0
        self.seen: list[tuple[str, bool]] = []

    def still_there(self) -> bool:
        return any(entry.cookie == self.cookie for entry in self.switch.flows)

    def note(self, what: str) -> None:
        self.seen.append((what, self.still_there()))


class Bindings:
    def __init__(self, witness: Witness) -> None:
        self.witness = witness
        self.ofports: dict[str, int] = {}

    def reconcile(self) -> list[Message]:
        self.witness.note("bindings")
        return []

    def take_changed(self) -> set[str]:
        return set()

    def port_flows(self) -> list[Message]:
        return []


class Proactive:
    def __init__(self, witness: Witness) -> None:
        self.witness = witness

    def everything(self) -> None:
        self.witness.note("recompile")

    def ports_plugged(self, port_ids: object) -> None:
        self.witness.note("recompile")


def agent() -> tuple[AgentApp, Witness]:
    app = AgentApp.__new__(AgentApp)
    switch = FakeSwitch()
    witness = Witness(switch)
    app.features = Features()
    app.sender = Sender()
    app.bindings = Bindings(witness)  # type: ignore[assignment]
    app.index = FlowIndex()
    app.tunnels = {}
    app.cache = SimpleNamespace(get=lambda kind, obj_id: {"id": obj_id, "routerId": ROUTER})
    app._pending_tags = set()
    app._pending_messages = []
    app._stop = threading.Event()
    app.proactive = Proactive(witness)  # type: ignore[assignment]
    app.misses = MissQueue()
    app.parents = Parents(agent_app.PARENT_FIELDS)
    app.switch_features(SimpleNamespace(msg=SimpleNamespace(datapath=switch.datapath)))
    return app, witness


def test_a_new_route_removes_the_routers_flows_before_anything_else_runs() -> None:
    app, witness = agent()
    cookie = app.index.add({ROUTER, "port-a", "port-b"})
    assert cookie is not None
    witness.cookie = cookie
    app._send([FlowSpec(p.TABLE_FLOWS, 100, {"in_port": 1}, (output(2),), cookie=cookie)])
    assert witness.still_there()
    witness.seen.clear()  # what the switch's connection started

    app._on_topology_change("create", "route", "route-9")  # a route of the router
    app._after_changes()

    assert not witness.still_there()
    assert witness.seen == [("bindings", False), ("recompile", False)]
