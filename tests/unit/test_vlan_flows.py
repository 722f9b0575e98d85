"""A simulation result that pushes or pops a VLAN tag gives a flow that, sent as the real
OpenFlow messages and applied by the fake switch, really pushes or pops it."""

from __future__ import annotations

from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as t
from ryu_midonet.datapath.fakenet import Delivery, FakeNetwork
from ryu_midonet.datapath.fakeswitch import FakeSwitch
from ryu_midonet.datapath.flows import FlowDelete, SwitchConfig
from ryu_midonet.sim.core.context import Frame
from ryu_midonet.sim.core.model import Output, Packet, Result
from ryu_midonet.sim.core.walk import rewrites
from tests.support.packets import icmp

PACKET = icmp("02:00:00:00:00:01", "02:00:00:00:00:02", "10.0.0.1", "10.0.0.2")
TAGGED = PACKET.replace(vlan_vid=7)
LOCATIONS = {"local": t.Local(5), "remote": t.Remote(9, "10.99.0.2", 42)}
COOKIE = p.cookie(p.COOKIE_SIMULATED, 1)


def _switch(*flows_from: tuple[Result, Packet]) -> FakeSwitch:
    sw = FakeSwitch()
    sw.apply([SwitchConfig(), FlowDelete(0, 0), *t.base_flows([9]), *t.port_flows(3, 7)])
    for result, packet in flows_from:
        flow = t.flow_for(result, packet, 3, LOCATIONS.get, COOKIE)
        assert flow is not None
        sw.apply([flow])
    return sw


def _pushing(to: str = "local") -> Result:
    return Result(outputs=[Output(to, rewrites(PACKET, Frame(PACKET).set(vlan_vid=7)))],
                  fields_read={"eth_dst"})


def test_a_result_that_pushes_a_vlan_tag_gives_a_flow_that_pushes_it() -> None:
    sw = _switch((_pushing(), PACKET))
    [(port, headers)] = sw.process({**PACKET.headers(), "in_port": 3}).outputs
    assert port == 5 and headers["vlan_vid"] == 7
    assert {k: v for k, v in headers.items() if k not in ("vlan_vid", "in_port")} == (
        PACKET.headers())


def test_a_result_that_pops_a_vlan_tag_gives_a_flow_that_pops_it() -> None:
    popped = Result(outputs=[Output("local", rewrites(TAGGED, Frame(TAGGED).set(vlan_vid=None)))],
                    fields_read={"vlan_vid", "eth_dst"})
    sw = _switch((popped, TAGGED))
    [(port, headers)] = sw.process({**TAGGED.headers(), "in_port": 3}).outputs
    assert port == 5 and "vlan_vid" not in headers
    assert sw.process({**TAGGED.replace(vlan_vid=8).headers(), "in_port": 3}).to_controller


def test_a_pushed_tag_crosses_the_tunnel() -> None:
    net = FakeNetwork()
    for name, ip in (("a", "10.99.0.1"), ("b", "10.99.0.2")):
        net.add_host(name, ip, 9).switch.apply(
            [SwitchConfig(), FlowDelete(0, 0), *t.base_flows([9]), *t.port_flows(3, 42)])
    flow = t.flow_for(_pushing("remote"), PACKET, 3, LOCATIONS.get, COOKIE)
    assert flow is not None
    net.hosts["a"].switch.apply([flow])
    assert net.send("a", 3, PACKET.headers()) == [
        Delivery("b", 3, {**PACKET.headers(), "vlan_vid": 7})]
