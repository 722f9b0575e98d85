"""OVN's daemons for the benchmark, in a directory of their own, started and stopped by PID.

In the root namespace: the NB and SB ``ovsdb-server`` (unix sockets ``nb.sock`` and
``sb.sock``) and ``ovn-northd``. Inside each sandbox host's namespace: ``ovn-controller``,
on the host's own ``ovs-vswitchd`` database, reaching the SB through its unix socket (a path,
so it crosses network namespaces). Every pid file, log, database and control socket lives in
the directory given (``OVN_RUNDIR`` and friends point there), never in /var/run/ovn; each
host's ``OVS_RUNDIR`` stays the host's own directory, where ovn-controller finds
``br-int.mgmt``.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from ryu_midonet.sandbox import Host, procs
from ryu_midonet.sandbox.shell import CommandError, output, run

SCHEMA_DIRS = ("/usr/share/ovn", "/usr/local/share/ovn")
PROGRAMS = ("ovn-northd", "ovn-controller", "ovn-nbctl", "ovn-sbctl", "ovsdb-server",
            "ovsdb-tool")
DATABASES = {"nb": "ovn-nb.ovsschema", "sb": "ovn-sb.ovsschema"}


def missing() -> str | None:
    """What of OVN is not installed here, or None."""
    absent = [p for p in PROGRAMS if shutil.which(p) is None]
    if not schema_dir():
        absent.append("ovn-nb.ovsschema")
    if absent:
        return (f"{', '.join(absent)} not found (Debian packages ovn-central and ovn-host; "
                "tools/bench.sh installs them)")
    return None


def schema_dir() -> Path | None:
    for path in SCHEMA_DIRS:
        if all((Path(path) / name).exists() for name in DATABASES.values()):
            return Path(path)
    return None


def version() -> str:
    try:
        first = output(["ovn-controller", "--version"]).splitlines()[0]
    except (OSError, CommandError, IndexError):
        return ""
    return first.rsplit(" ", 1)[-1]


class Ovn:
    """The OVN daemons of one benchmark run, all files under ``work``."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.records: list[procs.ProcessRecord] = []

    @property
    def nb(self) -> str:
        return f"unix:{self.work / 'nb.sock'}"

    @property
    def sb(self) -> str:
        return f"unix:{self.work / 'sb.sock'}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for var in ("OVN_RUNDIR", "OVN_LOGDIR", "OVN_DBDIR", "OVS_RUNDIR", "OVS_LOGDIR",
                    "OVS_DBDIR"):
            env[var] = str(self.work)
        return env

    def stop_leftovers(self) -> None:
        """Stop what an interrupted earlier run left running from this directory: a pid
        file's process, only while its command line names this directory."""
        for pidfile in self.work.glob("*.pid"):
            try:
                pid = int(pidfile.read_text().strip())
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except (OSError, ValueError):
                continue
            if str(self.work) in cmdline:
                procs.stop_pids([pid])

    def start_central(self) -> None:
        """Fresh NB and SB databases, their servers, and ovn-northd."""
        self.stop_leftovers()
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        schemas = schema_dir()
        if schemas is None:
            raise RuntimeError(missing() or "OVN schemas not found")
        for name, schema in DATABASES.items():
            db = self.work / f"{name}.db"
            run(["ovsdb-tool", "create", str(db), str(schemas / schema)], env=self.env())
            self._daemon(f"ovsdb-server-{name}", "ovsdb-server", [
                str(db), f"--remote=punix:{self.work / name}.sock",
                f"--unixctl={self.work / name}.ctl"])
        self._daemon("ovn-northd", "ovn-northd", [
            f"--ovnnb-db={self.nb}", f"--ovnsb-db={self.sb}",
            f"--unixctl={self.work / 'northd.ctl'}"])

    def start_controller(self, host: Host) -> None:
        """ovn-controller inside ``host``'s namespace, on its switch's database."""
        self._daemon(f"ovn-controller-{host.name}", "ovn-controller", [host.ovsdb], host)

    def _daemon(self, name: str, program: str, args: list[str], host: Host | None = None) -> None:
        pidfile = self.work / f"{name}.pid"
        env = self.env()
        if host is not None:
            # its control socket (ovn-controller.<pid>.ctl) in a directory of the host's own
            env["OVN_RUNDIR"] = str(self.work / host.name)
            env["OVS_RUNDIR"] = str(host.run_dir)
            (self.work / host.name).mkdir(exist_ok=True)
        run([program, *args, f"--pidfile={pidfile}", f"--log-file={self.work / name}.log",
             "--detach"], netns=host.netns if host else None, env=env)
        self.records.append(procs.record(name, procs.read_pidfile(pidfile), pidfile,
                                         host.netns if host else None))

    def nbctl(self, *args: str, timeout: float = 30.0) -> str:
        return output(["ovn-nbctl", f"--db={self.nb}", f"--timeout={int(timeout)}", *args],
                      env=self.env(), timeout=timeout + 5)

    def sbctl(self, *args: str) -> str:
        return output(["ovn-sbctl", f"--db={self.sb}", "--timeout=10", *args], env=self.env())

    def wait_chassis(self, names: list[str], timeout: float = 30.0) -> None:
        """Wait until every chassis in ``names`` registered in the SB database."""
        deadline = time.monotonic() + timeout
        while True:
            seen = set(self.sbctl("--bare", "--columns=name", "list", "Chassis").split())
            if set(names) <= seen:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"chassis {sorted(set(names) - seen)} did not register in "
                                   f"{timeout:.0f} s (see {self.work}/ovn-controller-*.log)")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop every daemon started here, the controllers first."""
        procs.stop_all([r for r in self.records if r.netns])
        procs.stop_all([r for r in self.records if not r.netns])
        self.records.clear()
