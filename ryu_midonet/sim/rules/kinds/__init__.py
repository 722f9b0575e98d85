"""Rule types, one module each, registered by the ``type`` the store gives a rule."""

from __future__ import annotations

from ryu_midonet.sim.rules.kinds import jump, translate, verdict
from ryu_midonet.sim.rules.outcomes import RuleAction

RULE_TYPES: dict[str, RuleAction] = {
    **{name: verdict.act for name in verdict.TYPES},
    **{name: jump.act for name in jump.TYPES},
    **{name: translate.act for name in translate.TYPES},
}
