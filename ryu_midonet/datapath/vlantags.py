"""The 802.1Q tag across the outputs of one flow.

The outputs of one decision may leave with different tags: a VLAN-aware bridge floods a
frame tagged to its trunks and untagged to its VLAN port, or a frame from a VLAN port both
to the trunks (tag pushed) and, popped again, into another device. The flow applies its
rewrites cumulatively, output after output, so the tag is handled on its own: outputs that
keep the packet's tag go first, then those that set a tag (pushed on an untagged packet, or
replacing the packet's), then those that pop it, and between two outputs only the change of
tag is done (:func:`change`). An ARP request answered in place comes last, its tag pushed by
an earlier output popped again.
"""

from __future__ import annotations

from collections.abc import Iterable

from ryu_midonet.datapath.flows import POP_VLAN, Action, push_vlan, set_field
from ryu_midonet.sim.core.model import Output, Rewrite, RewriteOp

OFPVID_PRESENT = 0x1000
KEEP, SET, POP = 0, 1, 2  # what an output does to the packet's tag, in output order


def is_tag_op(rw: Rewrite) -> bool:
    return rw.op in (RewriteOp.PUSH_VLAN, RewriteOp.POP_VLAN) or (
        rw.op is RewriteOp.SET and rw.field in ("vlan_vid", "vlan_pcp"))


def split(rewrites: tuple[Rewrite, ...]) -> tuple[tuple[Rewrite, ...], tuple[Rewrite, ...]]:
    """(the rewrites that are not about the tag, those that are), each in order."""
    return (tuple(rw for rw in rewrites if not is_tag_op(rw)),
            tuple(rw for rw in rewrites if is_tag_op(rw)))


def kind(tag_ops: tuple[Rewrite, ...]) -> int:
    if not tag_ops:
        return KEEP
    return POP if any(rw.op is RewriteOp.POP_VLAN for rw in tag_ops) else SET


def ordered(outputs: Iterable[Output]) -> list[Output]:
    """The outputs in the order their tags can be reached one from the other; an ARP request
    answered in place last (its rewrites are not undone, and it asks for an untagged one)."""
    return sorted(outputs, key=lambda out: (
        any(rw.op is RewriteOp.ARP_REPLY for rw in out.rewrites), kind(split(out.rewrites)[1])))


def change(done: tuple[Rewrite, ...], wanted: tuple[Rewrite, ...]) -> list[Action]:
    """The actions that turn the tag as ``done`` left it into the one ``wanted`` leaves
    (both from the packet's own tag; ``wanted`` comes later in :func:`ordered`)."""
    if done == wanted:
        return []
    before, after = kind(done), kind(wanted)
    if after == POP:
        return [POP_VLAN]
    if after == SET:
        sets = {rw.field: int(rw.value) for rw in wanted if rw.op is RewriteOp.SET}
        pcp = [set_field("vlan_pcp", sets["vlan_pcp"])] if "vlan_pcp" in sets else []
        if "vlan_vid" not in sets:
            return pcp
        vid = sets["vlan_vid"]
        if before == KEEP and any(rw.op is RewriteOp.PUSH_VLAN for rw in wanted):
            return [push_vlan(vid), *pcp]
        return [set_field("vlan_vid", vid | OFPVID_PRESENT), *pcp]
    if any(rw.op is RewriteOp.PUSH_VLAN for rw in done):
        return [POP_VLAN]  # back to the untagged packet
    raise ValueError(f"the packet's own tag cannot come back after {done}")
