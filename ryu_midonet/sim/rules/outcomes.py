"""What running a rule or a chain gives: a verdict (:mod:`ryu_midonet.sim.core.verdicts`), or
``Continue`` (go on with the next rule) or ``Return`` (back to the calling chain)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ryu_midonet.sim.core.context import Context, Frame, Where
from ryu_midonet.sim.core.verdicts import ACCEPT, DROP, REJECT, Verdict
from ryu_midonet.types import Obj


@dataclass(frozen=True)
class Continue:
    pass


@dataclass(frozen=True)
class Return:
    pass


Outcome = Verdict | Continue | Return

CONTINUE, RETURN = Continue(), Return()

BY_NAME: dict[str, Outcome] = {"accept": ACCEPT, "drop": DROP, "reject": REJECT,
                               "continue": CONTINUE, "return": RETURN}
"""Outcomes by the names rules give them (rule types, NAT rules' ``flowAction``)."""


class RunChain(Protocol):
    def __call__(self, ctx: Context, chain_id: str, where: Where, frame: Frame,
                 stack: tuple[str, ...] = ()) -> tuple[Outcome, Frame]:
        ...


@dataclass(frozen=True)
class Call:
    """The chain a rule runs in: the chains being run (innermost last), and how to run another
    (a jump)."""

    stack: tuple[str, ...]
    run: RunChain

    def label(self, rule: Obj) -> str:
        return f"chain {self.stack[-1]} rule {rule['id']} ({rule['type']})"


RuleAction = Callable[[Context, Obj, Where, Frame, Call], tuple[Outcome, Frame]]
"""What a rule whose condition matched does: its outcome, and the frame after it."""
