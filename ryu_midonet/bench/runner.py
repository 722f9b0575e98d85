"""One controller's turn: a fresh sandbox from the shared description, its cases, teardown."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ryu_midonet.bench import dpcost, layout, measure
from ryu_midonet.bench.layout import Case
from ryu_midonet.bench.measure import Sampled, Settings
from ryu_midonet.bench.report import Controller, Measurement, Report
from ryu_midonet.bench.scenario import Scenario
from ryu_midonet.bench.section import remove_leftovers
from ryu_midonet.sandbox import Sandbox

CASE_METRICS = ("first_packet_rtt", "established_rtt", "tcp_connection_rate", "throughput")
CHANGE_METRICS = ("block_delay", "unblock_delay")
CONFIGURED_METRICS = ("tcp_connection_rate",)
# After a configuration change, before counting the packets sent to the controller: when
# Open vSwitch revalidates its datapath flows after the rules changed (every 500 ms at most),
# it can credit earlier traffic to the miss flow (seen once right after a router's chains
# changed: thousands of packets counted while no traffic ran).
SETTLE = 1.0


class Log:
    """Progress lines on standard error, with the seconds since the start."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.start:6.1f}s] {message}", file=sys.stderr, flush=True)


def run_scenario(scenario: Scenario, settings: Settings, run_dir: Path, report: Report,
                 log: Log) -> None:
    """Measure every case of ``scenario``; failures become notes, never exceptions."""
    controller = Controller(scenario.key, scenario.label)
    for case in scenario.cases:
        controller.planned.setdefault(case.key, []).extend(
            (*CASE_METRICS, *dpcost.METRICS, *dpcost.STREAM_METRICS))
    for case in scenario.change_cases:
        controller.planned.setdefault(case.key, []).extend(CHANGE_METRICS)
    for case in scenario.configured_cases:
        controller.planned.setdefault(case.key, []).extend(
            (*CONFIGURED_METRICS, *dpcost.METRICS))
    report.controllers.append(controller)
    reason = scenario.unavailable()
    controller.version = scenario.version()
    if reason:
        controller.available, controller.reason = False, reason
        log(f"{scenario.label}: unavailable: {reason}")
        return
    controller.notes += [note for note in (scenario.clear_note, scenario.change_note) if note]
    # Controllers run one after the other: what else loaded the machine shows here.
    controller.notes.append(f"load average (1 min) when its run began: {os.getloadavg()[0]:.2f}")
    remove_leftovers(run_dir, layout.NAMESPACE_PREFIX)
    sb = Sandbox.from_yaml(layout.sandbox(scenario.agent, scenario.api), run_dir)
    before = len(report.measurements)
    try:
        log(f"{scenario.label}: sandbox up")
        sb.up()
        scenario.start(sb, run_dir)
        for case in scenario.cases:
            _measure_case(sb, scenario, case, settings, report, log)
        for case in scenario.change_cases:
            _measure_change(sb, scenario, case, settings, report, log)
        for case in scenario.configured_cases:
            _measure_configured(sb, scenario, case, settings, report, log)
    except Exception as exc:  # noqa: BLE001 - a controller that fails is reported, not fatal
        message = f"{type(exc).__name__}: {exc}"
        log(f"{scenario.label}: stopped: {message}")
        if len(report.measurements) == before:
            controller.available, controller.reason = False, message
        else:
            controller.notes.append(f"stopped early: {message}")
    finally:
        scenario.stop()
        sb.down()
        log(f"{scenario.label}: sandbox down")


def _record(report: Report, scenario: Scenario, case: Case, key: str,
            take: Callable[[], Sampled], log: Log) -> None:
    try:
        result = take()
    except Exception as exc:  # noqa: BLE001
        report.add(Measurement(scenario.key, case.key, key, None, note=str(exc)))
        log(f"{scenario.label}, {case.label}, {key}: failed: {exc}")
        return
    report.add(Measurement(scenario.key, case.key, key, result.value, result.samples,
                           result.note))
    log(f"{scenario.label}, {case.label}, {key}: {result.value}")


def _with_cost(sb: Sandbox, take: Callable[[], Sampled], scenario: Scenario, case: Case,
               report: Report, log: Log, stream: bool = False) -> Callable[[], Sampled]:
    """``take`` (a connection rate to ``case``'s server port, or with ``stream`` an iperf3
    throughput) that also records what it cost the datapath (:mod:`.dpcost`), per connection
    attempted or per megabyte received."""
    port = case.port or measure.TCP_PORT

    def counters() -> dpcost.Counters | None:
        try:
            return dpcost.snapshot(sb, port)
        except Exception as exc:  # noqa: BLE001 - the figure stands without its cost
            log(f"{scenario.label}, {case.label}: datapath counters unreadable: {exc}")
            return None

    def taking() -> Sampled:
        before = counters()
        result = take()
        after = counters() if before is not None else None
        if before is None or after is None:
            return result
        spent = after - before
        costs = (spent.per_megabyte(result.count) if stream
                 else spent.per_connection(result.count))
        for key, value in costs.items():
            report.add(Measurement(scenario.key, case.key, key, value))
        return result

    return taking


def _measure_case(sb: Sandbox, scenario: Scenario, case: Case, settings: Settings,
                  report: Report, log: Log) -> None:
    src, dst = sb.vm(case.src), sb.vm(case.dst)
    try:
        measure.connect(src, dst)
        measure.pin_neighbours(src, dst)
    except Exception as exc:  # noqa: BLE001
        for key in CASE_METRICS:
            report.add(Measurement(scenario.key, case.key, key, None, note=str(exc)))
        log(f"{scenario.label}, {case.label}: no connectivity: {exc}")
        return

    def established() -> Sampled:
        measure.connect(src, dst)
        return measure.established_rtt(src, dst, settings.echo_count)

    steps: dict[str, Callable[[], Sampled]] = {
        "first_packet_rtt": lambda: measure.first_packet_rtt(
            src, dst, lambda: scenario.clear(sb), settings.first_packet_reps,
            lambda: scenario.upcalls(sb)),
        "established_rtt": established,
        "tcp_connection_rate": _with_cost(sb, lambda: measure.tcp_connection_rate(
            src, dst, settings.tcp_seconds, settings.tcp_runs,
            upcalls=lambda: scenario.upcalls(sb)), scenario, case, report, log),
        "throughput": _with_cost(sb, lambda: measure.iperf_throughput(
            src, dst, settings.iperf_seconds, settings.iperf_runs), scenario, case, report, log,
            stream=True),
    }
    for key, take in steps.items():
        _record(report, scenario, case, key, take, log)


def _measure_change(sb: Sandbox, scenario: Scenario, case: Case, settings: Settings,
                    report: Report, log: Log) -> None:
    src, dst = sb.vm(case.src), sb.vm(case.dst)
    try:
        measure.connect(src, dst)
        times = measure.change_to_effect(src, dst, lambda: scenario.block(sb, case),
                                         lambda: scenario.unblock(sb, case), settings)
    except Exception as exc:  # noqa: BLE001
        for key in CHANGE_METRICS:
            report.add(Measurement(scenario.key, case.key, key, None, note=str(exc)))
        log(f"{scenario.label}, {case.label}: change timing failed: {exc}")
        return
    for key, result in zip(CHANGE_METRICS, (times.block, times.unblock), strict=True):
        _record(report, scenario, case, key, lambda r=result: r, log)


def _measure_configured(sb: Sandbox, scenario: Scenario, case: Case, settings: Settings,
                        report: Report, log: Log) -> None:
    """Put the case's configuration in place, wait until traffic shows it, measure, remove it.

    A configuration that cannot be removed stops the controller's run (the next case would
    be measured on top of it).
    """
    src, dst = sb.vm(case.src), sb.vm(case.dst)
    address, seen_as = case.address or dst.ip, case.source or src.ip
    try:
        t0 = time.monotonic()
        scenario.configure(sb, case)
        tries = measure.wait_seen_as(src, dst, address, seen_as)
        log(f"{scenario.label}, {case.label}: in effect after {time.monotonic() - t0:.1f} s "
            f"({tries} connections to {address} until {dst.name} saw one from {seen_as})")
        time.sleep(SETTLE)
    except Exception as exc:  # noqa: BLE001
        for key in CONFIGURED_METRICS:
            report.add(Measurement(scenario.key, case.key, key, None, note=str(exc)))
        log(f"{scenario.label}, {case.label}: not in effect: {exc}")
    else:
        _record(report, scenario, case, "tcp_connection_rate", _with_cost(
            sb, lambda: measure.tcp_connection_rate(src, dst, settings.tcp_seconds,
                                                    settings.tcp_runs, address,
                                                    lambda: scenario.upcalls(sb),
                                                    case.port or measure.TCP_PORT),
            scenario, case, report, log), log)
    finally:
        scenario.unconfigure(sb, case)
