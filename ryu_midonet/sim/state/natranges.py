"""Port ranges for dynamic source NAT done by the datapath's connection tracker.

With NAT in the datapath (the agent option ``nat_in_datapath``), a host does not choose a
(NAT address, port) per connection: its switch's connection tracker does, within a range of
ports of the NAT address that belongs to this host alone. A range is an aligned block of
``2**bits`` ports (block ``b`` holds ports ``b << bits .. ((b + 1) << bits) - 1``), leased per
(NAT address, host) as needed (a busy host holds several; new connections take ports of its
newest), so that the reply to any connection can be recognised by its destination port with
one masked match per block and steered to the host that translated it.

:class:`NatRanges` is what the simulator asks: this host's range of a NAT address, or None
when the datapath does not translate here (the rule is then applied as today, with flow
state). Which exterior port the translated packets leave by is only known once the
simulation is over: the agent then records a :class:`ReturnPath` per (range, exit port)
(:class:`ReturnPaths`), which every host turns into the flows it needs: the exit port's host
sends replies to the owner (or through its own tracker when it is the owner).
:class:`MemoryNatRanges` leases and records on a board shared by the "hosts" of one process;
agents share them through the store (:mod:`ryu_midonet.statestore.natleases`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from ryu_midonet.types import Obj

DEFAULT_BITS = 12  # blocks of 4096 ports: 15 of them in 1024-65535
MIN_PORT = 1
MAX_PORT = 65535


class ReturnPath(NamedTuple):
    """Replies entering the topology at exterior port ``port_id`` towards ``ip`` with a
    destination port in ``first..last`` belong to connections host ``host`` translated in
    flow-state ``scope``. When ``scope`` is a stateful port group, replies may enter by any
    of its members too (the agents steer them at each; the record stays per exit port)."""

    port_id: str
    scope: str
    ip: str
    first: int
    last: int
    host: str = ""


def blocks(lo: int, hi: int, bits: int) -> range:
    """The aligned blocks of ``2**bits`` ports wholly inside ``lo..hi`` (port 0 excluded)."""
    size = 1 << bits
    lo, hi = max(lo, MIN_PORT), min(hi, MAX_PORT)
    return range((lo + size - 1) >> bits, (hi + 1) >> bits)


def block_range(block: int, bits: int) -> tuple[int, int]:
    return block << bits, ((block + 1) << bits) - 1


class NatRanges(Protocol):
    """This host's ports for source NAT in the datapath."""

    def range_for(self, ip: str, lo: int, hi: int, out_port: Obj,
                  scope: str) -> tuple[int, int] | None:
        """This host's ports of ``ip`` (within ``lo..hi``) for connections leaving through
        ``out_port`` and tracked in ``scope``; None when the datapath does not translate
        them here (no free block, or the lease cannot be had now)."""
        ...


class ReturnPaths(Protocol):
    """Where replies to the ranges of every host enter, as the agents see it."""

    host_id: str

    def record(self, path: ReturnPath) -> None:
        """This host translates to ``path`` (its ``host`` is this host)."""
        ...

    def paths(self) -> frozenset[ReturnPath]:
        """Every known return path, of every host."""
        ...


@dataclass
class RangeBoard:
    """Who holds which block of which NAT address, and the return paths, for the hosts of
    one process."""

    bits: int = DEFAULT_BITS
    owners: dict[tuple[str, int], str] = field(default_factory=dict)
    paths: set[ReturnPath] = field(default_factory=set)

    def lease(self, ip: str, lo: int, hi: int, host_id: str,
              skip: tuple[int, ...] = ()) -> int | None:
        """A block of ``ip`` in ``lo..hi`` but ``skip`` for ``host_id``: one it holds, else
        the first free one, leased now."""
        free = None
        for block in blocks(lo, hi, self.bits):
            if block in skip:
                continue
            owner = self.owners.get((ip, block))
            if owner == host_id:
                return block
            if owner is None and free is None:
                free = block
        if free is not None:
            self.owners[(ip, free)] = host_id
        return free


class MemoryNatRanges:
    """One host's ranges and the return paths of every host, on a :class:`RangeBoard`."""

    def __init__(self, host_id: str, board: RangeBoard | None = None) -> None:
        self.host_id = host_id
        self.board = board if board is not None else RangeBoard()
        self.held: dict[tuple[str, int, int], list[int]] = {}  # oldest first

    def range_for(self, ip: str, lo: int, hi: int, out_port: Obj,
                  scope: str) -> tuple[int, int] | None:
        held = self.held.get((ip, lo, hi))
        if not held:
            block = self.board.lease(ip, lo, hi, self.host_id)
            if block is None:
                return None
            held = self.held[(ip, lo, hi)] = [block]
        return block_range(held[-1], self.board.bits)

    def grow(self, ip: str, lo: int, hi: int) -> tuple[int, int] | None:
        """Lease another block of ``ip`` in ``lo..hi`` for the new connections (None: none
        is free)."""
        held = self.held.setdefault((ip, lo, hi), [])
        block = self.board.lease(ip, lo, hi, self.host_id, tuple(held))
        if block is None:
            return None
        held.append(block)
        return block_range(block, self.board.bits)

    def current(self, ip: str, first: int) -> tuple[int, int] | None:
        """The ports new connections get now instead of the block starting at ``first``."""
        block = first >> self.board.bits
        for (held_ip, _, _), held in self.held.items():
            if held_ip == ip and block in held:
                return block_range(held[-1], self.board.bits)
        return None

    def record(self, path: ReturnPath) -> None:
        self.board.paths.add(path)

    def paths(self) -> frozenset[ReturnPath]:
        return frozenset(self.board.paths)
