"""``accept``, ``drop``, ``reject``, ``continue``, ``return``: the rule's type is its outcome."""

from __future__ import annotations

from ryu_midonet.sim.core.context import Context, Frame, Where
from ryu_midonet.sim.rules.outcomes import BY_NAME, Call, Outcome
from ryu_midonet.types import Obj

TYPES = tuple(BY_NAME)


def act(ctx: Context, rule: Obj, where: Where, frame: Frame,
        call: Call) -> tuple[Outcome, Frame]:
    kind = rule["type"]
    ctx.trace(frame, f"{call.label(rule)} matched: {kind}", stage=where.stage, rule=rule["id"])
    return BY_NAME[kind], frame
