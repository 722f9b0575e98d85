"""The measurements, each on one traffic case of a running sandbox.

Every function returns plain numbers (or raises with a reason); none of them knows which
controller programs the switches. Hooks that differ per controller are passed in.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from ryu_midonet.bench import stats
from ryu_midonet.bench.vmtools import (
    ICMP_PROBER,
    ONE_CONNECTION,
    PEER_CLIENT,
    PEER_SERVER,
    TCP_CLIENT,
    TCP_SERVER,
    Background,
    run_json,
)
from ryu_midonet.sandbox import Vm

_RTT = re.compile(r"time[=<]([0-9.]+) ms")
TCP_PORT = 5001
PEER_PORT = 5002
IPERF_PORT = 5201
TCP_MOST = 100_000  # connections in one run at most (a bound, never reached here)


@dataclass(frozen=True)
class Settings:
    """How much of each measurement to take."""

    first_packet_reps: int = 20
    echo_count: int = 50
    tcp_runs: int = 3
    tcp_seconds: float = 1.5
    iperf_runs: int = 3
    iperf_seconds: int = 3
    probe_interval: float = 0.005
    probe_baseline: float = 1.0
    change_window: float = 4.0

    @classmethod
    def quick(cls) -> Settings:
        return cls(first_packet_reps=5, echo_count=10, tcp_runs=1, tcp_seconds=1.0,
                   iperf_runs=1, iperf_seconds=2, change_window=3.0)


@dataclass(frozen=True)
class Sampled:
    value: float | None
    samples: list[float]
    note: str = ""
    # What the figure is over, where that matters: connections attempted, bytes received.
    count: int = 0


def _rtts(text: str) -> list[float]:
    return [float(m) for m in _RTT.findall(text)]


def connect(src: Vm, dst: Vm, timeout: float = 15.0) -> None:
    """Wait until ``src`` reaches ``dst`` (paths may be built on the first packets)."""
    if not src.wait_ping(dst.ip, timeout):
        raise RuntimeError(f"{src.name} cannot ping {dst.name} ({dst.ip}) within {timeout:.0f} s")


def pin_neighbours(*vms: Vm) -> None:
    """Turn the VMs' resolved ARP entries permanent, so no ARP exchange lands in a sample."""
    for vm in vms:
        proc = vm.exec(["ip", "-j", "neigh", "show", "dev", vm.nic], check=True)
        for entry in json.loads(proc.stdout or "[]"):
            if entry.get("lladdr") and "PERMANENT" not in entry.get("state", []):
                vm.exec(["ip", "neigh", "replace", entry["dst"], "lladdr", entry["lladdr"],
                         "dev", vm.nic, "nud", "permanent"], check=True)


def first_packet_rtt(src: Vm, dst: Vm, clear: Callable[[], None], reps: int,
                     upcalls: Callable[[], int | None] | None = None) -> Sampled:
    """RTT of a single echo right after ``clear`` removed what the datapath knew of the flow.

    ``upcalls`` (when the controller can tell) counts the packets sent to the controller so
    far; the note then gives their number per sample (the echo and its reply).
    """
    samples: list[float] = []
    lost = 0
    sent_up: int | None = 0 if upcalls else None
    for _ in range(reps):
        clear()
        time.sleep(0.05)
        before = upcalls() if upcalls else None
        proc = src.exec(["ping", "-n", "-c", "1", "-W", "2", dst.ip], timeout=10)
        after = upcalls() if upcalls else None
        if sent_up is not None:
            sent_up = None if before is None or after is None else sent_up + after - before
        rtts = _rtts(proc.stdout)
        if rtts:
            samples.append(rtts[0])
        else:
            lost += 1
    notes = [f"{lost} of {reps} first packets got no answer within 2 s"] if lost else []
    per_sample = stats.per_item(sent_up, reps)
    if per_sample is not None:
        notes.append(f"{per_sample:.2f} packets per sample went to the controller")
    return Sampled(stats.median(samples), samples, "; ".join(notes))


def established_rtt(src: Vm, dst: Vm, count: int) -> Sampled:
    """RTTs of echoes on a flow that is already installed (one every 10 ms)."""
    proc = src.exec(["ping", "-n", "-c", str(count), "-i", "0.01", "-W", "2", dst.ip],
                    timeout=count * 0.01 + 15)
    samples = _rtts(proc.stdout)
    if not samples:
        raise RuntimeError(f"no echo answered: {proc.stdout.strip()[-200:]}")
    lost = count - len(samples)
    return Sampled(stats.median(samples), samples, f"{lost} of {count} lost" if lost else "")


def tcp_connection_rate(src: Vm, dst: Vm, seconds: float, runs: int, address: str = "",
                        upcalls: Callable[[], int | None] | None = None,
                        port: int = TCP_PORT, servers: Sequence[Vm] = ()) -> Sampled:
    """New TCP connections per second, the median of ``runs`` runs of ``seconds`` each: one
    client, one connection at a time, each a 1-byte exchange before both ends close. The
    client connects to ``address`` (a NAT address or a VIP) or else to ``dst``'s own address,
    on ``port``; a server runs on ``dst``, or on each of ``servers`` (a VIP's members).

    ``upcalls`` (when the controller can tell) counts the packets that missed the flow tables
    and went to the controller so far, on every host; the note then gives their number per
    connection attempted (the client's warm-up connections included).
    """
    rates: list[float] = []
    total = failures = attempts = 0
    sent_up: int | None = 0 if upcalls else None
    for _ in range(runs):
        before = upcalls() if upcalls else None
        run = _tcp_run(src, servers or (dst,), seconds, address or dst.ip, port)
        after = upcalls() if upcalls else None
        total, failures = total + run.done, failures + run.failed
        attempts += run.done + run.failed + run.warmup
        if sent_up is not None:
            sent_up = None if before is None or after is None else sent_up + after - before
        if run.done:
            rates.append(run.done / run.elapsed)
    if not rates:
        raise RuntimeError(f"no connection succeeded ({failures} failed)")
    note = f"{total} connections in {runs} runs of {seconds:g} s"
    if failures:
        note += f", {failures} failed"
    per_connection = stats.per_item(sent_up, attempts)
    if per_connection is not None:
        note += (f", {per_connection:.2f} packets per connection missed the flow tables "
                 "(sent to the controller)")
    return Sampled(stats.median(rates), rates, note, attempts)


@dataclass(frozen=True)
class _TcpRun:
    done: int
    failed: int
    elapsed: float
    warmup: int


def _tcp_run(src: Vm, servers: Sequence[Vm], seconds: float, address: str,
             port: int) -> _TcpRun:
    with _tcp_servers(servers, port, seconds + 20):
        result = run_json(src, TCP_CLIENT, [address, str(port), str(seconds), str(TCP_MOST)],
                          timeout=seconds + 30)
    if "error" in result:
        raise RuntimeError(str(result["error"]))
    return _TcpRun(int(result["done"]), int(result["failed"]), float(result["elapsed"]),
                   int(result.get("warmup", 1)))


@contextmanager
def _tcp_servers(vms: Sequence[Vm], port: int, limit: float) -> Iterator[None]:
    """:data:`TCP_SERVER` on ``port`` of every VM of ``vms``, for ``limit`` seconds at most,
    all listening when this is entered."""
    with ExitStack() as stack:
        started = [stack.enter_context(Background.script(vm, TCP_SERVER, [
            str(port), str(TCP_MOST + 1), str(limit)])) for vm in vms]
        for server in started:
            if server.wait_line(10) != "ready":
                raise RuntimeError(f"{server.name}: the TCP server did not start")
        yield


def first_connection(src: Vm, servers: Sequence[Vm], address: str, port: int,
                     clear: Callable[[], None], reps: int) -> Sampled:
    """Milliseconds from ``connect()`` to the answer of a 1-byte exchange, for one TCP
    connection from ``src`` to ``address``:``port`` right after ``clear`` removed what the
    datapath knew of the flows; a server on each of ``servers``. A failed attempt counts in
    the note, not in the samples."""
    samples: list[float] = []
    failed: list[str] = []
    with _tcp_servers(servers, port, reps * 15.0 + 20):
        for _ in range(reps):
            clear()
            time.sleep(0.05)
            result = run_json(src, ONE_CONNECTION, [address, str(port)], timeout=20)
            if "error" in result:
                failed.append(str(result["error"]))
            else:
                samples.append(float(result["ms"]))
    if not samples:
        raise RuntimeError(f"no connection succeeded: {failed[-1] if failed else ''}")
    note = f"{len(failed)} of {reps} failed (last: {failed[-1]})" if failed else ""
    return Sampled(stats.median(samples), samples, note, reps)


def wait_seen_as(src: Vm, dst: Vm, address: str, seen_as: str, timeout: float = 20.0,
                 port: int = PEER_PORT) -> int:
    """Wait until a TCP connection from ``src`` to ``address``:``port`` reaches ``dst`` and
    ``dst`` sees it come from ``seen_as``: a configuration (NAT, a VIP) is in effect on the
    whole path.

    Returns the number of connections it took; raises with what was seen last.
    """
    with Background.script(dst, PEER_SERVER, [str(port), str(timeout + 10)]) as server:
        if server.wait_line(10) != "ready":
            raise RuntimeError("the TCP server did not start")
        result = run_json(src, PEER_CLIENT, [address, str(port), seen_as, str(timeout)],
                          timeout=timeout + 15)
    if "error" in result:
        raise RuntimeError(f"no TCP connection from {src.name} to {address}:{port} came "
                           f"through as {seen_as} within {timeout:g} s "
                           f"({result.get('tries')} tries; last: {result['error']})")
    return int(result["tries"])


def iperf_throughput(src: Vm, dst: Vm, seconds: int, runs: int, address: str = "") -> Sampled:
    """TCP throughput of one iperf3 stream from ``src`` to ``dst`` (at ``address``, a VIP,
    when given) in Gbit/s, the median of ``runs`` runs of ``seconds`` each."""
    if shutil.which("iperf3") is None:
        raise RuntimeError("iperf3 is not installed (Debian package iperf3)")
    results = [_iperf_run(src, dst, seconds, address or dst.ip) for _ in range(runs)]
    rates = [rate for rate, _, _ in results]
    retransmits = sum(count for _, count, _ in results)
    return Sampled(stats.median(rates), rates,
                   f"one stream, {runs} runs of {seconds} s, {retransmits} retransmitted "
                   "segments in all", sum(received for _, _, received in results))


def _iperf_run(src: Vm, dst: Vm, seconds: int, address: str) -> tuple[float, int, int]:
    """Gbit/s received, the segments the sender retransmitted and the bytes received."""
    with Background(dst, ["iperf3", "-s", "-1", "-p", str(IPERF_PORT)]):
        result: dict[str, Any] = {}
        for _ in range(25):  # the server needs a moment before it listens
            proc = src.exec(["iperf3", "-c", address, "-p", str(IPERF_PORT), "-t", str(seconds),
                             "-J"], timeout=seconds + 20)
            result = json.loads(proc.stdout or "{}")
            if "refused" not in str(result.get("error", "")):
                break
            time.sleep(0.2)
    if result.get("error") or "end" not in result:
        raise RuntimeError(f"iperf3: {result.get('error', 'no result')}")
    return (float(result["end"]["sum_received"]["bits_per_second"]) / 1e9,
            int(result["end"].get("sum_sent", {}).get("retransmits", 0)),
            int(result["end"]["sum_received"].get("bytes", 0)))


@dataclass(frozen=True)
class ChangeTimes:
    block: Sampled
    unblock: Sampled


def change_to_effect(src: Vm, dst: Vm, block: Callable[[], None], unblock: Callable[[], None],
                     settings: Settings) -> ChangeTimes:
    """Echoes every few ms from ``src`` to ``dst`` while ``block`` and later ``unblock`` run.

    The times are from the call of each hook to the send time of the first probe that shows
    its effect (:func:`stats.effect_delay`); their resolution is the probe interval.
    """
    window = settings.change_window
    duration = settings.probe_baseline + 2 * window + 1.0
    prober = Background.script(src, ICMP_PROBER, [dst.ip, str(settings.probe_interval),
                                                  str(duration)])
    started = time.time()
    try:
        time.sleep(settings.probe_baseline)
        t_block = time.time()
        block()
        block_call = time.time() - t_block
        time.sleep(max(0.0, t_block + window - time.time()))
        t_unblock = time.time()
        unblock()
        unblock_call = time.time() - t_unblock
        data = json.loads(prober.communicate(timeout=duration + 15) or "{}")
    finally:
        prober.stop()
    sent: list[float] = [float(t) for t in data.get("sent", [])]
    answered_ids = set(data.get("answered", []))
    answered = [i in answered_ids for i in range(len(sent))]
    before = [ok for t, ok in zip(sent, answered, strict=True) if started <= t < t_block]
    if not any(before):
        raise RuntimeError("no probe was answered before the change")
    end = sent[-1] + 1.0 if sent else t_unblock
    block_delay = stats.effect_delay(sent, answered, t_block, t_unblock, answered_after=False)
    unblock_delay = stats.effect_delay(sent, answered, t_unblock, end, answered_after=True)
    return ChangeTimes(_change(block_delay, block_call, "traffic never stopped"),
                       _change(unblock_delay, unblock_call, "traffic never came back"))


def _change(delay: float | None, call: float, missing: str) -> Sampled:
    note = f"the change call itself took {call * 1000:.1f} ms"
    if delay is None:
        return Sampled(None, [], f"{missing} (observed for the whole window); {note}")
    return Sampled(delay * 1000, [], note)
