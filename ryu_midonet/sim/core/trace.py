"""The trace of a simulation: typed steps, and their text (rendered here and only here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ryu_midonet.sim.core.stages import Stage


@dataclass(frozen=True)
class TraceStep:
    """One step: what was decided (``decision``), where (the stage, the device and port the
    packet is at, the rule that decided), and how deep in the path (devices entered, answers
    nested under the packet that caused them)."""

    decision: str
    depth: int = 0
    stage: Stage | None = None
    device: str | None = None
    port: str | None = None
    rule: str | None = None

    def nested(self, depth: int) -> TraceStep:
        """The step as part of an answer walked ``depth`` levels below its cause."""
        return replace(self, depth=self.depth + depth)


def render(steps: Iterable[TraceStep]) -> list[str]:
    """The trace as text, one line per step, indented by depth."""
    return ["  " * step.depth + step.decision for step in steps]
