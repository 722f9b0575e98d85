"""L2 insertion's decisions as flows: the service port's tag pushed with its priority, a
returning frame matched on its VLAN id and priority, the tag popped before the destination;
checked as flow actions and as OpenFlow messages."""

from __future__ import annotations

from types import SimpleNamespace

from os_ken.ofproto import ofproto_v1_3, ofproto_v1_3_parser

from ryu_midonet.datapath import packets as wire
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as t
from ryu_midonet.datapath.flows import POP_VLAN, FlowSpec, output, push_vlan, set_field
from ryu_midonet.datapath.ofmsgs import to_ofp
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import Packet
from tests.unit.test_sim_l2insertion import VM1, VM2, frame, setup

# the second function is on another host: frames reach it through the tunnel
PORTS: dict[str, t.Location] = {"p1": t.Local(1), "p2": t.Local(2), "s1": t.Local(3),
                                "s2": t.Remote(9, "10.0.0.2", 42)}
OFPORTS = {"p1": 1, "p2": 2, "s1": 3, "s2": 4}


def _flow(in_port: str, packet: Packet) -> FlowSpec:
    b, state = setup()
    result = simulate(b.view(), state, in_port, packet)
    flow = t.flow_for(result, packet, OFPORTS[in_port], PORTS.get,
                      p.cookie(p.COOKIE_SIMULATED, 1))
    assert flow is not None
    return flow


def test_into_the_first_function_tagged_with_pcp() -> None:
    flow = _flow("p1", frame(VM1, VM2))
    assert flow.match["eth_src"] == VM1
    assert [a for a in flow.actions if a.kind != "output"] == [push_vlan(10),
                                                               set_field("vlan_pcp", 1)]


def _serialized(flow: FlowSpec) -> None:
    dp = SimpleNamespace(ofproto=ofproto_v1_3, ofproto_parser=ofproto_v1_3_parser, id=1)
    msg = to_ofp(dp, flow)
    msg.set_xid(1)
    msg.serialize()


def test_back_from_a_function_matched_on_vlan_and_pcp_then_popped() -> None:
    flow = _flow("s1", frame(VM1, VM2, vlan_vid=10, vlan_pcp=1))
    assert flow.match["vlan_vid"] == 10 | 0x1000 and flow.match["vlan_pcp"] == 1
    assert set_field("vlan_vid", 20 | 0x1000) in flow.actions  # to the second, re-tagged
    last = _flow("s2", frame(VM2, VM1, vlan_vid=20, vlan_pcp=2))
    assert last.match["vlan_pcp"] == 2
    _serialized(flow)
    _serialized(last)
    assert POP_VLAN in last.actions and output(1) in last.actions


def test_a_tag_priority_survives_the_wire() -> None:
    parsed = wire.parse(wire.build(frame(VM1, VM2, vlan_vid=10, vlan_pcp=2)))
    assert parsed is not None and (parsed.vlan_vid, parsed.vlan_pcp) == (10, 2)
    parsed = wire.parse(wire.build(frame(VM1, VM2, vlan_vid=10)))
    assert parsed is not None and (parsed.vlan_vid, parsed.vlan_pcp) == (10, None)
