"""The thread that probes one pool's members from inside the pool's namespace.

Every ``delay`` seconds it opens a TCP connection to every member at once, waits up to
``timeout`` seconds, feeds the results to the pool's :class:`~.probes.PoolHealth` and hands
the status changes to its writer; changes the writer could not store are handed over again
with the next round's.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from collections.abc import Callable, Mapping

from ryu_midonet.healthmon.pools import Monitored
from ryu_midonet.healthmon.probes import PoolHealth, Probe, tcp_connect_all

LOG = logging.getLogger(__name__)

CLONE_NEWNET = 0x40000000
Writer = Callable[[Mapping[str, str]], bool]


def enter_netns(name: str) -> None:
    """Move the calling thread into network namespace ``name`` (sockets it opens then
    belong to that namespace)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"setns {name}: {os.strerror(code)}")
    finally:
        os.close(fd)


class Prober:
    """Probes one pool; :meth:`round` is one round, :meth:`start` runs rounds in a thread."""

    def __init__(self, settings: Monitored, write: Writer, netns: str | None = None,
                 probe: Probe = tcp_connect_all,
                 enter: Callable[[str], None] = enter_netns) -> None:
        self.settings = settings
        self.health = PoolHealth(settings.max_retries)
        self.health.track(settings.stored)
        self.netns = netns
        self._write = write
        self._probe = probe
        self._enter = enter
        self._unwritten: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def update(self, settings: Monitored) -> None:
        """New settings or members (taken at the next round)."""
        with self._lock:
            if settings.max_retries != self.settings.max_retries:
                self.health.max_retries = max(1, settings.max_retries)
            self.settings = settings
            self.health.track(settings.stored)
            for member_id in [m for m in self._unwritten if m not in settings.stored]:
                del self._unwritten[member_id]

    def round(self) -> dict[str, str]:
        """Probe every member once; the status changes it led to."""
        with self._lock:
            targets = dict(self.settings.targets)
            timeout = self.settings.timeout
        results = self._probe(targets, timeout) if targets else {}
        with self._lock:
            changes = {}
            for member_id, ok in results.items():
                new = self.health.record(member_id, ok)
                if new is not None:
                    changes[member_id] = new
            if changes:
                LOG.info("pool %s members changed status: %s", self.settings.pool_id, changes)
            pending = {**self._unwritten, **changes}
            self._unwritten = {}
        if pending and not self._write(pending):
            with self._lock:
                self._unwritten = {**pending, **self._unwritten}
        return changes

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"hm-{self.settings.pool_id[:8]}")
        self._thread.start()

    def stop(self, wait: float = 0.0) -> None:
        self._stop.set()
        if self._thread is not None and wait > 0:
            self._thread.join(wait)

    def _run(self) -> None:
        if self.netns is not None:
            try:
                self._enter(self.netns)
            except OSError as exc:
                LOG.warning("pool %s not probed: %s", self.settings.pool_id, exc)
                return
        while not self._stop.is_set():
            try:
                self.round()
            except Exception:  # noqa: BLE001 - the next round tries again
                LOG.exception("probe round of pool %s failed", self.settings.pool_id)
            self._stop.wait(self.settings.delay)
