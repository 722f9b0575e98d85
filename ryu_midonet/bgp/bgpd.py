"""One FRR bgpd in a network namespace: started, changed, restarted when dead, stopped.

bgpd runs without zebra (``-Z``: it learns and announces routes but installs none in any
kernel; the agent writes learned routes into the topology) and without the system's FRR
service: its configuration, PID file and vty socket are files of its own directory, and
its vty has no TCP port (``-P 0``). It runs in the foreground as a child of the agent, so
its death is seen by :meth:`Bgpd.alive` and it is stopped by its PID, never by name. A bgpd
an agent that died left running is found by the PID in its PID file: the next agent takes it
over when it runs the configuration wanted (:meth:`Bgpd.adopt`), else stops it.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ryu_midonet.bgp import config

LOG = logging.getLogger(__name__)

BGPD = "/usr/lib/frr/bgpd"
VTYSH = "vtysh"
STOP_WAIT = 5.0
VTYSH_TIMEOUT = 10.0

Spawn = Callable[..., Any]  # subprocess.Popen-like
Run = Callable[..., Any]  # subprocess.run-like


class Bgpd:
    """The bgpd of one speaker, running in namespace ``netns`` with files in ``run_dir``."""

    def __init__(self, netns: str, run_dir: Path, *, binary: str = BGPD,
                 vtysh: str = VTYSH, spawn: Spawn = subprocess.Popen,
                 run: Run = subprocess.run) -> None:
        self.netns = netns
        self.run_dir = run_dir
        self._binary = binary
        self._vtysh = vtysh
        self._spawn = spawn
        self._run = run
        self._proc: Any = None
        self._adopted: int | None = None  # the PID of a bgpd taken over, not a child
        self.speaker: config.Speaker | None = None
        self.starts = 0  # how many times bgpd was started (restarts show as more than 1)

    @property
    def conf_path(self) -> Path:
        return self.run_dir / "bgpd.conf"

    @property
    def pid(self) -> int | None:
        if self._adopted is not None:
            return self._adopted
        return None if self._proc is None else int(self._proc.pid)

    def command(self) -> list[str]:
        """The command line that runs bgpd in its namespace."""
        d = self.run_dir
        return ["ip", "netns", "exec", self.netns, self._binary, "-Z", "-n", "-S",
                "-u", "root", "-g", "root", "-P", "0", "-f", str(self.conf_path),
                "-i", str(d / "bgpd.pid"), "--vty_socket", str(d),
                "--log", f"file:{d / 'bgpd.log'}"]

    def alive(self) -> bool:
        if self._adopted is not None:
            return self._runs(self._adopted)
        return self._proc is not None and self._proc.poll() is None

    def _runs(self, pid: int) -> bool:
        """Process ``pid`` is a live (not zombie) bgpd of this directory's configuration."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state != "Z" and str(self.conf_path).encode() in cmdline

    def leftover(self) -> int | None:
        """The PID of a bgpd running this directory's configuration that is not this
        object's (left by an agent that died), from its PID file."""
        try:
            pid = int((self.run_dir / "bgpd.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        if pid in (self._adopted, None if self._proc is None else self._proc.pid):
            return None
        return pid if self._runs(pid) else None

    def adopt(self, spk: config.Speaker) -> bool:
        """Take over the bgpd left running in this directory when its configuration is
        ``spk``'s, so that its sessions stay up; False when there is none or it runs
        another configuration."""
        pid = self.leftover()
        if pid is None or self.alive():
            return False
        try:
            if self.conf_path.read_text() != config.render(spk, hostname=self.netns):
                return False
        except OSError:
            return False
        self._adopted, self.speaker = pid, spk
        LOG.info("bgpd %d left running in %s taken over", pid, self.netns)
        return True

    def start(self, spk: config.Speaker) -> None:
        """Write the configuration and start bgpd (stopping a running one first)."""
        self.stop()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.stop_stale()
        self.conf_path.write_text(config.render(spk, hostname=self.netns))
        self._proc = self._spawn(self.command(), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.speaker = spk
        self.starts += 1
        LOG.info("bgpd for port %s started in %s (pid %s)", spk.port_id, self.netns, self.pid)

    def apply(self, spk: config.Speaker) -> None:
        """Move bgpd to ``spk``: in place when the change allows, else by a restart; a dead
        bgpd is started again."""
        if not self.alive() or self.speaker is None:
            self.start(spk)
            return
        commands = config.changes(self.speaker, spk)
        if commands is None:
            self.start(spk)
            return
        if commands and self.vtysh(commands) is None:
            LOG.warning("bgpd in %s refused a change; restarting it", self.netns)
            self.start(spk)
            return
        self.speaker = spk
        self.conf_path.write_text(config.render(spk, hostname=self.netns))

    def vtysh(self, commands: Sequence[str]) -> str | None:
        """Run ``vtysh`` commands against this bgpd: their output, ``None`` on failure."""
        argv = [self._vtysh, "--vty_socket", str(self.run_dir), "-d", "bgpd"]
        for cmd in commands:
            argv += ["-c", cmd]
        try:
            done = self._run(argv, capture_output=True, text=True, timeout=VTYSH_TIMEOUT,
                             check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            LOG.warning("vtysh for %s failed: %s", self.netns, exc)
            return None
        if done.returncode != 0:
            LOG.warning("vtysh for %s: %s", self.netns, (done.stdout or done.stderr).strip())
            return None
        return str(done.stdout)

    def stop_stale(self) -> None:
        """Stop a bgpd left running with this directory's configuration (by an agent that
        died), found by the PID in its PID file."""
        pid = self.leftover()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        LOG.info("stopped bgpd %d left running in %s", pid, self.netns)

    def stop(self) -> None:
        """Stop bgpd by its PID (SIGTERM, then SIGKILL) and forget it."""
        proc, self._proc = self._proc, None
        adopted, self._adopted = self._adopted, None
        self.speaker = None
        if adopted is not None:
            self._stop_adopted(adopted)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_WAIT)
        except ProcessLookupError:
            pass

    def _stop_adopted(self, pid: int) -> None:
        """Stop a bgpd taken over (not a child: it cannot be waited for)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + STOP_WAIT
            while self._runs(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not self._runs(pid):
                return
