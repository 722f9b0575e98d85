"""L4 load balancing: new TCP connections through a VIP, ryu-midonet and OVN taking turns.

Both sandboxes (ryu-midonet's ``lbb`` on 10.79.0.0/24, OVN's ``lbbo`` on 10.76.0.0/24) are up
at the same time, with the benchmark layout's two subnets and router ``r``, but other VMs:
eight members ``m1``-``m8`` (10.0.2.21-28, the odd ones on h1, the even ones on h2), serving
on a TCP port of the case while it runs (no two VIPs share a member address and port, which
would leave their connections to the agent), and a client per case on h1:

- ``VIP, 2 members``: ``c2`` (10.0.1.12) to 10.0.3.2:5002, members m1 (h1) and m2 (h2);
- ``VIP, 8 members``: ``c8`` (10.0.1.18) to 10.0.3.8:5001, all eight;
- ``routed to m2``: ``cr`` (10.0.1.11) to m2:5003 (cross host) through the same router, no
  VIP;
- ``VIP, m2 only``: ``ct`` (10.0.1.13) to 10.0.3.1:5201, member m2 alone: one iperf3 stream
  through a VIP (iperf3's two connections must reach one member), against one along the
  routed path to m2.

Before every take, both hosts' connection trackers are flushed (``ovs-appctl
dpctl/flush-conntrack``), on both sandboxes: each take starts from the same empty table, and
Open vSwitch 3.1.0's userspace tracker, which aborts ovs-vswitchd on an assertion in
``conn_update_state()`` after a minute or so of balanced connections through OVN's load
balancer, never holds entries long enough to get there.

ryu-midonet: a load balancer on router ``r``, a ROUND_ROBIN pool per VIP (weight 1, no
session persistence). OVN: an ``ovn-nbctl lb-add`` per VIP, applied on the clients' switch
``net1``. Each round measures every case of one controller, then every case of the other,
the order reversed each round (ABBA), so the two controllers and the three cases share the
machine's load; each ratio is the median of the rounds' ratios. First, in the same turns, the
first connection's latency (connect to answer) right after the datapath forgot the flows.

``python -m ryu_midonet.bench --only lb`` (``make bench BENCH_ONLY=lb``) runs this section.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ryu_midonet.bench import measure, turns
from ryu_midonet.bench.layout import VmPlan
from ryu_midonet.bench.measure import Settings
from ryu_midonet.bench.midonet import MidonetScenario
from ryu_midonet.bench.ovn import OvnScenario
from ryu_midonet.bench.ovn_nb import load_balancer, transaction
from ryu_midonet.bench.runner import SETTLE, Log
from ryu_midonet.bench.scenario import Scenario
from ryu_midonet.bench.section import run_alone
from ryu_midonet.bench.turns import Turns, fmt_median, running
from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.sandbox import Sandbox

NAME, UNDERLAY = "lbb", "10.79.0.0/24"
PEER_NAME, PEER_UNDERLAY = "lbbo", "10.76.0.0/24"
PORT = measure.TCP_PORT
CLIENTS = tuple(VmPlan(name, "h1", f"10.0.1.{n}", f"02:00:00:00:01:{n}")
                for name, n in (("cr", 11), ("c2", 12), ("ct", 13), ("c8", 18)))
MEMBERS = tuple(VmPlan(f"m{n}", "h1" if n % 2 else "h2", f"10.0.2.{20 + n}",
                       f"02:00:00:00:02:{20 + n}") for n in range(1, 9))
VMS = (*CLIENTS, *MEMBERS)
RATE_ROUNDS = turns.RATE_ROUNDS
FIRST_ROUNDS, FIRST_REPS = 2, 5
STREAM_ROUNDS = turns.STREAM_ROUNDS
CONN_RATE, FIRST, THROUGHPUT = ("new TCP connections (conn/s)", "first connection (ms)",
                                turns.THROUGHPUT)


@dataclass(frozen=True)
class LbCase:
    """Connections from ``client`` to ``address`` (a VIP, or the one member's own address)
    served by ``members``."""

    key: str
    label: str
    client: str
    address: str
    members: tuple[str, ...]
    port: int = PORT

    @property
    def vip(self) -> bool:
        return self.address != _plan(self.members[0]).ip


def _plan(name: str) -> VmPlan:
    return next(vm for vm in VMS if vm.name == name)


# every VIP's members serve on a port of their own (a member endpoint that serves several VIPs
# is left to the agent), and the routed case reaches m2 on a port no VIP uses
VIP2 = LbCase("vip-2", "VIP, 2 members", "c2", "10.0.3.2", ("m1", "m2"), PORT + 1)
VIP8 = LbCase("vip-8", "VIP, 8 members", "c8", "10.0.3.8", tuple(m.name for m in MEMBERS))
DIRECT = LbCase("routed", "routed to m2 (cross host)", "cr", "10.0.2.22", ("m2",), PORT + 2)
VIP1 = LbCase("vip-1", "VIP, m2 only", "ct", "10.0.3.1", ("m2",), measure.IPERF_PORT)
CASES = (VIP2, VIP8, DIRECT)
FIRST_CASES = (VIP2, DIRECT)
STREAM_CASES = (VIP1, DIRECT)
BALANCED = (VIP2, VIP8, VIP1)


@dataclass
class Result:
    """The rate rows (one per case), the first-connection rows, and notes."""

    rows: list[Turns] = field(default_factory=list)
    first: list[Turns] = field(default_factory=list)
    streams: list[Turns] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reason: str = ""  # why nothing was measured

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [row.to_dict() for row in self.rows],
                "first_connection": [row.to_dict() for row in self.first],
                "streams": [row.to_dict() for row in self.streams],
                "vip_over_routed": {f"{row.case}, {row.metric}": {
                    side: vip_over_routed(rows, row.case, side) for side in ("ours", "peer")}
                    for rows in (self.rows, self.streams) for row in rows
                    if row.case != DIRECT.label},
                "notes": self.notes, "reason": self.reason}


def vip_over_routed(rows: list[Turns], label: str, side: str) -> list[float]:
    """A VIP case's figure over the routed case's (of the same rows), round by round, for one
    controller (``side`` "ours" or "peer"): both were taken in the same round."""
    vip = next((row for row in rows if row.case == label), None)
    direct = next((row for row in rows if row.case == DIRECT.label), None)
    if vip is None or direct is None:
        return []
    return [a / b for a, b in zip(getattr(vip, side), getattr(direct, side), strict=False) if b]


def balance_ours(sb: Sandbox, router_id: str) -> None:
    """A load balancer on router ``r``, a pool and a VIP per VIP case (in the store, as the
    REST API writes them)."""
    store = Store.from_url(sb.redis_url)
    try:
        topo = Topology(store)
        balancer = topo.create("loadBalancer", {"routerId": router_id})
        for case in BALANCED:
            pool = topo.create("pool", {"loadBalancerId": balancer["id"],
                                        "lbMethod": "ROUND_ROBIN"})
            for member in case.members:
                topo.create("poolMember", {"poolId": pool["id"], "address": _plan(member).ip,
                                           "protocolPort": case.port})
            topo.create("vip", {"poolId": pool["id"], "address": case.address,
                                "protocolPort": case.port})
    finally:
        store.redis.close()


def balance_peer(peer: OvnScenario) -> None:
    for case in BALANCED:
        peer.nbctl(*transaction(load_balancer(
            f"lb-{case.key}", case.address, case.port, [_plan(m).ip for m in case.members],
            "net1")))
    peer.nbctl("--wait=hv", "sync")


def _ready(sb: Sandbox) -> None:
    """Each case's members reachable from its client, neighbours pinned, each VIP in effect
    (a connection through it reaches its first member, which sees the client's own
    address)."""
    for case in (*CASES, VIP1):
        client, members = sb.vm(case.client), [sb.vm(m) for m in case.members]
        for member in members:
            measure.connect(client, member)
        measure.pin_neighbours(client, *members)
        measure.wait_seen_as(client, members[0], case.address, client.ip, timeout=30.0,
                             port=case.port)


def _rate(sb: Sandbox, scenario: Scenario, case: LbCase, settings: Settings,
          row: Turns) -> Callable[[], float | None]:
    client, servers = sb.vm(case.client), [sb.vm(m) for m in case.members]

    def take() -> float | None:
        forget_connections(sb)
        result = measure.tcp_connection_rate(
            client, servers[0], settings.tcp_seconds, 1, case.address,
            lambda: scenario.upcalls(sb), case.port, servers)
        if "controller" in result.note:
            row.note = result.note  # the last run's misses per connection
        return result.value
    return take


def _first(sb: Sandbox, scenario: Scenario, case: LbCase) -> Callable[[], float | None]:
    client, servers = sb.vm(case.client), [sb.vm(m) for m in case.members]

    def take() -> float | None:
        forget_connections(sb)
        return measure.first_connection(client, servers, case.address, case.port,
                                        lambda: scenario.clear(sb), FIRST_REPS).value
    return take


def _stream(sb: Sandbox, case: LbCase, settings: Settings) -> Callable[[], float | None]:
    client, member = sb.vm(case.client), sb.vm(case.members[0])

    def take() -> float | None:
        forget_connections(sb)
        return measure.iperf_throughput(client, member, settings.iperf_seconds, 1,
                                        case.address).value
    return take


def forget_connections(sb: Sandbox) -> None:
    """Empty the connection tracker of every host of ``sb``."""
    for host in sb.hosts.values():
        host.appctl("dpctl/flush-conntrack")


def measure_lb(run_dir: Path, settings: Settings, log: Log) -> Result:
    """Both sandboxes up at once; every case's rates, then first connections, in turns."""
    ours, peer = MidonetScenario(VMS), OvnScenario(VMS)
    reason = peer.unavailable()
    if reason:
        return Result(reason=f"OVN unavailable: {reason}")
    result = Result()
    with ExitStack() as stack:
        try:
            log("lb: sandboxes up (ryu-midonet and OVN side by side)")
            our_sb = stack.enter_context(running(ours, run_dir / "ours", NAME, UNDERLAY, VMS))
            balance_ours(our_sb, ours.router_id)
            peer_sb = stack.enter_context(running(peer, run_dir / "peer", PEER_NAME,
                                                  PEER_UNDERLAY, VMS))
            balance_peer(peer)
            for sb in (our_sb, peer_sb):
                _ready(sb)
        except Exception as exc:  # noqa: BLE001 - reported, never fatal to the benchmark
            result.reason = f"{type(exc).__name__}: {exc}"
            log(f"lb: not measured: {result.reason}")
            return result
        time.sleep(SETTLE)
        sides = ((our_sb, ours), (peer_sb, peer))
        _turns(result, result.first, FIRST_CASES, FIRST, FIRST_ROUNDS, log,
               lambda sb, sc, case, row: _first(sb, sc, case), sides)
        _turns(result, result.rows, CASES, CONN_RATE, RATE_ROUNDS, log,
               lambda sb, sc, case, row: _rate(sb, sc, case, settings, row), sides)
        _turns(result, result.streams, STREAM_CASES, THROUGHPUT, STREAM_ROUNDS, log,
               lambda sb, sc, case, row: _stream(sb, case, settings), sides)
    return result


def _turns(result: Result, rows: list[Turns], cases: tuple[LbCase, ...], metric: str,
           rounds: int, log: Log,
           make: Callable[[Sandbox, Scenario, LbCase, Turns], Callable[[], float | None]],
           sides: tuple[tuple[Sandbox, Scenario], ...]) -> None:
    """Every case of one controller, then of the other, ``rounds`` times in ABBA order."""
    new = [Turns(case.label, metric) for case in cases]
    takes: list[turns.Take] = []
    for n, (sb, scenario) in enumerate(sides):
        takes += [(make(sb, scenario, case, row), row.ours if n == 0 else row.peer)
                  for case, row in zip(cases, new, strict=True)]
    try:
        turns.alternate(rounds, takes)
    except Exception as exc:  # noqa: BLE001 - what was measured stays, the rest is a note
        result.notes.append(f"{metric}: stopped: {type(exc).__name__}: {exc}")
        log(f"lb, {metric}: stopped: {exc}")
    rows.extend(new)
    for row in new:
        log(f"lb, {row.case}, {metric}: {row.ours} vs {row.peer}")


def _ratio(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}x" if values else "-"


def table(result: Result) -> str:
    """The section's table: each case's medians and ratio (rates, first connections,
    throughput), then each VIP's figure over the routed one, per controller."""
    lines = ["L4 load balancer: ryu-midonet and OVN taking turns (both sandboxes up, ABBA "
             "rounds)"]
    if result.reason:
        return "\n".join([*lines, f"  not measured: {result.reason}"])
    header = (f"{'case':26s}  {'measure':30s}  {'ryu-midonet':>11s}  {'OVN':>7s}  "
              f"{'ratio':>6s}  per-round ratios")
    lines += [header, "-" * len(header)]
    for row in (*result.rows, *result.first, *result.streams):
        spread = " ".join(f"{r:.2f}" for r in row.ratios)
        lines.append(f"{row.case:26s}  {row.metric:30s}  {fmt_median(row.ours):>11s}  "
                     f"{fmt_median(row.peer):>7s}  {_ratio(row.ratios):>6s}  {spread}")
    for rows, unit in ((result.rows, "conn/s"), (result.streams, "Gbit/s")):
        lines += _over_routed(rows, unit)
    lines.append(f"{RATE_ROUNDS} connection-rate runs per controller and case, "
                 f"{FIRST_ROUNDS}x{FIRST_REPS} first connections, {STREAM_ROUNDS} iperf3 runs; "
                 "ratio = the median of the rounds' ryu-midonet / OVN; '/ routed': the median "
                 "of the rounds' VIP figure over the routed one of the same controller "
                 "(ryu-midonet | OVN per round)")
    for row in result.rows:
        if row.note:
            lines.append(f"* ryu-midonet, {row.case}: {row.note}")
    lines += [f"* {note}" for note in result.notes]
    return "\n".join(lines)


def _over_routed(rows: list[Turns], unit: str) -> list[str]:
    lines = []
    for row in rows:
        if row.case == DIRECT.label:
            continue
        ours, peer = (vip_over_routed(rows, row.case, side) for side in ("ours", "peer"))
        lines.append(f"{row.case + ' / routed':26s}  {unit + ' over routed to m2':30s}  "
                     f"{_ratio(ours):>11s}  {_ratio(peer):>7s}  {'':6s}  "
                     + " ".join(f"{r:.2f}" for r in ours) + " | "
                     + " ".join(f"{r:.2f}" for r in peer))
    return lines


def main() -> int:
    """Run the section alone: ``python -m ryu_midonet.bench.lb``."""
    return run_alone("lb-", lambda work: measure_lb(work, Settings(), Log()), table,
                     lambda result: bool(result.rows))


if __name__ == "__main__":
    raise SystemExit(main())
