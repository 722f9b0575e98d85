"""Port blocks for dynamic source NAT, leased to one host at a time.

Dynamic SNAT must not give two connections the same (NAT address, NAT port) towards the same
destination, whichever hosts simulate them. Ports are handed out in blocks of
:data:`BLOCK_SIZE` (block ``b`` holds ports ``b*64 .. b*64+63``) leased per (NAT address,
host) from a store every agent shares: a host only picks ports in blocks it holds, so hosts
never compete for a port. Inside a block a port may serve several connections as long as
their destinations differ: the reverse-NAT entry (keyed by destination and NAT port) is
written only if absent, which settles the rest (see :mod:`ryu_midonet.sim.rules.nat`).

A lease lasts :data:`LEASE_TTL` seconds and is renewed by :meth:`PortLeaser.maintain` while a
connection still uses one of its ports (its NAT entry is live); a block whose connections have
all expired is released. Leases of a host that stops renewing them (it died) lapse.

:class:`BlockLeases` is the store side (in memory here; Redis in
:mod:`ryu_midonet.statestore.flowstate`); :class:`PortLeaser` is the host side: which ports
to try, and what uses them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from ryu_midonet.sim.state.flowstate import FlowTable

BLOCK_SIZE = 64
LEASE_TTL = 300.0
MAX_PORT = 65535


def block_of(port: int) -> int:
    return port // BLOCK_SIZE


def block_ports(block: int, lo: int, hi: int) -> range:
    """The ports of ``block`` within ``lo..hi`` (port 0 is never handed out)."""
    first = block * BLOCK_SIZE
    return range(max(first, lo, 1), min(first + BLOCK_SIZE - 1, hi, MAX_PORT) + 1)


class BlockLeases(Protocol):
    """Who holds which port block of a NAT address; every operation is atomic."""

    host_id: str

    def held(self, ip: str) -> set[int]:
        """The live blocks of ``ip`` this host holds."""
        ...

    def acquire(self, ip: str, first: int, last: int) -> int | None:
        """Lease to this host a free block of ``ip`` in ``first..last``; None when none is."""
        ...

    def renew(self, ip: str, block: int) -> bool:
        """Extend this host's lease; False when the block is no longer this host's."""
        ...

    def release(self, ip: str, block: int) -> bool:
        """Give the block back; False when it was not this host's."""
        ...

    def owner(self, ip: str, block: int) -> str | None:
        """The host holding a live lease on the block."""
        ...


@dataclass
class LeaseBoard:
    """The shared record of leases, for several in-memory "hosts" in one process."""

    ttl: float = LEASE_TTL
    clock: Callable[[], float] = time.monotonic
    leases: dict[tuple[str, int], tuple[str, float]] = field(default_factory=dict)

    def owner(self, ip: str, block: int) -> str | None:
        held = self.leases.get((ip, block))
        return held[0] if held is not None and held[1] > self.clock() else None


class MemoryBlockLeases:
    """One host's view of a :class:`LeaseBoard`."""

    def __init__(self, host_id: str = "local", board: LeaseBoard | None = None) -> None:
        self.host_id = host_id
        self.board = board if board is not None else LeaseBoard()

    def held(self, ip: str) -> set[int]:
        return {block for (lease_ip, block) in list(self.board.leases)
                if lease_ip == ip and self.board.owner(ip, block) == self.host_id}

    def acquire(self, ip: str, first: int, last: int) -> int | None:
        for block in range(first, last + 1):
            if self.board.owner(ip, block) is None:
                self.board.leases[(ip, block)] = (self.host_id, self._deadline())
                return block
        return None

    def renew(self, ip: str, block: int) -> bool:
        if self.board.owner(ip, block) != self.host_id:
            return False
        self.board.leases[(ip, block)] = (self.host_id, self._deadline())
        return True

    def release(self, ip: str, block: int) -> bool:
        if self.board.owner(ip, block) != self.host_id:
            return False
        del self.board.leases[(ip, block)]
        return True

    def owner(self, ip: str, block: int) -> str | None:
        return self.board.owner(ip, block)

    def _deadline(self) -> float:
        return self.board.clock() + self.board.ttl


class PortLeaser:
    """This host's dynamic-SNAT ports: candidates from its blocks, and what uses them."""

    def __init__(self, blocks: BlockLeases) -> None:
        self.blocks = blocks
        self.users: dict[tuple[str, int], set[str]] = {}  # (ip, block) -> NAT keys using it
        self._keys: set[str] = set()  # every key in ``users``
        self._start: dict[tuple[str, int], int] = {}  # where the next search in a block starts
        self._loaded: set[str] = set()

    def candidates(self, ip: str, lo: int, hi: int) -> Iterator[int]:
        """Ports of ``ip`` in ``lo..hi`` to try, in blocks this host holds or newly leases."""
        self._load(ip)
        tried: set[int] = set()
        for ip_, held in sorted(self.users):
            if ip_ == ip and block_ports(held, lo, hi):
                tried.add(held)
                yield from self._rotated(ip, held, lo, hi)
        first, last = block_of(max(lo, 1)), block_of(min(hi, MAX_PORT))
        while (block := self.blocks.acquire(ip, first, last)) is not None:
            if block in tried:  # lapsed and leased again: nothing new to try in it
                break
            tried.add(block)
            self.users.setdefault((ip, block), set())
            yield from self._rotated(ip, block, lo, hi)

    def in_use(self, key: str) -> bool:
        """Whether this host knows ``key`` (a reverse-NAT entry) is taken."""
        return key in self._keys

    def used(self, ip: str, port: int, key: str) -> None:
        """``port`` of ``ip`` now serves the connection whose reverse-NAT entry is ``key``."""
        block = block_of(port)
        self.users.setdefault((ip, block), set()).add(key)
        self._keys.add(key)
        self._start[(ip, block)] = port + 1

    def maintain(self, flows: FlowTable) -> int:
        """Renew the blocks still in use, release the others; returns how many were released."""
        released = 0
        for (ip, block), keys in list(self.users.items()):
            alive = flows.live(keys) if keys else set()
            self._keys.difference_update(keys - alive)
            if alive and self.blocks.renew(ip, block):
                self.users[(ip, block)] = alive
                continue
            if not alive:
                self.blocks.release(ip, block)
                released += 1
            self._keys.difference_update(alive)
            del self.users[(ip, block)]
            self._start.pop((ip, block), None)
        return released

    def _load(self, ip: str) -> None:
        """Adopt the blocks the store says this host holds (e.g. after a restart)."""
        if ip in self._loaded:
            return
        self._loaded.add(ip)
        for block in self.blocks.held(ip):
            self.users.setdefault((ip, block), set())

    def _rotated(self, ip: str, block: int, lo: int, hi: int) -> Iterator[int]:
        ports = block_ports(block, lo, hi)
        start = self._start.get((ip, block), ports.start)
        offset = (start - ports.start) % len(ports) if start in ports else 0
        for i in range(len(ports)):
            yield ports[(offset + i) % len(ports)]
