"""``jump``: run the target chain; if it returns or ends, go on after the jump. A jump to a
chain already being run drops the packet; a jump to no chain goes on."""

from __future__ import annotations

from ryu_midonet.sim.core.context import Context, Frame, Where
from ryu_midonet.sim.core.verdicts import DROP
from ryu_midonet.sim.rules.outcomes import CONTINUE, Call, Continue, Outcome, Return
from ryu_midonet.types import Obj

TYPES = ("jump",)


def act(ctx: Context, rule: Obj, where: Where, frame: Frame,
        call: Call) -> tuple[Outcome, Frame]:
    target = rule.get("jumpChainId")
    label = call.label(rule)
    if target in call.stack:
        ctx.trace(frame, f"{label} matched: jump to {target}, already being run: drop",
                  stage=where.stage, rule=rule["id"])
        return DROP, frame
    if not target:
        return CONTINUE, frame
    ctx.trace(frame, f"{label} matched: jump to {target}", stage=where.stage, rule=rule["id"])
    outcome, frame = call.run(ctx, target, where, frame, call.stack)
    return (CONTINUE, frame) if isinstance(outcome, Continue | Return) else (outcome, frame)
