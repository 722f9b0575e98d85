"""Every rewrite the simulator produces reaches the flow's actions, VLAN push and pop included."""

from __future__ import annotations

import pytest

from ryu_midonet.datapath.flows import DEC_TTL, POP_VLAN, output, push_vlan, set_field
from ryu_midonet.datapath.translator import Local, flow_for, output_actions, rewrite_actions
from ryu_midonet.sim.core.context import Frame
from ryu_midonet.sim.core.model import ArpAnswer, Output, Result, Rewrite, RewriteOp
from ryu_midonet.sim.core.walk import rewrites
from tests.support.packets import ipv4

PACKET = ipv4("02:00:00:00:00:01", "02:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1)


def test_a_flow_that_pushes_a_vlan_tag_keeps_it() -> None:
    pushed = rewrites(PACKET, Frame(PACKET).set(vlan_vid=7))
    result = Result(outputs=[Output("out", pushed)], fields_read={"eth_dst"})
    flow = flow_for(result, PACKET, 1, lambda _port: Local(5), cookie=1)
    assert flow is not None
    assert flow.actions == (push_vlan(7), output(5))


def test_a_flow_that_pops_a_vlan_tag_keeps_it() -> None:
    tagged = PACKET.replace(vlan_vid=7)
    popped = rewrites(tagged, Frame(tagged).set(vlan_vid=None))
    result = Result(outputs=[Output("out", popped)], fields_read={"vlan_vid"})
    flow = flow_for(result, tagged, 1, lambda _port: Local(5), cookie=1)
    assert flow is not None
    assert flow.actions == (POP_VLAN, output(5))


def test_every_rewrite_op_translates() -> None:
    assert rewrite_actions((Rewrite(RewriteOp.DEC_TTL), Rewrite(RewriteOp.POP_VLAN),
                            Rewrite(RewriteOp.PUSH_VLAN), Rewrite(RewriteOp.SET, "vlan_vid", 9),
                            Rewrite(RewriteOp.SET, "vlan_vid", 10),
                            Rewrite(RewriteOp.SET, "eth_dst", "02:00:00:00:00:03"))) == [
        DEC_TTL, POP_VLAN, push_vlan(9), set_field("vlan_vid", 10 | 0x1000),
        set_field("eth_dst", "02:00:00:00:00:03")]


def test_an_unknown_rewrite_op_is_refused() -> None:
    with pytest.raises(ValueError):
        Rewrite("mod_nw_tos")  # type: ignore[arg-type]


def test_a_push_without_its_vlan_id_is_refused() -> None:
    with pytest.raises(ValueError):
        rewrite_actions((Rewrite(RewriteOp.PUSH_VLAN),))
    with pytest.raises(ValueError):
        rewrite_actions((Rewrite(RewriteOp.PUSH_VLAN), Rewrite(RewriteOp.DEC_TTL)))



def test_an_arp_answer_turns_the_request_into_its_reply_and_sends_it_back() -> None:
    answer = ArpAnswer("02:aa:00:00:00:01", "10.0.0.1", "02:00:00:00:00:0a", "10.0.0.11")
    result = Result(outputs=[Output("vm", (Rewrite(RewriteOp.ARP_REPLY, value=answer),))])
    actions = output_actions(result, lambda _: Local(5), in_port=5)
    assert actions == (
        set_field("eth_src", "02:aa:00:00:00:01"), set_field("eth_dst", "02:00:00:00:00:0a"),
        set_field("arp_op", 2), set_field("arp_sha", "02:aa:00:00:00:01"),
        set_field("arp_spa", "10.0.0.1"), set_field("arp_tha", "02:00:00:00:00:0a"),
        set_field("arp_tpa", "10.0.0.11"), output("in_port"))
    with pytest.raises(ValueError, match="arp_reply without its answer"):
        rewrite_actions((Rewrite(RewriteOp.ARP_REPLY),))
