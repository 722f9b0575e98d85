"""Plain Open vSwitch NORMAL forwarding over the same VXLAN tunnels: the datapath's limit.

No controller at all: :func:`ryu_midonet.sandbox.normal.wire_normal` puts every VM on a
standalone bridge per host, meshed by tunnels. L2 only (one flat segment, no router).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ryu_midonet.bench import layout
from ryu_midonet.bench.scenario import Scenario
from ryu_midonet.sandbox import Sandbox
from ryu_midonet.sandbox.normal import wire_normal


class NormalScenario(Scenario):
    key = "ovs-normal"
    label = "OVS NORMAL"
    cases = (layout.L2_SAME, layout.L2_CROSS)
    clear_note = ("first packet: after flushing the datapath flow caches; the figure is an "
                  "upcall to ovs-vswitchd's NORMAL action, no controller (MACs stay learned, "
                  "as they do in ryu-midonet's MAC table)")

    def version(self) -> str:
        proc = subprocess.run(["ovs-vswitchd", "--version"], capture_output=True, text=True,
                              check=False)
        first = proc.stdout.splitlines()[0] if proc.stdout else ""
        return first.rsplit(" ", 1)[-1]

    def start(self, sb: Sandbox, run_dir: Path) -> None:
        wire_normal(sb)
