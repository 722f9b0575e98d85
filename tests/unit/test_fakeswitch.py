"""The fake switch takes the real os-ken messages, refuses what Open vSwitch would refuse or
what it does not model, and forwards the way Open vSwitch does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as parser

from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as t
from ryu_midonet.datapath.fakeswitch import FakeSwitch, SwitchError
from ryu_midonet.datapath.flows import FlowDelete, PacketOut, SwitchConfig, output
from ryu_midonet.datapath.ofcheck import NotUnderstood
from ryu_midonet.datapath.packets import build
from tests.support.packets import icmp

MAC1, MAC2 = "02:00:00:00:00:01", "02:00:00:00:00:02"
ICMP = icmp(MAC1, MAC2, "10.0.0.1", "10.0.0.2")
IN = {**ICMP.headers(), "in_port": 3}


def _switch(configured: bool = True) -> FakeSwitch:
    sw = FakeSwitch()
    setup = [SwitchConfig(), FlowDelete(0, 0)] if configured else []
    sw.apply([*setup, *t.base_flows([9]), *t.port_flows(3, 7), *t.port_flows(5, 8)])
    return sw


def _flow(sw: FakeSwitch, match: dict[str, Any], actions: Sequence[Any],
          table: int = p.TABLE_FLOWS, goto: int | None = None) -> None:
    inst: list[Any] = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, list(actions))]
    if goto is not None:
        inst.append(parser.OFPInstructionGotoTable(goto))
    sw.datapath.send_msg(parser.OFPFlowMod(sw.datapath, table_id=table, priority=100,
                                           match=parser.OFPMatch(**match),
                                           instructions=inst))


def test_a_flow_breaking_its_tables_contract_is_refused_by_the_switch() -> None:
    sw = _switch()
    with pytest.raises(p.FlowRefused, match="matches eth_dst"):
        _flow(sw, {"in_port": 3, "eth_dst": MAC2}, [], table=p.TABLE_CLASSIFY,
              goto=p.TABLE_FLOWS)
    assert len(sw.table(p.TABLE_CLASSIFY)) == 3  # nothing was installed


def test_what_open_vswitch_refuses_is_refused() -> None:
    sw = _switch()
    with pytest.raises(SwitchError, match="BAD_PREREQ"):
        _flow(sw, {"in_port": 3, "ipv4_dst": "10.0.0.2"}, [parser.OFPActionOutput(5)])
    with pytest.raises(SwitchError, match="dec_nw_ttl"):
        _flow(sw, {"in_port": 3}, [parser.OFPActionDecNwTtl(), parser.OFPActionOutput(5)])
    with pytest.raises(SwitchError, match="pop_vlan"):
        _flow(sw, {"in_port": 3}, [parser.OFPActionPopVlan(), parser.OFPActionOutput(5)])
    with pytest.raises(SwitchError, match="OFPVID_PRESENT"):
        _flow(sw, {"in_port": 3, "vlan_vid": 0x1007}, [
            parser.OFPActionSetField(vlan_vid=8), parser.OFPActionOutput(5)])
    with pytest.raises(SwitchError, match="set_field ipv4_dst"):
        _flow(sw, {"in_port": 3}, [parser.OFPActionSetField(ipv4_dst="10.0.0.9"),
                                   parser.OFPActionOutput(5)])
    with pytest.raises(SwitchError, match="BAD_TABLE_ID"):
        _flow(sw, {"tunnel_id": 7}, [], table=p.TABLE_TUNNEL_DELIVERY, goto=p.TABLE_FLOWS)


def test_what_the_switch_does_not_model_is_refused_not_ignored() -> None:
    sw = _switch()
    with pytest.raises(NotUnderstood, match="action"):
        _flow(sw, {"in_port": 3}, [parser.OFPActionCopyTtlOut()])
    with pytest.raises(NotUnderstood, match="port"):
        _flow(sw, {"in_port": 3}, [parser.OFPActionOutput(ofp.OFPP_FLOOD)])
    with pytest.raises(NotUnderstood, match="group-mod command"):
        sw.datapath.send_msg(parser.OFPGroupMod(sw.datapath, type_=ofp.OFPGT_ALL))
    with pytest.raises(NotUnderstood, match="message"):
        sw.datapath.send_msg(parser.OFPTableMod(sw.datapath, 0, 0))
    with pytest.raises(NotUnderstood, match="command"):
        sw.datapath.send_msg(parser.OFPFlowMod(sw.datapath, command=ofp.OFPFC_MODIFY,
                                               match=parser.OFPMatch()))


def test_an_expired_ttl_reaches_the_agent_only_once_it_asked_for_those() -> None:
    for configured in (False, True):
        sw = _switch(configured)
        _flow(sw, {"in_port": 3, "eth_type": 0x0800}, [parser.OFPActionDecNwTtl(),
                                                         parser.OFPActionOutput(5)])
        expired = sw.process({**IN, "nw_ttl": 1})
        assert expired.outputs == [] and expired.to_controller is configured
        assert sw.process(IN).outputs == [(5, {**IN, "nw_ttl": 63})]


def test_vlan_tags_are_pushed_set_and_popped() -> None:
    sw = _switch()
    _flow(sw, {"in_port": 3}, [parser.OFPActionPushVlan(0x8100),
                               parser.OFPActionSetField(vlan_vid=0x1000 | 7),
                               parser.OFPActionOutput(5)])
    _flow(sw, {"in_port": 5, "vlan_vid": 0x1000 | 7}, [parser.OFPActionPopVlan(),
                                                      parser.OFPActionOutput(3)])
    [(port, pushed)] = sw.process(IN).outputs
    assert port == 5 and pushed["vlan_vid"] == 7
    [(port, popped)] = sw.process({**pushed, "in_port": 5}).outputs
    assert port == 3 and "vlan_vid" not in popped
    assert sw.process({**IN, "in_port": 5, "vlan_vid": 8}).outputs == []


def test_output_to_the_ingress_port_is_dropped_unless_named() -> None:
    sw = _switch()
    _flow(sw, {"in_port": 3}, [parser.OFPActionOutput(3), parser.OFPActionOutput(5)])
    assert [port for port, _ in sw.process(IN).outputs] == [5]


def test_packet_outs_are_executed_on_the_packet_they_carry() -> None:
    sw = _switch()
    sw.apply([PacketOut(build(ICMP), (output(5),)),
              PacketOut(build(ICMP), (output("table"),), in_port=3)])
    direct, through_table = sw.packet_outs
    assert [(port, hdr["ipv4_dst"]) for port, hdr in direct.outputs] == [(5, "10.0.0.2")]
    assert through_table.to_controller  # the flow table misses: to the agent
