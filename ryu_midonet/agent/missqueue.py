"""Packet-ins waiting for the agent: one bounded queue per ingress port, served round robin.

The switch's meters already cap each port's misses (:mod:`ryu_midonet.datapath.pipeline`);
this queue keeps what gets through from one port from delaying the others. os-ken's event
handler only :meth:`MissQueue.put` s a packet-in (cheap, never blocks); one worker
:meth:`MissQueue.get` s them one port at a time, so a port with many waiting packets delays
another port's first packet by at most one packet per port that has some waiting. A port's
queue holds at most ``per_port`` packets (more are dropped and counted), and a packet that
waited more than ``max_wait`` seconds is dropped when its turn comes (its sender has retried
or given up by then), so memory and delay stay bounded whatever a VM sends.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Miss:
    """One packet-in: the OpenFlow port it came in by, its bytes, and when it was queued."""

    in_port: int
    data: bytes
    queued_at: float
    meta: tuple[int, ...] | None = None  # NatReturn.of arguments, after the tracker


class MissQueue:
    """Bounded per-port queues of packet-ins, taken round robin across ports."""

    def __init__(self, per_port: int = 256, max_wait: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if per_port < 1:
            raise ValueError("a port's queue must hold at least one packet")
        self.per_port = per_port
        self.max_wait = max_wait
        self._clock = clock
        self._queues: dict[int, deque[Miss]] = {}
        self._turns: deque[int] = deque()  # ports with packets waiting, in serving order
        self._ready = threading.Condition()
        self.full_drops: Counter[int] = Counter()  # per port: dropped, its queue was full
        self.stale_drops: Counter[int] = Counter()  # per port: dropped, waited too long

    def put(self, in_port: int, data: bytes, meta: tuple[int, ...] | None = None) -> bool:
        """Queue a packet-in; False when its port's queue is full (the packet is dropped)."""
        with self._ready:
            queue = self._queues.get(in_port)
            if queue is None:
                queue = self._queues[in_port] = deque()
                self._turns.append(in_port)
            elif len(queue) >= self.per_port:
                self.full_drops[in_port] += 1
                return False
            queue.append(Miss(in_port, data, self._clock(), meta))
            self._ready.notify()
            return True

    def get(self, timeout: float | None = None) -> Miss | None:
        """The next packet-in to handle, from the port whose turn it is; None when none
        came within ``timeout`` seconds (``None``: wait as long as it takes)."""
        with self._ready:
            while True:
                if not self._turns and not self._ready.wait_for(lambda: bool(self._turns),
                                                               timeout):
                    return None
                miss = self._take()
                if self._clock() - miss.queued_at <= self.max_wait:
                    return miss
                self.stale_drops[miss.in_port] += 1

    def forget(self, in_port: int) -> None:
        """Drop what waits from ``in_port`` (its port was unplugged)."""
        with self._ready:
            if self._queues.pop(in_port, None) is not None:
                self._turns.remove(in_port)

    def take_drops(self) -> dict[int, int]:
        """Packets dropped per port (queue full or waited too long) since last taken."""
        with self._ready:
            drops = self.full_drops + self.stale_drops
            self.full_drops.clear()
            self.stale_drops.clear()
            return dict(drops)

    def __len__(self) -> int:
        with self._ready:
            return sum(len(q) for q in self._queues.values())

    def _take(self) -> Miss:
        port = self._turns.popleft()
        queue = self._queues[port]
        miss = queue.popleft()
        if queue:
            self._turns.append(port)  # its next packet after every other port's one
        else:
            del self._queues[port]
        return miss
