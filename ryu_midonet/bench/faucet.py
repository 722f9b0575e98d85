"""faucet, the peer controller: one faucet for the integration bridge of host h1.

faucet has no overlay between independent switches, so it runs where it applies: the VMs of
h1 (vm1 and vm3 on VLAN 100, vm5 on VLAN 200), with faucet routing between the two VLANs at
VIPs 10.0.1.1 and 10.0.2.1 (the VMs' gateways). It runs from its own virtual environment
(``--faucet-venv``), so its pinned dependencies never meet the product's; it is started with
that environment's ``osken-manager`` inside h1's namespace and stopped by its PID.

A configuration change is a rewrite of the YAML file and SIGHUP. vm1's port always carries
one port ACL (``allow``, or ``block`` that drops IPv4 to the blocked destination), so that a
change swaps ACL rules and faucet reloads it as a warm start; adding the first ACL would
change faucet's table layout and force a cold start of the whole switch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from ryu_midonet.bench import layout
from ryu_midonet.bench.layout import Case
from ryu_midonet.bench.scenario import Scenario
from ryu_midonet.sandbox import Sandbox, procs

HOST = "h1"
DP_ID = 1
VLANS = {"10.0.1": ("v100", 100), "10.0.2": ("v200", 200)}
CONNECT_TIMEOUT = 60.0
VERSION_PROBE = "import importlib.metadata as m; print(m.version('faucet'))"


class FaucetScenario(Scenario):
    key = "faucet"
    label = "faucet"
    cases = (layout.L2_SAME, layout.ROUTED_SAME)
    change_cases = (layout.ROUTED_SAME,)
    clear_note = ("first packet: after flushing the datapath flow cache; faucet's OpenFlow "
                  "flows stay (it installs them per learned host and route, not per flow, so "
                  "it has no per-flow state to clear): the figure is an upcall to "
                  "ovs-vswitchd's OpenFlow tables, no controller; measured on h1 only, faucet "
                  "has no tunnels between switches")
    change_note = ("change: rewrite of faucet.yaml swapping vm1's port ACL to one that drops "
                   "the destination, then SIGHUP (warm reload); undone the same way")

    def __init__(self, venv: Path) -> None:
        self.venv = venv.resolve()
        self._version = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._rec: procs.ProcessRecord | None = None
        self._config = Path()
        self._ports: dict[str, int] = {}

    @property
    def manager(self) -> Path:
        return self.venv / "bin" / "osken-manager"

    def version(self) -> str:
        return self._version

    def unavailable(self) -> str | None:
        python = self.venv / "bin" / "python"
        if not python.exists() or not self.manager.exists():
            return (f"no faucet environment at {self.venv} (tools/bench.sh installs faucet "
                    "there)")
        proc = subprocess.run([str(python), "-c", VERSION_PROBE], capture_output=True,
                              text=True, timeout=60, check=False)
        if proc.returncode != 0:
            return f"faucet does not import in {self.venv}: {proc.stderr.strip()[-300:]}"
        self._version = proc.stdout.strip()
        return None

    def start(self, sb: Sandbox, run_dir: Path) -> None:
        host = sb.host(HOST)
        host.vsctl("set", "Bridge", host.bridge, f"other_config:datapath-id={DP_ID:016x}")
        for plan in layout.VMS:
            if plan.host == HOST:
                self._ports[plan.name] = host.plug(sb.vm(plan.name).interface)
        work = run_dir / "faucet"
        work.mkdir(parents=True, exist_ok=True)
        self._config = work / "faucet.yaml"
        self._write(blocked=False)
        env = dict(os.environ, FAUCET_CONFIG=str(self._config),
                   FAUCET_LOG=str(work / "faucet.log"),
                   FAUCET_EXCEPTION_LOG=str(work / "faucet_exception.log"),
                   FAUCET_PROMETHEUS_ADDR="127.0.0.1",
                   PATH=f"{self.venv / 'bin'}:{os.environ.get('PATH', '')}")
        port = sb.spec.openflow_port
        self._proc, self._rec = procs.spawn(
            "faucet", [str(self.manager), "--ofp-listen-host", "127.0.0.1",
                       "--ofp-tcp-listen-port", str(port), "faucet.faucet"],
            log=work / "faucet.out", pidfile=work / "faucet.pid", cwd=work, env=env,
            netns=host.netns)
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while not host.switch.controller_connected(host.bridge):
            if self._proc.poll() is not None:
                tail = (work / "faucet.out").read_text(errors="replace")[-500:]
                raise RuntimeError(f"faucet exited with {self._proc.returncode}: {tail}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"faucet did not connect within {CONNECT_TIMEOUT:.0f} s")
            time.sleep(0.1)

    def stop(self) -> None:
        if self._rec is not None and self._proc is not None:
            procs.stop_all([self._rec], children={self._proc.pid: self._proc})
            self._proc.wait()
        self._rec = self._proc = None

    def block(self, sb: Sandbox, case: Case) -> None:
        self._reload(blocked=True)

    def unblock(self, sb: Sandbox, case: Case) -> None:
        self._reload(blocked=False)

    def _reload(self, blocked: bool) -> None:
        if self._proc is None or self._proc.poll() is not None:
            raise RuntimeError("faucet is not running")
        self._write(blocked)
        os.kill(self._proc.pid, signal.SIGHUP)

    def _write(self, blocked: bool) -> None:
        text = yaml.safe_dump(config(self._ports, blocked), sort_keys=False)
        tmp = self._config.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(self._config)


def config(ports: dict[str, int], blocked: bool) -> dict[str, Any]:
    """faucet.yaml for h1's VMs; ``blocked``: vm1's port drops IPv4 to the change cases."""
    deny = [{"rule": {"dl_type": 0x800, "ipv4_dst": layout.vm_plan(case.dst).ip,
                      "actions": {"allow": 0}}} for case in FaucetScenario.change_cases]
    allow = {"rule": {"actions": {"allow": 1}}}
    interfaces: dict[int, dict[str, Any]] = {}
    for name, ofport in ports.items():
        vlan = VLANS[layout.vm_plan(name).subnet][0]
        interfaces[ofport] = {"name": name, "native_vlan": vlan}
        if name == layout.L2_SAME.src:
            interfaces[ofport]["acls_in"] = ["block" if blocked else "allow"]
    return {
        "vlans": {name: {"vid": vid, "faucet_vips": [f"{subnet}.1/{layout.PREFIX_LEN}"]}
                  for subnet, (name, vid) in VLANS.items()},
        "routers": {"r": {"vlans": [name for name, _ in VLANS.values()]}},
        "acls": {"allow": [allow], "block": [*deny, allow]},
        "dps": {HOST: {"dp_id": DP_ID, "hardware": "Open vSwitch", "interfaces": interfaces}},
    }
