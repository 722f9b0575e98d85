"""Packets held while a router resolves their next hop by ARP.

A packet whose simulation waits for an ARP entry (``Result.waiting``) is kept here, under the
entry's tag (``arp:<router>:<ip>``), and simulated again when the entry appears -- whichever
host received the ARP reply: entries are shared through the store and announced on its state
feed. As in the kernel's neighbour queue, at most :data:`QUEUE_LENGTH` packets wait per next
hop (a newer packet pushes out the oldest), and a packet that waited :data:`HOLD_SECONDS`
(about MidoNet's ARP retry period) is dropped.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ryu_midonet.sim.core.model import ArpWait, Packet
from ryu_midonet.sim.state import arp_tag

HOLD_SECONDS = 3.0
QUEUE_LENGTH = 8


@dataclass(frozen=True)
class Held:
    """A packet that missed the flow table, as it came from the switch."""

    port_id: str
    in_port: int
    packet: Packet
    data: bytes
    deadline: float


class HeldPackets:
    """Bounded queues of packets, one per next hop being resolved."""

    def __init__(self, timeout: float = HOLD_SECONDS, length: int = QUEUE_LENGTH,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.length = length
        self.clock = clock
        self._lock = threading.Lock()
        self._queues: dict[str, tuple[ArpWait, deque[Held]]] = {}

    def hold(self, wait: ArpWait, port_id: str, in_port: int, packet: Packet,
             data: bytes) -> None:
        """Keep a packet until ``wait`` is resolved, or for :attr:`timeout` seconds."""
        self.expire()
        item = Held(port_id, in_port, packet, data, self.clock() + self.timeout)
        with self._lock:
            _, queue = self._queues.setdefault(tag_of(wait),
                                               (wait, deque(maxlen=self.length)))
            queue.append(item)

    def waits(self, tag: str) -> list[ArpWait]:
        """The resolution held packets wait for under ``tag`` (empty or one)."""
        with self._lock:
            held = self._queues.get(tag)
        return [] if held is None else [held[0]]

    def take(self, tag: str) -> list[Held]:
        """The packets waiting under ``tag`` that have not timed out, oldest first."""
        with self._lock:
            _, queue = self._queues.pop(tag, (None, deque()))
        now = self.clock()
        return [item for item in queue if item.deadline > now]

    def expire(self) -> int:
        """Drop the packets that waited too long; how many were dropped."""
        now = self.clock()
        dropped = 0
        with self._lock:
            for tag, (_, queue) in list(self._queues.items()):
                while queue and queue[0].deadline <= now:
                    queue.popleft()
                    dropped += 1
                if not queue:
                    del self._queues[tag]
        return dropped

    def __len__(self) -> int:
        with self._lock:
            return sum(len(queue) for _, queue in self._queues.values())


def tag_of(wait: ArpWait) -> str:
    """The state-feed tag announcing the entry ``wait`` is for."""
    return arp_tag(wait.router_id, wait.ip)
