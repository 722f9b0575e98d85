"""The benchmark's command line: run every controller in turn, print the table, write JSON.

    python -m ryu_midonet.bench [--faucet-venv DIR] [--output FILE] [--quick]
                                [--only ryu-midonet|faucet|ovs-normal|ovn|capacity|flood|turns|
                                        bgp|lb ...]

Needs root (namespaces, Open vSwitch). Exits 0 once ryu-midonet was measured, whatever the
peers did; 1 when ryu-midonet could not be measured at all, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from types import FrameType

from ryu_midonet.bench import bgp, capacity, flood, layout, lb, nat, turns
from ryu_midonet.bench.faucet import FaucetScenario
from ryu_midonet.bench.measure import Settings
from ryu_midonet.bench.midonet import MidonetScenario
from ryu_midonet.bench.ovn import OvnScenario
from ryu_midonet.bench.ovs_normal import NormalScenario
from ryu_midonet.bench.report import SUBJECT, CaseInfo, Report, table
from ryu_midonet.bench.runner import Log, run_scenario
from ryu_midonet.bench.scenario import Scenario

CONTROLLERS = ("ryu-midonet", "faucet", "ovs-normal", "ovn")
CAPACITY = "capacity"  # the agent's packet-in capacity (no sandbox; :mod:`.capacity`)
FLOOD = "flood"  # another port's first packet under a packet-in flood (:mod:`.flood`)
TURNS = "turns"  # ryu-midonet and OVN side by side, rates taken in turns (:mod:`.turns`)
BGP = "bgp"  # BGP uplinks: failover and announcement times, 10,000 learned routes (:mod:`.bgp`)
LB = "lb"  # new connections through a load balancer's VIP, ryu-midonet and OVN (:mod:`.lb`)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ryu_midonet.bench",
                                     description="ryu-midonet against its peers, same run")
    parser.add_argument("--faucet-venv", type=Path, default=Path(".venv-bench-faucet"),
                        help="virtual environment holding faucet (default: %(default)s)")
    parser.add_argument("--run-dir", type=Path, default=Path(".run/bench"),
                        help="sandbox and log directory (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON results file (default: RUN_DIR/results-<UTC time>.json)")
    parser.add_argument("--quick", action="store_true", help="fewer samples, for a smoke run")
    parser.add_argument("--only", nargs="+",
                        choices=(*CONTROLLERS, CAPACITY, FLOOD, TURNS, BGP, LB),
                        default=[*CONTROLLERS, CAPACITY, FLOOD, TURNS, BGP, LB],
                        help="controllers to run, 'capacity' for the agent's packet-in "
                             "capacity, 'flood' for a first packet under a packet-in "
                             "flood, 'turns' for ryu-midonet's and OVN's rates taken "
                             "in turns, 'bgp' for BGP uplinks and 'lb' for a load "
                             "balancer's VIP (default: all)")
    return parser.parse_args(argv)


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    every: dict[str, Scenario] = {"ryu-midonet": MidonetScenario(),
                                  "faucet": FaucetScenario(args.faucet_venv),
                                  "ovs-normal": NormalScenario(), "ovn": OvnScenario()}
    return [every[key] for key in CONTROLLERS if key in args.only]


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every teardown


def machine_info() -> dict[str, object]:
    def first_line(argv: list[str]) -> str:
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        except OSError:
            return ""
        return proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else ""

    return {"cpus": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version(),
            "openvswitch": first_line(["ovs-vswitchd", "--version"]),
            "iperf3": first_line(["iperf3", "--version"]),
            # "-dirty": the tree measured had changes not yet committed
            "commit": first_line(["git", "describe", "--always", "--dirty"])}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("the benchmark needs root (network namespaces, Open vSwitch)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    settings = Settings.quick() if args.quick else Settings()
    run_dir = args.run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.UTC)
    output = args.output or run_dir / f"results-{started:%Y%m%dT%H%M%SZ}.json"
    report = Report(cases=[CaseInfo(c.key, c.label, c.baseline, c.detail)
                           for c in (*layout.CASES, *nat.CASES)], controllers=[])
    report.info = {"started": started.isoformat(timespec="seconds"), "machine": machine_info(),
                   "settings": asdict(settings),
                   "sandbox": layout.sandbox() | {"agent": "per controller",
                                                  "api": "per controller"}}
    log = Log()
    t0 = time.monotonic()
    for scenario in scenarios(args):
        run_scenario(scenario, settings, run_dir / "sandbox", report, log)
    measured_capacity = None
    if CAPACITY in args.only:
        measured_capacity = capacity.measure(run_dir / "capacity", log=log)
        report.info["capacity"] = measured_capacity.to_dict()
    flooded = flood.measure(run_dir / "flood", log=log) if FLOOD in args.only else None
    if flooded is not None:
        report.info["flood"] = flooded.to_dict()
    taken = turns.measure_turns(run_dir / "turns", settings, log) if TURNS in args.only \
        else None
    if taken is not None:
        report.info["turns"] = taken.to_dict()
    uplinks = bgp.measure(run_dir / "bgp", log=log) if BGP in args.only else None
    if uplinks is not None:
        report.info["bgp"] = uplinks.to_dict()
    balanced = lb.measure_lb(run_dir / "lb", settings, log) if LB in args.only else None
    if balanced is not None:
        report.info["lb"] = balanced.to_dict()
    report.info["duration_s"] = round(time.monotonic() - t0, 1)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    print()
    commit = report.info["machine"].get("commit") or "unknown"
    print(f"ryu-midonet benchmark, {started:%Y-%m-%d %H:%M} UTC, commit {commit}, "
          f"{report.info['duration_s']} s; every controller on the same two-host sandbox "
          "(VXLAN underlay, userspace Open vSwitch), one after the other")
    print()
    if set(args.only) & set(CONTROLLERS):
        print(table(report))
        print()
    if measured_capacity is not None:
        print(capacity.table(measured_capacity))
        print()
    if flooded is not None:
        print(flood.table(flooded))
        print()
    if taken is not None:
        print(turns.table(taken))
        print()
    if uplinks is not None:
        print(bgp.table(uplinks))
        print()
    if balanced is not None:
        print(lb.table(balanced))
        print()
    print(f"results: {output}")
    measured = [m for m in report.measurements if m.controller == SUBJECT and m.value is not None]
    return 0 if measured or SUBJECT not in args.only else 1
