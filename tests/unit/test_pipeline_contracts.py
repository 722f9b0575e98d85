"""Every pipeline table declares what its flows may match, do and go to; flows that break
their table's contract are refused, and every flow the agent builds keeps it."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as parser

from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as t
from ryu_midonet.datapath.ofcheck import NotUnderstood, check_flow_mod, flow_shape
from ryu_midonet.datapath.ofmsgs import to_ofp
from ryu_midonet.nsdb.kinds.port import MAX_TUNNEL_KEY

DP = SimpleNamespace(ofproto=ofp, ofproto_parser=parser, id=1)


def _flow_mod(table: int, match: dict[str, Any], actions: Sequence[Any] = (),
              goto: int | None = None, priority: int = 100) -> Any:
    inst: list[Any] = []
    if actions:
        inst.append(parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, list(actions)))
    if goto is not None:
        inst.append(parser.OFPInstructionGotoTable(goto))
    return parser.OFPFlowMod(DP, table_id=table, priority=priority,
                             match=parser.OFPMatch(**match), instructions=inst)


def test_the_flows_every_host_and_every_bound_port_have_keep_their_contracts() -> None:
    # (simulated flows are checked wherever a test applies them to the fake switch)
    for spec in [*t.base_flows([9, 10]), *t.port_flows(3, 7)]:
        check_flow_mod(to_ofp(DP, spec))


def test_a_flow_matching_fields_its_table_does_not_declare_is_refused() -> None:
    # classification is keyed on the ingress port only: an L2 match belongs in the flow cache
    with pytest.raises(p.FlowRefused, match=r"table 0 \(classify\) matches eth_dst"):
        check_flow_mod(_flow_mod(p.TABLE_CLASSIFY, {"in_port": 3,
                                                    "eth_dst": "02:00:00:00:00:02"},
                                 goto=p.TABLE_FLOWS))
    with pytest.raises(p.FlowRefused, match="matches in_port"):
        check_flow_mod(_flow_mod(p.TABLE_TUNNEL_DELIVERY, {"in_port": 9, "tunnel_id": 7},
                                 [parser.OFPActionOutput(5)]))


def test_a_flow_missing_its_tables_key_is_refused_but_a_table_miss_flow_is_not() -> None:
    with pytest.raises(p.FlowRefused, match="does not match in_port"):
        check_flow_mod(_flow_mod(p.TABLE_FLOWS, {"eth_dst": "02:00:00:00:00:02"},
                                 [parser.OFPActionOutput(5)]))
    check_flow_mod(_flow_mod(p.TABLE_FLOWS, {}, [parser.OFPActionOutput(
        ofp.OFPP_CONTROLLER)], priority=p.PRIORITY_MISS))


def test_gotos_actions_and_set_fields_outside_the_contract_are_refused() -> None:
    with pytest.raises(p.FlowRefused, match="goes to table 2"):
        check_flow_mod(_flow_mod(p.TABLE_FLOWS, {"in_port": 3}, goto=p.TABLE_TUNNEL_DELIVERY))
    with pytest.raises(p.FlowRefused, match="uses set_field"):
        check_flow_mod(_flow_mod(p.TABLE_TUNNEL_DELIVERY, {"tunnel_id": 7}, [
            parser.OFPActionSetField(eth_dst="02:00:00:00:00:02"),
            parser.OFPActionOutput(5)]))
    with pytest.raises(p.FlowRefused, match="sets in_port"):
        check_flow_mod(_flow_mod(p.TABLE_FLOWS, {"in_port": 3}, [
            parser.OFPActionSetField(in_port=4), parser.OFPActionOutput(5)]))
    with pytest.raises(p.FlowRefused, match="sends to the controller"):
        check_flow_mod(_flow_mod(p.TABLE_TUNNEL_DELIVERY, {"tunnel_id": 7}, [
            parser.OFPActionOutput(ofp.OFPP_CONTROLLER)]))
    with pytest.raises(p.FlowRefused, match="table 10 is not in the pipeline"):
        check_flow_mod(_flow_mod(10, {"in_port": 3}))
    with pytest.raises(p.FlowRefused, match="uses group"):
        check_flow_mod(_flow_mod(p.TABLE_FLOWS, {"in_port": 3}, [parser.OFPActionGroup(1)]))


def test_actions_the_checks_do_not_know_are_not_guessed_at() -> None:
    with pytest.raises(NotUnderstood):
        flow_shape(_flow_mod(p.TABLE_FLOWS, {"in_port": 3}, [parser.OFPActionCopyTtlOut()]))


def test_the_contracts_describe_every_table_the_pipeline_names() -> None:
    assert p.TABLE_NAMES == {0: "classify", 1: "flows", 2: "tunnel-delivery", 3: "nat-return",
                             4: "ct-lookup", 5: "nat-tunnel-in", 6: "ct-copy", 7: "nat-egress",
                             8: "lb-forward", 9: "lb-reply"}
    for contract in p.TABLES.values():
        assert contract.required <= contract.matches
        assert all(nxt > contract.table_id for nxt in contract.next_tables)


def test_tunnel_keys_of_ports_stay_clear_of_the_flag_bits() -> None:
    flags = p.NAT_TUNNEL_FLAG | p.CT_COMMIT_BIT
    assert MAX_TUNNEL_KEY & flags == 0 and (MAX_TUNNEL_KEY | flags) < 1 << 24  # a VXLAN VNI
