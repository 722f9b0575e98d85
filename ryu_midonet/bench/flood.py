"""Under a packet-in flood from one port, another port's first-packet RTT.

A sandbox of its own: one host, one bridge, three VMs. ``fa`` sends frames to ever new
destination MACs as fast as it can (each one a new flow, hence a packet-in); meanwhile ``fb``
pings ``fs`` once at a time, each time after the switch forgot the flows of ``fb``'s and
``fs``'s ports, so each echo and its reply are first packets that the agent must simulate.
The same pings without the flood are the reference: ``ratio = under flood / quiet``. The run
also gives the frames the flood sent, what the meter of the flooding port dropped and the
agent's peak resident memory.

``python -m ryu_midonet.bench --only flood`` runs this section alone.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ryu_midonet.bench import stats
from ryu_midonet.bench.measure import _rtts, pin_neighbours
from ryu_midonet.bench.section import one_host_sandbox, remove_leftovers, run_alone
from ryu_midonet.bench.vmtools import Background
from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.sandbox import Host, Sandbox, Vm

NAME = "benchfl"
SANDBOX = one_host_sandbox(NAME, 93, ("fa", "fb", "fs"))
SAMPLES = 15
FLOOD_SECONDS = 30.0  # at most: the flood stops once the samples are taken
SIMULATED = "0x0200000000000000/0xff00000000000000"  # the cookies of simulated flows

# Sends Ethernet frames to a new destination MAC each, as fast as it can, for argv[1] s or
# until stopped (SIGTERM); prints how many it sent.
FLOOD = r"""
import json, signal, socket, struct, sys, time
seconds = float(sys.argv[1])
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
src = bytes.fromhex(open("/sys/class/net/eth0/address").read().strip().replace(":", ""))
tail = src + struct.pack("!H", 0x88B5) + bytes(46)
sent = 0
end = time.monotonic() + seconds
while time.monotonic() < end and not stop:
    for _ in range(256):
        sent += 1
        try:
            s.send(b"\x02\xff" + struct.pack("!I", sent) + tail)
        except OSError:
            pass
print(json.dumps({"sent": sent}), flush=True)
"""


@dataclass
class Flood:
    """The figures of one run (RTTs in ms)."""

    quiet_ms: float | None = None
    flood_ms: float | None = None
    quiet: list[float] = field(default_factory=list)
    flooded: list[float] = field(default_factory=list)
    lost: int = 0  # first packets under the flood that got no answer within 2 s
    sent: int | None = None  # frames the flood sent
    meter_drops: int | None = None  # of them, dropped by the flooding port's meter
    agent_peak_mb: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.quiet_ms or self.flood_ms is None:
            return None
        return self.flood_ms / self.quiet_ms

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ratio": self.ratio}


def _ports(sb: Sandbox) -> dict[str, int]:
    """The topology: one bridge, a port bound to each VM; the tunnel key of each VM's port."""
    host = sb.host("h1")
    topo = Topology(Store.from_url(sb.redis_url))
    zone = topo.create("tunnelZone", {"name": NAME, "type": "vxlan"})
    topo.add_tunnel_zone_member(zone["id"], host.host_id, host.underlay_ip)
    bridge = topo.create("bridge", {"name": NAME})
    keys = {}
    for vm in sb.vms.values():
        port = topo.create("port", {}, bridge["id"])
        topo.bind(host.host_id, port["id"], vm.interface)
        keys[vm.name] = int(topo.get("port", port["id"])["tunnelKey"])
    return keys


def _ofport(host: Host, vm: Vm) -> str:
    return host.vsctl("get", "Interface", vm.interface, "ofport").strip()


def _first_packet_rtts(host: Host, src: Vm, dst: Vm, count: int) -> tuple[list[float], int]:
    """RTTs of ``count`` single echoes, each after the switch forgot both ports' flows."""
    ports = [_ofport(host, vm) for vm in (src, dst)]
    samples, lost = [], 0
    for _ in range(count):
        for ofport in ports:
            host.ofctl("del-flows", host.bridge, f"table=1,cookie={SIMULATED},in_port={ofport}")
        host.appctl("dpctl/del-flows")
        time.sleep(0.05)
        proc = src.exec(["ping", "-n", "-c", "1", "-W", "2", dst.ip], timeout=10)
        rtts = _rtts(proc.stdout)
        if rtts:
            samples.append(rtts[0])
        else:
            lost += 1
        time.sleep(0.2)
    return samples, lost


def _meter_drops(host: Host, meter_id: int) -> int | None:
    text = str(host.ofctl("meter-stats", host.bridge))
    for block in re.split(r"(?=meter:)", text)[1:]:
        if block.startswith(f"meter:{meter_id} "):
            band = re.search(r"0: packet_count:(\d+)", block)
            return int(band.group(1)) if band else None
    return None


def _agent_peak_mb(host: Host) -> float | None:
    try:
        pid = int((Path(host.run_dir) / "agent.pid").read_text().split()[0])
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, ValueError):
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) / 1024 if found else None


def measure(run_dir: Path, samples: int = SAMPLES, log: Any = print) -> Flood:
    """Run the section on a sandbox of its own; failures become the note."""
    result = Flood()
    try:
        remove_leftovers(run_dir, f"rm-{NAME}-")
        with Sandbox.from_yaml(SANDBOX, run_dir) as sb:
            log("flood: sandbox up")
            _run(sb, samples, result)
    except Exception as exc:  # noqa: BLE001 - reported, never fatal to the benchmark
        result.note = f"{type(exc).__name__}: {exc}"
        log(f"flood: stopped: {result.note}")
    log("flood: sandbox down")
    return result


def _run(sb: Sandbox, samples: int, result: Flood) -> None:
    keys = _ports(sb)
    host = sb.host("h1")
    a, b, s = sb.vm("fa"), sb.vm("fb"), sb.vm("fs")
    if not b.wait_ping(s.ip, timeout=30):
        raise RuntimeError(f"{b.name} cannot ping {s.name}")
    pin_neighbours(b, s)
    result.quiet, _ = _first_packet_rtts(host, b, s, samples)
    result.quiet_ms = stats.median(result.quiet)
    with Background.script(a, FLOOD, [str(FLOOD_SECONDS)]) as flood:
        time.sleep(1.0)  # the flood is on
        result.flooded, result.lost = _first_packet_rtts(host, b, s, samples)
        os.kill(flood.proc.pid, signal.SIGTERM)  # it prints what it sent, then ends
        out = flood.communicate(10)
    result.flood_ms = stats.median(result.flooded)
    lines = [line for line in out.splitlines() if line.strip()]
    if lines:
        result.sent = int(json.loads(lines[-1])["sent"])
    result.meter_drops = _meter_drops(host, keys["fa"])
    result.agent_peak_mb = _agent_peak_mb(host)


def table(result: Flood) -> str:
    from ryu_midonet.bench.report import fmt, fmt_ratio

    lines = ["first packet of another port under a packet-in flood",
             f"  quiet:       {fmt(result.quiet_ms)} ms (median of {len(result.quiet)})",
             f"  under flood: {fmt(result.flood_ms)} ms (median of {len(result.flooded)}"
             f"{f', {result.lost} lost' if result.lost else ''})",
             f"  ratio flood / quiet: {fmt_ratio(result.ratio)}"]
    if result.sent is not None:
        lines.append(f"  the flood: {result.sent} frames to new destinations from one port; "
                     f"its meter dropped {result.meter_drops}; agent peak RSS "
                     f"{fmt(result.agent_peak_mb)} MB")
    if result.note:
        lines.append(f"* {result.note}")
    return "\n".join(lines)


def main() -> int:
    """Run the section alone: ``python -m ryu_midonet.bench.flood``."""
    return run_alone("flood-", measure, table, lambda result: result.flood_ms is not None)


if __name__ == "__main__":
    raise SystemExit(main())
