"""Each bound local port's misses reach the agent through a meter of its own: created with the
port's flows, removed with them, created again when the switch connects again; a flow naming
a meter the switch does not have is refused, as Open vSwitch refuses it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from ryu_midonet.agent.features import Features
from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.missqueue import MissQueue
from ryu_midonet.agent.sender import Sender
from ryu_midonet.apps.agent import AgentApp
from ryu_midonet.datapath import ofcheck, ofmsgs
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.fakeswitch import FakeSwitch, Meter, SwitchError
from ryu_midonet.datapath.flows import (
    FlowDelete,
    FlowSpec,
    Message,
    MeterDelete,
    MeterSpec,
    SwitchConfig,
    meter,
    output,
)

LIMIT = tr.MissLimit(rate=200, burst=50)
TUNNEL = 100
PORTS = {1: 11, 2: 12}  # OpenFlow port -> tunnel key
FLAGS = 0b1110  # packets per second, burst, statistics


def connected(ports: dict[int, int] = PORTS) -> FakeSwitch:
    """A switch given what the agent sends when it connects, with ``ports`` bound."""
    switch = FakeSwitch()
    messages: list[Message] = [SwitchConfig(), FlowDelete(0, 0), MeterDelete(),
                               *tr.base_flows([TUNNEL])]
    for ofport, key in ports.items():
        messages += tr.port_flows(ofport, key, LIMIT)
    switch.apply(messages)
    return switch


def frame(in_port: int, dst: str = "02:00:00:00:00:99") -> dict[str, object]:
    return {"in_port": in_port, "eth_src": "02:00:00:00:00:01", "eth_dst": dst,
            "eth_type": 0x0806}


def test_every_port_gets_a_meter_and_its_misses_pass_it_on_the_way_to_the_agent() -> None:
    switch = connected()
    assert switch.meters == {11: Meter(11, 200, 50, FLAGS), 12: Meter(12, 200, 50, FLAGS)}
    for ofport, key in PORTS.items():
        out = switch.process(frame(ofport))
        assert out.to_controller and out.meters == [key]
        assert out.flows_hit[-1].cookie == p.cookie(p.COOKIE_MISS, key)


def test_a_cached_flow_takes_packets_before_the_miss_and_its_meter() -> None:
    switch = connected()
    switch.apply([FlowSpec(p.TABLE_FLOWS, p.PRIORITY_FLOW, {"in_port": 1}, (output(2),),
                           cookie=p.cookie(p.COOKIE_SIMULATED, 1))])
    out = switch.process(frame(1))
    assert [port for port, _ in out.outputs] == [2]
    assert not out.to_controller and out.meters == []


def test_unplugging_removes_the_port_s_meter_and_miss_flow_only() -> None:
    switch = connected()
    switch.apply(tr.port_deletes(11))
    assert set(switch.meters) == {12}
    cookies = {f.cookie for f in switch.flows}
    assert p.cookie(p.COOKIE_MISS, 11) not in cookies
    assert p.cookie(p.COOKIE_MISS, 12) in cookies
    # its packets no longer come in at all (no classification flow)
    assert not switch.process(frame(1)).to_controller
    assert switch.process(frame(2)).to_controller


def test_without_a_limit_a_port_has_no_meter_and_misses_take_the_table_miss() -> None:
    switch = FakeSwitch()
    switch.apply([*tr.base_flows([TUNNEL]), *tr.port_flows(1, 11)])
    assert switch.meters == {}
    out = switch.process(frame(1))
    assert out.to_controller and out.meters == []
    assert out.flows_hit[-1].cookie == p.cookie(p.COOKIE_MISS)
    switch.apply(tr.port_deletes(11))  # deleting a meter that is not there is no error


def test_a_flow_through_a_meter_the_switch_does_not_have_is_refused() -> None:
    switch = connected()
    with pytest.raises(SwitchError, match="OFPMMFC_INVALID_METER"):
        switch.apply([FlowSpec(p.TABLE_FLOWS, p.PRIORITY_PORT_MISS, {"in_port": 3},
                               (meter(13), output("controller")))])


def test_a_meter_added_twice_is_refused() -> None:
    switch = connected()
    with pytest.raises(SwitchError, match="METER_EXISTS"):
        switch.apply([MeterSpec(11, 10, 10)])


def test_deleting_a_meter_removes_the_flows_through_it() -> None:
    switch = connected()
    switch.apply([MeterDelete(12)])
    assert p.cookie(p.COOKIE_MISS, 12) not in {f.cookie for f in switch.flows}
    assert not switch.process(frame(2)).meters


def test_only_the_flow_table_may_meter() -> None:
    with pytest.raises(p.FlowRefused, match="goes through a meter"):
        p.check(p.shape(p.TABLE_CLASSIFY, p.PRIORITY_PORT, {"in_port"},
                        goto=p.TABLE_FLOWS, meter=True))
    p.check(p.shape(p.TABLE_FLOWS, p.PRIORITY_PORT_MISS, {"in_port"}, actions=[p.OUTPUT],
                    to_controller=True, meter=True))


def test_the_os_ken_message_says_the_meter_to_the_checks() -> None:
    switch = FakeSwitch()
    miss = tr.port_flows(1, 11, LIMIT)[-1]
    msg = ofmsgs.to_ofp(switch.datapath, miss)
    assert ofcheck.meter_of(msg) == 11
    assert ofcheck.flow_shape(msg).meter


class _Bindings:
    """Ports bound before the switch connects, as :class:`~.bindings.Bindings` has them."""

    ofports = {"vm1": 1, "vm2": 2}

    def port_flows(self) -> list[Message]:
        return [m for n, key in PORTS.items() for m in tr.port_flows(n, key, LIMIT)]


class _Idle:
    """Stands in for the agent's other parts: every call does nothing and sends nothing."""

    def __getattr__(self, name: str) -> Callable[..., list[Message]]:
        return lambda *args, **kwargs: []


def _agent() -> AgentApp:
    app = AgentApp.__new__(AgentApp)
    for name in ("proactive",):
        setattr(app, name, _Idle())
    app.features = Features()
    app.sender = Sender(check=True)
    app.bindings = _Bindings()  # type: ignore[assignment]
    app.index = FlowIndex()
    app.tunnels = {"vxlan": TUNNEL}
    app.misses = MissQueue()
    app._stop = threading.Event()
    return app


def test_the_agent_creates_the_meters_again_when_the_switch_connects_again() -> None:
    """Open vSwitch keeps meters across a controller's reconnection (and an agent's
    restart): the agent removes them with the flows before creating them again."""
    agent, switch = _agent(), FakeSwitch()
    features = SimpleNamespace(msg=SimpleNamespace(datapath=switch.datapath))
    agent.switch_features(features)
    switch.meters[99] = Meter(99, 1, 1, FLAGS)  # one the agent no longer knows of
    agent.switch_features(features)
    assert set(switch.meters) == {11, 12}
    assert agent.sender.refused == 0
    assert switch.process(frame(2)).meters == [12]
