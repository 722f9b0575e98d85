"""``dnat``, ``snat``, ``rev_dnat``, ``rev_snat``: translate (:mod:`ryu_midonet.sim.rules.nat`),
then act as the rule's ``flowAction`` (default accept). A reverse rule with no recorded
translation, or a packet NAT does not handle, goes on with the next rule; no free translation
drops the packet."""

from __future__ import annotations

from ryu_midonet.sim.core.context import Context, Frame, Where
from ryu_midonet.sim.core.verdicts import ACCEPT, DROP
from ryu_midonet.sim.rules import nat
from ryu_midonet.sim.rules.outcomes import BY_NAME, CONTINUE, Call, Outcome
from ryu_midonet.types import Obj

TYPES = nat.NAT_TYPES + nat.REVERSE_TYPES


def act(ctx: Context, rule: Obj, where: Where, frame: Frame,
        call: Call) -> tuple[Outcome, Frame]:
    ctx.trace(frame, f"{call.label(rule)} matched", stage=where.stage, rule=rule["id"])
    status, frame = nat.translate(ctx, rule, where, frame)
    if status == nat.FAILED:
        ctx.uncacheable()  # a translation may free up: ask again for the next packet
        return DROP, frame
    if status == nat.SKIPPED:
        return CONTINUE, frame
    action = rule.get("flowAction")
    return (BY_NAME[action] if action else ACCEPT), frame
