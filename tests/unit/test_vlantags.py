"""The tag across the outputs of one flow: a VLAN-aware bridge's floods become actions that
give every output its own tag."""

from __future__ import annotations

from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.flows import POP_VLAN, output, push_vlan, set_field
from ryu_midonet.sim.core.model import Output, Result, Rewrite, RewriteOp

POP = (Rewrite(RewriteOp.POP_VLAN),)
PUSH5 = (Rewrite(RewriteOp.PUSH_VLAN), Rewrite(RewriteOp.SET, "vlan_vid", 5))
PORTS = {"vm5": tr.Local(3), "t1": tr.Local(1), "t2": tr.Local(2), "vm8": tr.Local(4)}


def actions(*outputs: Output) -> tuple:
    return tr.output_actions(Result(outputs=list(outputs)), PORTS.get, in_port=9)


def test_a_tagged_flood_keeps_the_tag_to_trunks_and_pops_it_to_the_vlan_port() -> None:
    assert actions(Output("vm5", POP), Output("t2")) == (output(2), POP_VLAN, output(3))


def test_a_flood_from_a_vlan_port_pushes_once_for_every_trunk() -> None:
    assert actions(Output("t1", PUSH5), Output("t2", PUSH5)) == (
        push_vlan(5), output(1), output(2))


def test_an_untagged_output_comes_before_a_pushed_one_and_a_new_tag_is_set() -> None:
    retag = (Rewrite(RewriteOp.PUSH_VLAN), Rewrite(RewriteOp.SET, "vlan_vid", 8))
    assert actions(Output("t1", PUSH5), Output("vm8"), Output("t2", retag)) == (
        output(4), push_vlan(5), output(1), set_field("vlan_vid", 8 | 0x1000), output(2))
