"""Port ranges for dynamic source NAT done by the datapath's connection tracker.

With NAT in the datapath (the agent option ``nat_in_datapath``), a host does not choose a
(NAT address, port) per connection: its switch's connection tracker does, within a range of
ports of the NAT address that belongs to this host alone. A range is an aligned block of
``2**bits`` ports (block ``b`` holds ports ``b << bits .. ((b + 1) << bits) - 1``), leased once
per (NAT address, host) and kept, so that the reply to any connection can be recognised by
its destination port with one masked match and steered to the host that translated it.

:class:`NatRanges` is what the simulator asks: this host's range of a NAT address for
connections leaving through a port, or None when the datapath does not translate them here
(the rule is then applied as today, with flow state). :class:`MemoryNatRanges` leases from a
board shared by the "hosts" of one process and translates only towards ports bound on this
host. Each range it hands out is also queued as a :class:`ReturnPath` the agent turns into the
flows that send replies through the tracker (:meth:`MemoryNatRanges.take_new`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from ryu_midonet.types import Obj

DEFAULT_BITS = 14  # 16384 ports a host
MIN_PORT = 1
MAX_PORT = 65535


class ReturnPath(NamedTuple):
    """Replies entering at ``port_id`` towards ``ip`` with a destination port in
    ``first..last`` belong to connections this host translated in flow-state ``scope``."""

    port_id: str
    scope: str
    ip: str
    first: int
    last: int


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
        them here (no free block, or the port is not one this host can steer replies of)."""
        ...


@dataclass
class RangeBoard:
    """Who holds which block of which NAT address, for the hosts of one process."""

    bits: int = DEFAULT_BITS
    owners: dict[tuple[str, int], str] = field(default_factory=dict)

    def lease(self, ip: str, lo: int, hi: int, host_id: str) -> int | None:
        """The block of ``ip`` in ``lo..hi`` ``host_id`` holds, leased now if needed."""
        free = None
        for block in blocks(lo, hi, self.bits):
            owner = self.owners.get((ip, block))
            if owner == host_id:
                return block
            if owner is None and free is None:
                free = block
        if free is not None:
            self.owners[(ip, free)] = host_id
        return free


class MemoryNatRanges:
    """One host's ranges from a :class:`RangeBoard`, for ports bound on this host."""

    def __init__(self, host_id: str, board: RangeBoard | None = None) -> None:
        self.host_id = host_id
        self.board = board if board is not None else RangeBoard()
        self.paths: set[ReturnPath] = set()
        self._new: list[ReturnPath] = []

    def range_for(self, ip: str, lo: int, hi: int, out_port: Obj,
                  scope: str) -> tuple[int, int] | None:
        if out_port.get("hostId") != self.host_id:
            return None
        block = self.board.lease(ip, lo, hi, self.host_id)
        if block is None:
            return None
        first, last = block_range(block, self.board.bits)
        path = ReturnPath(str(out_port["id"]), scope, ip, first, last)
        if path not in self.paths:
            self.paths.add(path)
            self._new.append(path)
        return first, last

    def take_new(self) -> list[ReturnPath]:
        """The return paths handed out since last taken."""
        new, self._new = self._new, []
        return new

    def again(self) -> None:
        """Hand every return path out again (the switch lost its flows)."""
        self._new = sorted(self.paths)
