"""What each new connection costs the datapath, counted rather than timed.

Around a connection-rate measurement, every host's userspace datapath is read before and
after (``ovs-appctl dpif-netdev/pmd-stats-show``, ``dpctl/dump-conntrack``, the CPU time of
its ``ovs-vswitchd``); the differences, divided by the connections attempted, are:

* datapath passes: packets that entered the datapath from a port plus their recirculations
  (after a tunnel header is popped, after each ``ct()`` with a table to resume in); each pass
  is a flow-cache lookup;
* upcalls: packets that missed every datapath flow (megaflow) and went to ovs-vswitchd's
  OpenFlow tables (each installs a megaflow); a packet that goes on to a controller is one too;
* conntrack entries: entries of the datapath's tracker for the measured server port that
  were not there before;
* ovs-vswitchd CPU: the milliseconds of CPU its processes used (the packet work of the
  userspace datapath and whatever else they did meanwhile).

The first three do not depend on the machine's load, so they compare controllers measured
minutes apart on a busy machine where rates and times do not. Around an iperf3 measurement,
the passes and the CPU are divided by the megabytes received instead.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ryu_midonet.sandbox import Sandbox

PASSES = "dp_passes_per_conn"
UPCALLS = "upcalls_per_conn"
CT_ENTRIES = "ct_entries_per_conn"
CPU = "vswitchd_cpu_per_conn"
METRICS = (PASSES, UPCALLS, CT_ENTRIES, CPU)
# Around an iperf3 measurement: per megabyte received.
PASSES_MB = "dp_passes_per_mb"
CPU_MB = "vswitchd_cpu_per_mb"
STREAM_METRICS = (PASSES_MB, CPU_MB)

_STAT = re.compile(r"^\s*([a-z][a-z .]*?):\s*(\d+)\s*$", re.M)
_RECEIVED = "packets received"
_RECIRCULATED = "packet recirculations"
_MISSES = ("miss with success upcall", "miss with failed upcall")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Counters:
    """Totals over every host of a sandbox at one moment."""

    passes: int = 0
    upcalls: int = 0
    ct_entries: int = 0
    cpu_ms: float = 0.0

    def __sub__(self, other: Counters) -> Counters:
        return Counters(self.passes - other.passes, self.upcalls - other.upcalls,
                        self.ct_entries - other.ct_entries, self.cpu_ms - other.cpu_ms)

    def per_connection(self, connections: int) -> dict[str, float]:
        """Each count divided by ``connections`` (empty when there were none)."""
        if connections <= 0:
            return {}
        return {PASSES: self.passes / connections, UPCALLS: self.upcalls / connections,
                CT_ENTRIES: max(0, self.ct_entries) / connections,
                CPU: self.cpu_ms / connections}

    def per_megabyte(self, received: int) -> dict[str, float]:
        """Passes and CPU per 10^6 bytes of ``received`` (empty when nothing was)."""
        if received <= 0:
            return {}
        megabytes = received / 1e6
        return {PASSES_MB: self.passes / megabytes, CPU_MB: self.cpu_ms / megabytes}


def pmd_totals(text: str) -> dict[str, int]:
    """The integer counters of ``dpif-netdev/pmd-stats-show``, summed over its threads."""
    totals: dict[str, int] = {}
    for name, value in _STAT.findall(text):
        totals[name] = totals.get(name, 0) + int(value)
    return totals


def conntrack_entries(text: str, port: int) -> int:
    """The TCP entries of a ``dpctl/dump-conntrack`` listing whose original direction goes
    to ``port``."""
    wanted = f"dport={port})"
    return sum(1 for line in text.splitlines()
               if line.startswith("tcp,") and wanted in line.split("reply=", 1)[0])


def cpu_ms(pidfile: Path) -> float:
    """User and system CPU time of the process a pidfile names, in ms (0 when it is gone)."""
    try:
        pid = int(pidfile.read_text().strip())
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) * 1000.0 / CLOCK_TICKS


def snapshot(sb: Sandbox, port: int) -> Counters:
    """The counters of every host of ``sb`` now (conntrack: entries to ``port``)."""
    total = Counters()
    for host in sb.hosts.values():
        stats = pmd_totals(host.appctl("dpif-netdev/pmd-stats-show"))
        total = Counters(
            total.passes + stats.get(_RECEIVED, 0) + stats.get(_RECIRCULATED, 0),
            total.upcalls + sum(stats.get(name, 0) for name in _MISSES),
            total.ct_entries + conntrack_entries(host.appctl("dpctl/dump-conntrack"), port),
            total.cpu_ms + cpu_ms(host.switch.run_dir / "ovs-vswitchd.pid"))
    return total
