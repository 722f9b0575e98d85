"""Results of a benchmark run: the figures, their ratios to the peers, a table and JSON.

A ratio is always ``ryu-midonet / peer`` for the same case and measure, both taken in the
same run. Whether above 1 is good depends on the measure: for times (lower is better) a ratio
of 2.0 means ryu-midonet takes twice as long; for rates (higher is better) it means twice as
many.

A case with a ``baseline`` (NAT, rule chains: no peer has them) is compared with ryu-midonet
itself instead: its ratio is ``case / baseline case``, same measure, same run, and it is listed
in a table of its own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ryu_midonet.bench import stats

SUBJECT = "ryu-midonet"
NOT_APPLICABLE = "-"
MISSING = "n/a"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    higher_is_better: bool

    @property
    def better(self) -> str:
        return "higher" if self.higher_is_better else "lower"


METRICS = (
    Metric("first_packet_rtt", "first-packet RTT, median", "ms", False),
    Metric("established_rtt", "established-flow RTT, median", "ms", False),
    Metric("tcp_connection_rate", "new TCP connections", "conn/s", True),
    Metric("throughput", "iperf3 TCP throughput", "Gbit/s", True),
    # What each new connection of the rate above cost the datapath (:mod:`.dpcost`), summed
    # over both hosts: counts that do not depend on the machine's load.
    Metric("dp_passes_per_conn", "datapath passes per connection", "lookups", False),
    Metric("upcalls_per_conn", "datapath upcalls per connection", "misses", False),
    Metric("ct_entries_per_conn", "conntrack entries per connection", "entries", False),
    Metric("vswitchd_cpu_per_conn", "ovs-vswitchd CPU per connection", "ms", False),
    Metric("dp_passes_per_mb", "iperf3: datapath passes per MB", "lookups", False),
    Metric("vswitchd_cpu_per_mb", "iperf3: ovs-vswitchd CPU per MB", "ms", False),
    Metric("block_delay", "change -> traffic stops", "ms", False),
    Metric("unblock_delay", "change undone -> traffic back", "ms", False),
)


def metric(key: str) -> Metric:
    for item in METRICS:
        if item.key == key:
            return item
    raise KeyError(key)


@dataclass(frozen=True)
class CaseInfo:
    key: str
    label: str
    baseline: str = ""  # the case of ryu-midonet's own this one is compared with
    detail: str = ""  # what the case sets up, for the notes


@dataclass
class Controller:
    """One controller of the run: ryu-midonet or a peer."""

    key: str
    label: str
    available: bool = True
    reason: str = ""
    version: str = ""
    notes: list[str] = field(default_factory=list)
    # The measures it was to take, by case: a figure missing from here is not applicable.
    planned: dict[str, list[str]] = field(default_factory=dict)

    def plans(self, case: str, metric_key: str) -> bool:
        return metric_key in self.planned.get(case, [])


@dataclass(frozen=True)
class Measurement:
    """One figure; ``value`` None means it was attempted and failed (``note`` says why)."""

    controller: str
    case: str
    metric: str
    value: float | None
    samples: list[float] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Ratio:
    case: str
    metric: str
    peer: str
    subject_value: float
    peer_value: float
    ratio: float


@dataclass(frozen=True)
class BaselineRatio:
    """A ryu-midonet figure against ryu-midonet's figure for the baseline case."""

    case: str
    metric: str
    baseline: str
    value: float
    baseline_value: float
    ratio: float


@dataclass
class Report:
    cases: list[CaseInfo]
    controllers: list[Controller]
    measurements: list[Measurement] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def add(self, item: Measurement) -> None:
        self.measurements.append(item)

    def find(self, controller: str, case: str, metric_key: str) -> Measurement | None:
        for item in self.measurements:
            if (item.controller, item.case, item.metric) == (controller, case, metric_key):
                return item
        return None

    @property
    def peers(self) -> list[Controller]:
        return [c for c in self.controllers if c.key != SUBJECT]

    def ratios(self) -> list[Ratio]:
        """Every ratio of ryu-midonet to a peer where both have a figure."""
        out = []
        for item in self.measurements:
            if item.controller != SUBJECT or item.value is None:
                continue
            for peer in self.peers:
                other = self.find(peer.key, item.case, item.metric)
                value = stats.ratio(item.value, other.value if other else None)
                if value is not None and other is not None and other.value is not None:
                    out.append(Ratio(item.case, item.metric, peer.key, item.value, other.value,
                                     value))
        return out

    def case(self, key: str) -> CaseInfo | None:
        return next((c for c in self.cases if c.key == key), None)

    def baseline_ratios(self) -> list[BaselineRatio]:
        """Every ratio of a ryu-midonet figure to its figure for the case's baseline."""
        out = []
        for item in self.measurements:
            info = self.case(item.case)
            if item.controller != SUBJECT or info is None or not info.baseline:
                continue
            other = self.find(SUBJECT, info.baseline, item.metric)
            other_value = other.value if other else None
            value = stats.ratio(item.value, other_value)
            if value is not None and item.value is not None and other_value is not None:
                out.append(BaselineRatio(item.case, item.metric, info.baseline, item.value,
                                         other_value, value))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "info": self.info,
            "metrics": [asdict(m) | {"better": m.better} for m in METRICS],
            "cases": [asdict(c) for c in self.cases],
            "controllers": [asdict(c) for c in self.controllers],
            "measurements": [asdict(m) for m in self.measurements],
            "ratios": [asdict(r) for r in self.ratios()],
            "baseline_ratios": [asdict(r) for r in self.baseline_ratios()],
        }


def fmt(value: float | None) -> str:
    """Three significant digits, without an exponent for the sizes seen here."""
    if value is None:
        return MISSING
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:#.3g}"


def fmt_ratio(value: float | None) -> str:
    return MISSING if value is None else f"{value:.2f}x"


def _cell(report: Report, controller: Controller | None, case: str, metric_key: str) -> str:
    item = report.find(controller.key, case, metric_key) if controller else None
    if item is not None:
        return fmt(item.value)
    planned = controller is not None and controller.plans(case, metric_key)
    return MISSING if planned else NOT_APPLICABLE


def rows(report: Report) -> list[list[str]]:
    """The table body: one row per case and measure that any controller was to take."""
    subject = next((c for c in report.controllers if c.key == SUBJECT), None)
    out = []
    for case in report.cases:
        if case.baseline:
            continue
        for m in METRICS:
            if not any(c.plans(case.key, m.key) or report.find(c.key, case.key, m.key)
                       for c in report.controllers):
                continue
            mine = report.find(SUBJECT, case.key, m.key)
            row = [case.label, f"{m.label} ({m.unit})", m.better,
                   _cell(report, subject, case.key, m.key)]
            for peer in report.peers:
                cell = _cell(report, peer, case.key, m.key)
                other = report.find(peer.key, case.key, m.key)
                row.append(cell)
                if cell == NOT_APPLICABLE:
                    row.append(NOT_APPLICABLE)
                else:
                    row.append(fmt_ratio(stats.ratio(mine.value if mine else None,
                                                     other.value if other else None)))
            out.append(row)
    return out


BASELINE_HEADER = ["case", "measure (unit)", "better", SUBJECT, "baseline case", "baseline",
                   "ratio"]


def baseline_peers(report: Report) -> list[Controller]:
    """The peers that were to measure a case compared with a baseline (OVN does NAT)."""
    compared = [c.key for c in report.cases if c.baseline]
    return [p for p in report.peers
            if any(p.plans(case, m.key) or report.find(p.key, case, m.key)
                   for case in compared for m in METRICS)]


def baseline_header(report: Report) -> list[str]:
    header = list(BASELINE_HEADER)
    for peer in baseline_peers(report):
        header += [peer.label, f"{SUBJECT}/{peer.label}"]
    return header


def baseline_rows(report: Report) -> list[list[str]]:
    """The body of the table of cases compared with a baseline case of ryu-midonet's own,
    then with the same case of each peer that has it (:func:`baseline_peers`)."""
    subject = next((c for c in report.controllers if c.key == SUBJECT), None)
    labels = {c.key: c.label for c in report.cases}
    peers = baseline_peers(report)
    out = []
    for case in report.cases:
        if not case.baseline:
            continue
        for m in METRICS:
            mine = report.find(SUBJECT, case.key, m.key)
            if mine is None and not any(c.plans(case.key, m.key)
                                        for c in ([subject] if subject else []) + peers):
                continue
            base = report.find(SUBJECT, case.baseline, m.key)
            row = [case.label, f"{m.label} ({m.unit})", m.better,
                   _cell(report, subject, case.key, m.key),
                   labels.get(case.baseline, case.baseline),
                   _cell(report, subject, case.baseline, m.key),
                   fmt_ratio(stats.ratio(mine.value if mine else None,
                                         base.value if base else None))]
            for peer in peers:
                cell = _cell(report, peer, case.key, m.key)
                other = report.find(peer.key, case.key, m.key)
                row += [cell, NOT_APPLICABLE if cell == NOT_APPLICABLE else fmt_ratio(
                    stats.ratio(mine.value if mine else None, other.value if other else None))]
            out.append(row)
    return out


def _render(header: list[str], body: list[list[str]], left: tuple[int, ...]) -> list[str]:
    """Columns padded to width: those numbered in ``left`` to the left, the others to the
    right; a case label repeated on consecutive rows is printed once."""
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    lines = [line(header), line(["-" * w for w in widths])]
    previous = ""
    for row in body:
        if row[0] == previous:
            row = ["", *row[1:]]
        else:
            previous = row[0]
        lines.append(line(row))
    return lines


FIRST_PACKET = (
    "first packet: before every sample the datapath flow cache of every host is flushed "
    "(ovs-appctl dpctl/del-flows), for every controller; a controller's OpenFlow flows are "
    f"removed too where it installs them on a miss ({SUBJECT}'s reactive flows), so that "
    "packet goes to the controller and the figure includes its work (the notes count the "
    "packets per sample that did; none when a proactive flow covers the path). The peers "
    "install their flows proactively (or learn MACs in the switch): their first packet is an "
    "upcall to ovs-vswitchd and never consults a controller. Each controller's note below "
    "says what it clears.")


COSTS = (
    "per connection (datapath passes, upcalls, conntrack entries, ovs-vswitchd CPU): what the "
    "connections of the rate measurement cost the datapath of both hosts, divided by the "
    "connections attempted (ovs-appctl dpif-netdev/pmd-stats-show: packets received plus "
    "recirculations, misses that went up to ovs-vswitchd; dpctl/dump-conntrack: entries to "
    "the server port; the CPU time of the ovs-vswitchd processes). The first three are counts "
    "that do not depend on the machine's load: compare those where rates and times of "
    "controllers measured minutes apart disagree. The iperf3 rows give the passes and the CPU "
    "per megabyte the stream delivered.")


def table(report: Report) -> str:
    """A plain-text table with a header line per column group, then the notes; the cases
    compared with a baseline of ryu-midonet's own follow in a second table."""
    header = ["case", "measure (unit)", "better", SUBJECT]
    for peer in report.peers:
        header += [peer.label, f"{SUBJECT}/{peer.label}"]
    lines = _render(header, rows(report), (0, 1, 2))
    lines.append("")
    lines.append(f"ratio = {SUBJECT} / peer, same case, same run; '{NOT_APPLICABLE}' = not "
                 f"measured for that controller; '{MISSING}' = planned, but no figure (see "
                 "the notes).")
    lines.append(FIRST_PACKET)
    lines.append(COSTS)
    extra = baseline_rows(report)
    if extra:
        lines.append("")
        lines.extend(_render(baseline_header(report), extra, (0, 1, 2, 4)))
        lines.append("")
        peers = [p.label for p in baseline_peers(report)]
        lines.append(f"ratio = case / baseline case, both {SUBJECT}, same measure, same run"
                     + (f"; {SUBJECT}/peer: the same case on {', '.join(peers)}, same run"
                        if peers else " (no peer here does NAT)")
                     + f"; '{MISSING}' = no figure (see the notes).")
        lines.extend(case_notes(report))
    lines.extend(notes(report))
    return "\n".join(lines)


def case_notes(report: Report) -> list[str]:
    """What each case compared with a baseline sets up, then what was taken for the figures
    of that table (those cases' and their baselines')."""
    compared = [c for c in report.cases if c.baseline]
    out = [f"* {c.label}: {c.detail}" for c in compared if c.detail]
    keys = {c.key for c in compared}
    wanted: set[tuple[str, str]] = set()
    for c in compared:
        for m in METRICS:
            if report.find(SUBJECT, c.key, m.key) is not None:
                wanted |= {(c.key, m.key), (c.baseline, m.key)}
    for c in report.cases:
        for m in METRICS:
            item = report.find(SUBJECT, c.key, m.key)
            if (c.key, m.key) not in wanted or item is None or item.value is None:
                continue
            if item.note:
                role = "" if c.key in keys else " (baseline)"
                out.append(f"* {c.label}{role}, {m.label}: {item.note}")
    return out


def notes(report: Report) -> list[str]:
    """Controllers' status and the reason of every missing figure."""
    out = []
    for c in report.controllers:
        status = f"{c.label} {c.version}".strip()
        if not c.available:
            out.append(f"* {status}: unavailable: {c.reason}")
        for note in c.notes:
            out.append(f"* {status}: {note}")
    labels = {c.key: c.label for c in report.controllers}
    case_labels = {c.key: c.label for c in report.cases}
    for item in report.measurements:
        where = (f"* {labels.get(item.controller, item.controller)}, "
                 f"{case_labels.get(item.case, item.case)}, {metric(item.metric).label}")
        if item.value is None:
            out.append(f"{where}: failed: {item.note}")
        elif item.metric == "first_packet_rtt" and item.note:
            out.append(f"{where}: {item.note}")  # what the figure includes
    return out
