"""Per-pool elections through the store: the holder of a pool's lease runs its monitor.

Key family (under the store's hash tag): ``{p}:state:hmlease:<pool id>`` holds the id of the
host that runs the pool's monitor, with a time to live of :data:`LEASE_MS`. The holder renews
it every poll (compare-and-expire: only the holder can); anyone else takes it once it expired
(``SET NX PX``), so a dead holder is replaced within one lease time plus one poll. A holder
gives it up with compare-and-delete. A holder that could not renew for a whole lease time
(store down, process stalled) stops counting itself elected, as another may have taken over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.writers import RELEASE_IF_HELD

LOG = logging.getLogger(__name__)

LEASE_MS = 3000
KEY_FAMILY = "hmlease"

# KEYS: the lease; ARGV: holder, ttl (ms). 1 when held by ARGV[1] afterwards.
_TAKE = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

class Leases(Protocol):
    """Where the leases live."""

    def take(self, name: str, holder: str, ttl_ms: int) -> bool:
        """Take or renew lease ``name`` for ``holder``; whether ``holder`` holds it."""

    def give(self, name: str, holder: str) -> None:
        """Release lease ``name`` if ``holder`` holds it."""

    def holder(self, name: str) -> str | None:
        """Who holds lease ``name``."""


class RedisLeases:
    """:class:`Leases` on the topology store's Redis."""

    def __init__(self, store: Any, family: str = KEY_FAMILY) -> None:
        self.store = store
        self.family = family  # another family holds the leases of other things (VTEPs)
        self._take = store.redis.register_script(_TAKE)
        self._give = store.redis.register_script(RELEASE_IF_HELD)

    def key(self, name: str) -> str:
        return str(self.store.key_state(f"{self.family}:{name}"))

    def take(self, name: str, holder: str, ttl_ms: int) -> bool:
        return bool(self._take(keys=[self.key(name)], args=[holder, ttl_ms]))

    def give(self, name: str, holder: str) -> None:
        self._give(keys=[self.key(name)], args=[holder])

    def holder(self, name: str) -> str | None:
        value = self.store.redis.get(self.key(name))
        return value.decode() if isinstance(value, bytes) else value


class Election:
    """This host's standing in the elections of the pools it is asked about."""

    def __init__(self, leases: Leases, me: str, ttl_ms: int = LEASE_MS,
                 clock: Callable[[], float] = time.monotonic,
                 what: str = "the health monitor of pool") -> None:
        self.leases = leases
        self.what = what  # what a lease stands for, in the log
        self.me = me
        self.ttl_ms = ttl_ms
        self._clock = clock
        self._renewed: dict[str, float] = {}  # pool id -> when the lease was last confirmed

    def hold(self, name: str) -> bool:
        """Take or renew the lease of ``name``: whether this host runs it now."""
        asked = self._clock()
        try:
            held = self.leases.take(name, self.me, self.ttl_ms)
        except errors.UNAVAILABLE as exc:
            LOG.debug("lease %s not renewed: %s", name, exc)
            return self.held(name)
        if held:
            if name not in self._renewed:
                LOG.info("this host now runs %s %s", self.what, name)
            self._renewed[name] = asked
        elif self._renewed.pop(name, None) is not None:
            LOG.info("another host runs %s %s", self.what, name)
        return held

    def held(self, name: str) -> bool:
        """Whether this host may still count itself elected for ``name`` (its last
        confirmation is less than a lease time old)."""
        renewed = self._renewed.get(name)
        if renewed is None:
            return False
        if self._clock() - renewed >= self.ttl_ms / 1000:
            del self._renewed[name]
            LOG.warning("the lease of %s %s could not be renewed in time", self.what, name)
            return False
        return True

    def give(self, name: str) -> None:
        """Give up ``name`` (no longer monitored, or the agent stops)."""
        self._renewed.pop(name, None)
        try:
            self.leases.give(name, self.me)
        except errors.UNAVAILABLE as exc:
            LOG.debug("lease %s not given up (it runs out): %s", name, exc)

    def names(self) -> list[str]:
        return list(self._renewed)
