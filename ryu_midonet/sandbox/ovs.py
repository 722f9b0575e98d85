"""A private Open vSwitch (ovsdb-server + ovs-vswitchd) running inside one namespace.

Every file lives in the host's directory: ``conf.db``, ``db.sock`` (the OVSDB remote),
``ovsdb.ctl`` and ``vswitchd.ctl`` (unixctl), ``<bridge>.mgmt`` (OpenFlow management), pid
files and logs. OVS_RUNDIR/OVS_LOGDIR/OVS_DBDIR point there too, so nothing touches
/var/run/openvswitch.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ryu_midonet.sandbox import procs
from ryu_midonet.sandbox.shell import CommandError, output, run

SCHEMA_PATHS = ("/usr/share/openvswitch/vswitch.ovsschema",
                "/usr/local/share/openvswitch/vswitch.ovsschema")
OPENFLOW = "OpenFlow13"
# Longest unix socket path the kernel accepts, less a margin.
MAX_SOCKET_PATH = 100


class OvsSwitch:
    """The Open vSwitch instance of one sandbox host."""

    def __init__(self, netns: str, run_dir: Path) -> None:
        self.netns = netns
        self.run_dir = run_dir
        self.db_sock = run_dir / "db.sock"
        self.ovsdb = f"unix:{self.db_sock}"
        self.vswitchd_ctl = run_dir / "vswitchd.ctl"
        self.ovsdb_ctl = run_dir / "ovsdb.ctl"

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR"):
            env[var] = str(self.run_dir)
        return env

    def start(self) -> list[procs.ProcessRecord]:
        """Create the database and start both daemons; returns their process records."""
        longest = self.run_dir / "br-int.mgmt"
        if len(str(longest)) > MAX_SOCKET_PATH:
            raise RuntimeError(f"run directory {self.run_dir} is too long for unix sockets")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        run(["ovsdb-tool", "create", str(self.run_dir / "conf.db"), _schema()], env=self.env)
        return self.start_daemons()

    def start_daemons(self) -> list[procs.ProcessRecord]:
        """Start ovsdb-server on the existing database, then ovs-vswitchd (also after a stop:
        the switch's configuration is kept in the database)."""
        records = [self._daemon("ovsdb-server", [
            str(self.run_dir / "conf.db"), f"--remote=punix:{self.db_sock}",
            f"--unixctl={self.ovsdb_ctl}"])]
        self.vsctl("--no-wait", "init")
        records.append(self._daemon("ovs-vswitchd", [
            self.ovsdb, f"--unixctl={self.vswitchd_ctl}"]))
        return records

    def _daemon(self, name: str, args: list[str]) -> procs.ProcessRecord:
        pidfile = self.run_dir / f"{name}.pid"
        run([name, *args, f"--pidfile={pidfile}", f"--log-file={self.run_dir / name}.log",
             "--detach"], netns=self.netns, env=self.env)
        return procs.record(name, procs.read_pidfile(pidfile), pidfile, self.netns)

    def vsctl(self, *args: str, timeout: float = 10.0) -> str:
        return output(["ovs-vsctl", f"--db={self.ovsdb}", f"--timeout={int(timeout)}", *args],
                      env=self.env, timeout=timeout + 5)

    def ofctl(self, *args: str, stdin: str | None = None) -> str:
        """``ovs-ofctl -O OpenFlow13``; bridge names resolve to ``<run_dir>/<bridge>.mgmt``."""
        return output(["ovs-ofctl", "-O", OPENFLOW, *args], env=self.env, stdin=stdin)

    def appctl(self, *args: str) -> str:
        return output(["ovs-appctl", "-t", str(self.vswitchd_ctl), *args], env=self.env)

    def add_flows(self, bridge: str, flows: list[str]) -> None:
        """Add several flows in one OpenFlow connection."""
        self.ofctl("add-flows", bridge, "-", stdin="\n".join(flows) + "\n")

    def ofport(self, iface: str, timeout: float = 5.0) -> int:
        """The OpenFlow port number vswitchd gave an interface."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.vsctl("get", "Interface", iface, "ofport")
            except CommandError:
                value = ""
            if value.lstrip("-").isdigit() and int(value) > 0:
                return int(value)
            if time.monotonic() > deadline:
                raise RuntimeError(f"{iface} got no OpenFlow port number ({value!r})")
            time.sleep(0.02)

    def controller_connected(self, bridge: str) -> bool:
        try:
            return self.vsctl("get", "Controller", bridge, "is_connected") == "true"
        except CommandError:
            return False


def _schema() -> str:
    for path in SCHEMA_PATHS:
        if Path(path).exists():
            return path
    raise RuntimeError("vswitch.ovsschema not found: install openvswitch-switch "
                       "(tools/install-deps.sh)")
