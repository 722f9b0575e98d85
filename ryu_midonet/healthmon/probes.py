"""The probe state machine of one pool's members, and TCP connect probes.

A member turns INACTIVE after ``maxRetries`` failed probes in a row and ACTIVE again after one
success. Until its first verdict a member keeps the status it had (as stored), so a monitor
that moves to another host does not flap its members.
"""

from __future__ import annotations

import errno
import select
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

ACTIVE = "ACTIVE"
INACTIVE = "INACTIVE"


@dataclass(frozen=True)
class Target:
    """Where one member is probed."""

    address: str
    port: int


@dataclass
class Health:
    """One member's probe history."""

    status: str
    failures: int = 0


class PoolHealth:
    """The members of one pool and what their probes concluded."""

    def __init__(self, max_retries: int) -> None:
        self.max_retries = max(1, max_retries)
        self.members: dict[str, Health] = {}

    def track(self, stored: Mapping[str, str]) -> None:
        """Follow exactly the members of ``stored`` (member id -> status as stored); a new
        member starts from its stored status, a known one keeps its history."""
        for member_id in [m for m in self.members if m not in stored]:
            del self.members[member_id]
        for member_id, status in stored.items():
            if member_id not in self.members:
                self.members[member_id] = Health(INACTIVE if status == INACTIVE else ACTIVE)

    def record(self, member_id: str, ok: bool) -> str | None:
        """One probe's result: the member's new status if it changed, else ``None``."""
        health = self.members.get(member_id)
        if health is None:
            return None
        if ok:
            health.failures = 0
            new = ACTIVE
        else:
            health.failures += 1
            new = INACTIVE if health.failures >= self.max_retries else health.status
        if new == health.status:
            return None
        health.status = new
        return new

    def statuses(self) -> dict[str, str]:
        return {member_id: h.status for member_id, h in self.members.items()}


Probe = Callable[[Mapping[str, Target], float], dict[str, bool]]


def tcp_connect_all(targets: Mapping[str, Target], timeout: float,
                    clock: Callable[[], float] = time.monotonic) -> dict[str, bool]:
    """Open a TCP connection to every target at once; which ones were accepted within
    ``timeout`` seconds. Accepted connections are closed at once."""
    result = {key: False for key in targets}
    pending: dict[int, tuple[str, socket.socket]] = {}
    poller = select.poll()
    try:
        for key, target in targets.items():
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            except OSError:
                continue
            sock.setblocking(False)
            try:
                code = sock.connect_ex((target.address, target.port))
            except (OSError, OverflowError, TypeError, ValueError):
                code = errno.EINVAL  # not an address to connect to: a failed probe
            if code == 0:
                result[key] = True
                sock.close()
            elif code in (errno.EINPROGRESS, errno.EAGAIN):
                pending[sock.fileno()] = (key, sock)
                poller.register(sock.fileno(), select.POLLOUT)
            else:
                sock.close()
        deadline = clock() + timeout
        while pending:
            left = deadline - clock()
            if left <= 0:
                break
            for fd, _ in poller.poll(left * 1000):
                key, sock = pending.pop(fd)
                poller.unregister(fd)
                ok = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
                result[key] = ok
                sock.close()
    finally:
        for _, sock in pending.values():
            sock.close()
    return result
