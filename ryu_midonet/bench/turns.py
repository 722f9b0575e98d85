"""ryu-midonet and OVN taking turns: the rates the targets compare, measured alternately.

The controllers' main runs (:mod:`.runner`) come minutes apart, and on a small machine the
load of those minutes moves a rate by 20-50% while the datapath's counts per connection stay
the same. Here both sandboxes are up at the same time (the second one under its own name and
underlay) and every round measures one controller, then the other, the order swapping each
round (ABBA), so both see the same load. The ratio is the median of the per-round ratios.

Measured: new TCP connections per second for the four stateless cases and the floating-IP
and dynamic-SNAT cases, and iperf3 throughput for the four stateless cases.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ryu_midonet.bench import layout, measure, nat
from ryu_midonet.bench.layout import Case
from ryu_midonet.bench.measure import Settings
from ryu_midonet.bench.midonet import MidonetScenario
from ryu_midonet.bench.ovn import OvnScenario
from ryu_midonet.bench.runner import SETTLE, Log
from ryu_midonet.bench.scenario import Scenario
from ryu_midonet.bench.section import remove_leftovers
from ryu_midonet.sandbox import Sandbox

PEER_NAME = "bencho"
PEER_UNDERLAY = "10.82.0.0/24"
RATE_ROUNDS = 6
STREAM_ROUNDS = 2
CONN_RATE = "new TCP connections (conn/s)"
THROUGHPUT = "iperf3 TCP throughput (Gbit/s)"
NAT_CASES = (nat.FIP, nat.SNAT)


@dataclass
class Turns:
    """One measure of one case, both controllers, round by round."""

    case: str
    metric: str
    ours: list[float] = field(default_factory=list)
    peer: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def ratios(self) -> list[float]:
        return [a / b for a, b in zip(self.ours, self.peer, strict=False) if b]

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case, "metric": self.metric, "ryu-midonet": self.ours,
                "ovn": self.peer, "ratio": self.ratio, "note": self.note}


@dataclass
class Result:
    rows: list[Turns] = field(default_factory=list)
    reason: str = ""  # why nothing was measured

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [row.to_dict() for row in self.rows], "reason": self.reason}


@contextmanager
def running(scenario: Scenario, run_dir: Path, name: str, underlay: str,
            vms: tuple[layout.VmPlan, ...] = layout.VMS) -> Iterator[Sandbox]:
    """The layout's sandbox (``vms`` on its two subnets) up and programmed by ``scenario``
    under ``name`` and ``underlay``; taken down afterwards."""
    spec = layout.sandbox(scenario.agent, scenario.api, name=name, underlay=underlay, vms=vms)
    remove_leftovers(run_dir, f"rm-{spec['name']}-")
    sb = Sandbox.from_yaml(spec, run_dir)
    try:
        sb.up()
        scenario.start(sb, run_dir)
        yield sb
    finally:
        scenario.stop()
        sb.down()


def _alternate(rounds: int, ours: Callable[[], float | None], peer: Callable[[], float | None],
               row: Turns) -> None:
    alternate(rounds, [(ours, row.ours), (peer, row.peer)])


Take = tuple[Callable[[], float | None], list[float]]


def alternate(rounds: int, takes: Sequence[Take]) -> None:
    """``rounds`` rounds of every take in order, then in the reverse order (ABBA; ABC CBA),
    each value appended to its take's list. A failed take (None) loses its round for all,
    so the lists stay aligned round by round."""
    for n in range(rounds):
        order = list(takes) if n % 2 == 0 else list(takes)[::-1]
        values = [take() for take, _ in order]
        if None in values:
            continue
        for value, (_, into) in zip(values, order, strict=True):
            into.append(float(value))  # type: ignore[arg-type]


def _rate(sb: Sandbox, case: Case, settings: Settings) -> Callable[[], float | None]:
    src, dst = sb.vm(case.src), sb.vm(case.dst)
    address = case.address or dst.ip
    port = case.port or measure.TCP_PORT

    def take() -> float | None:
        return measure.tcp_connection_rate(src, dst, settings.tcp_seconds, 1, address,
                                           port=port).value
    return take


def _stream(sb: Sandbox, case: Case, settings: Settings) -> Callable[[], float | None]:
    src, dst = sb.vm(case.src), sb.vm(case.dst)
    return lambda: measure.iperf_throughput(src, dst, settings.iperf_seconds, 1).value


def _ready(sb: Sandbox, scenario: Scenario, case: Case) -> None:
    src, dst = sb.vm(case.src), sb.vm(case.dst)
    if isinstance(case, nat.NatCase):
        scenario.configure(sb, case)
        measure.wait_seen_as(src, dst, case.address or dst.ip, case.source or src.ip)
    else:
        measure.connect(src, dst)
        measure.pin_neighbours(src, dst)


def _measure_case(pair: tuple[tuple[Sandbox, Scenario], ...], case: Case, settings: Settings,
                  result: Result, log: Log) -> None:
    rate = Turns(case.label, CONN_RATE)
    stream = Turns(case.label, THROUGHPUT)
    try:
        for sb, scenario in pair:
            _ready(sb, scenario, case)
        time.sleep(SETTLE)
        (ours_sb, _), (peer_sb, _) = pair
        _alternate(RATE_ROUNDS, _rate(ours_sb, case, settings), _rate(peer_sb, case, settings),
                   rate)
        result.rows.append(rate)
        log(f"turns, {case.label}, conn/s: {rate.ours} vs {rate.peer}")
        if not isinstance(case, nat.NatCase):
            _alternate(STREAM_ROUNDS, _stream(ours_sb, case, settings),
                       _stream(peer_sb, case, settings), stream)
            result.rows.append(stream)
            log(f"turns, {case.label}, Gbit/s: {stream.ours} vs {stream.peer}")
    except Exception as exc:  # noqa: BLE001 - a case that fails is reported, not fatal
        rate.note = f"{type(exc).__name__}: {exc}"
        result.rows.append(rate)
        log(f"turns, {case.label}: failed: {rate.note}")
    finally:
        if isinstance(case, nat.NatCase):
            for sb, scenario in pair:
                scenario.unconfigure(sb, case)


def measure_turns(run_dir: Path, settings: Settings, log: Log) -> Result:
    """Both sandboxes up at once; every case's rates taken in turns."""
    ours, peer = MidonetScenario(), OvnScenario()
    reason = peer.unavailable()
    if reason:
        return Result(reason=f"OVN unavailable: {reason}")
    result = Result()
    with ExitStack() as stack:
        try:
            log("turns: sandboxes up (ryu-midonet and OVN side by side)")
            pair = ((stack.enter_context(running(ours, run_dir / "ours", "", "")), ours),
                    (stack.enter_context(running(peer, run_dir / "peer", PEER_NAME,
                                                 PEER_UNDERLAY)), peer))
        except Exception as exc:  # noqa: BLE001
            result.reason = f"{type(exc).__name__}: {exc}"
            log(f"turns: not measured: {result.reason}")
            return result
        for case in (*layout.CASES, *NAT_CASES):
            _measure_case(pair, case, settings, result, log)
    return result


def fmt_median(values: list[float]) -> str:
    if not values:
        return "-"
    value = statistics.median(values)
    return f"{value:.3g}" if value < 10 else f"{value:.0f}"


def table(result: Result) -> str:
    """The section's table: medians of each controller and the median per-round ratio."""
    lines = ["ryu-midonet and OVN taking turns (both sandboxes up, ABBA rounds)"]
    if result.reason:
        return "\n".join([*lines, f"  not measured: {result.reason}"])
    header = f"{'case':26s}  {'measure':32s}  {'ryu-midonet':>11s}  {'OVN':>7s}  " \
             f"{'ratio':>6s}  per-round ratios"
    lines += [header, "-" * len(header)]
    for row in result.rows:
        ratio = row.ratio
        spread = " ".join(f"{r:.2f}" for r in row.ratios)
        lines.append(f"{row.case:26s}  {row.metric:32s}  {fmt_median(row.ours):>11s}  "
                     f"{fmt_median(row.peer):>7s}  {'-' if ratio is None else f'{ratio:.2f}x':>6s}"
                     f"  {spread or row.note}")
    lines.append(f"{RATE_ROUNDS} connection-rate runs and {STREAM_ROUNDS} iperf3 runs per "
                 "controller and case, the controllers alternating; ratio = the median of the "
                 "rounds' ryu-midonet / OVN; beside it each controller's median")
    return "\n".join(lines)
