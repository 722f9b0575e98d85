"""Assertions over simulation results: where the packet went, and the steps of its trace."""

from __future__ import annotations

from ryu_midonet.sim.core.model import Result
from ryu_midonet.sim.core.stages import Stage
from ryu_midonet.sim.core.trace import TraceStep


def out_ports(result: Result) -> list[str]:
    """The ports the packet leaves by, in order."""
    return [o.port_id for o in result.outputs]


def assert_outputs(result: Result, *ports: str) -> None:
    """The packet leaves by exactly ``ports``, in that order."""
    assert out_ports(result) == list(ports), "\n".join(result.trace)


def assert_dropped(result: Result) -> None:
    """The packet leaves by no port."""
    assert result.dropped, "\n".join(result.trace)


def steps(result: Result, text: str = "", *, stage: Stage | None = None,
          device: str | None = None, port: str | None = None,
          rule: str | None = None) -> list[TraceStep]:
    """The steps whose decision contains ``text`` and that have the given attributes."""
    wanted = {"stage": stage, "device": device, "port": port, "rule": rule}
    return [s for s in result.steps if text in s.decision
            and all(v is None or getattr(s, k) == v for k, v in wanted.items())]


def has_step(result: Result, text: str = "", **attrs: str | Stage | None) -> bool:
    """Whether some step's decision contains ``text`` (with the given attributes)."""
    return bool(steps(result, text, **attrs))  # type: ignore[arg-type]


def assert_step(result: Result, text: str = "", **attrs: str | Stage | None) -> TraceStep:
    """The first step matching ``text`` and ``attrs``; fails, showing the trace, if none."""
    found = steps(result, text, **attrs)  # type: ignore[arg-type]
    assert found, f"no step {text!r} {attrs} in:\n" + "\n".join(result.trace)
    return found[0]


def last_step(result: Result) -> TraceStep:
    """The final step: the result's summary."""
    return result.steps[-1]


def outline(result: Result) -> list[tuple[int, str]]:
    """The steps as (depth, decision) pairs: the trace's shape without its text layout."""
    return [(s.depth, s.decision) for s in result.steps]
