"""Processes the sandbox starts, identified by PID and kernel start time, and stopped by PID.

A :class:`ProcessRecord` keeps the PID together with the process's start time (field 22 of
``/proc/PID/stat``), so a PID the kernel reused for somebody else's process is never signalled.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ryu_midonet.sandbox.shell import in_netns

LOG = logging.getLogger(__name__)

STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class ProcessRecord:
    """A process the sandbox started."""

    name: str
    pid: int
    start: int
    pidfile: str | None = None
    netns: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProcessRecord:
        return cls(str(data["name"]), int(data["pid"]), int(data["start"]),
                   data.get("pidfile"), data.get("netns"))

    def alive(self) -> bool:
        """True while the same process (not a reused PID) runs and is not a zombie."""
        return start_time(self.pid) == self.start


def start_time(pid: int) -> int | None:
    """The kernel start time of a live (non-zombie) process, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def record(name: str, pid: int, pidfile: str | Path | None = None,
           netns: str | None = None) -> ProcessRecord:
    """Describe a running process; raises if it is already gone."""
    start = start_time(pid)
    if start is None:
        raise RuntimeError(f"{name} (pid {pid}) exited right after it started")
    return ProcessRecord(name, pid, start, str(pidfile) if pidfile else None, netns)


def read_pidfile(path: Path, timeout: float = 10.0) -> int:
    """The PID a daemon wrote, waiting for the file to appear."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            text = path.read_text().strip()
            if text:
                return int(text)
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} did not appear within {timeout:.0f} s")
        time.sleep(0.02)


def spawn(name: str, cmd: Sequence[str], *, log: Path, pidfile: Path, cwd: Path,
          env: Mapping[str, str] | None = None, netns: str | None = None,
          stdout: Path | None = None) -> tuple[subprocess.Popen[bytes], ProcessRecord]:
    """Start a long-running process in its own session, logging to ``log``.

    Its standard output goes to ``stdout`` when given, else to ``log`` as well. ``ip netns
    exec`` execs the command in place, so the PID is the command's own.
    """
    argv = in_netns(netns, cmd)
    LOG.debug("spawn %s: %s", name, " ".join(argv))
    with open(log, "ab") as err, open(stdout or log, "ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                cwd=cwd, env=dict(env) if env is not None else None,
                                start_new_session=True)
    pidfile.write_text(f"{proc.pid}\n")
    # A process that already exited gets a record that is never alive; the caller's own
    # readiness check reports the failure, with the log.
    start = start_time(proc.pid)
    return proc, ProcessRecord(name, proc.pid, -1 if start is None else start, str(pidfile),
                               netns)


def stop_all(records: Iterable[ProcessRecord], timeout: float = STOP_TIMEOUT,
             children: Mapping[int, subprocess.Popen[bytes]] | None = None) -> None:
    """SIGTERM every live process at once, SIGKILL those still alive after ``timeout``."""
    live = [rec for rec in records if rec.alive()]
    for rec in live:
        _signal(rec, signal.SIGTERM)
    _wait(live, timeout, children)
    left = [rec for rec in live if rec.alive()]
    for rec in left:
        LOG.warning("%s (pid %d) ignored SIGTERM; killing it", rec.name, rec.pid)
        _signal(rec, signal.SIGKILL)
    _wait(left, timeout, children)
    for rec in live:
        if rec.pidfile:
            Path(rec.pidfile).unlink(missing_ok=True)


def kill_all(records: Iterable[ProcessRecord], timeout: float = STOP_TIMEOUT,
             children: Mapping[int, subprocess.Popen[bytes]] | None = None) -> None:
    """SIGKILL every live process at once (a crash) and wait until they are gone."""
    live = [rec for rec in records if rec.alive()]
    for rec in live:
        _signal(rec, signal.SIGKILL)
    _wait(live, timeout, children)
    for rec in live:
        if rec.pidfile:
            Path(rec.pidfile).unlink(missing_ok=True)


def stop_pids(pids: Iterable[int], timeout: float = STOP_TIMEOUT) -> None:
    """Stop processes known only by PID (those left inside a namespace the sandbox owns)."""
    records = []
    for pid in pids:
        start = start_time(pid)
        if start is not None and pid != os.getpid():
            records.append(ProcessRecord(f"pid {pid}", pid, start))
    stop_all(records, timeout)


def _signal(rec: ProcessRecord, sig: signal.Signals) -> None:
    try:
        os.kill(rec.pid, sig)
    except ProcessLookupError:
        pass


def _wait(records: list[ProcessRecord], timeout: float,
          children: Mapping[int, subprocess.Popen[bytes]] | None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        for rec in records:
            child = (children or {}).get(rec.pid)
            if child is not None:
                child.poll()  # reap our own children so they do not linger as zombies
        if not any(rec.alive() for rec in records) or time.monotonic() > deadline:
            return
        time.sleep(0.02)
