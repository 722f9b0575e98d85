"""Writers of the topology store take turns, so a write that does not conflict never starves.

Every write is an optimistic MULTI/EXEC transaction that WATCHes the store's version key: two
writers never interleave, and a commit that raced another one is retried with fresh reads.
Alone, that starves writers of a busy object (twenty clients editing one chain keep
invalidating each other's reads), so writers are also serialised, in two layers:

- **In a process**, a first-come first-served hand-off lock (:class:`TurnLock`): the threads of
  one API process or agent write one after the other, in arrival order. Their optimistic
  transactions then only race writers of other processes.
- **Across processes**, a lease in Redis (:class:`Lease`, key ``{p}:writelock``): a writer whose
  optimistic attempt lost a race takes the lease (``SET NX PX`` with a random token, polled with
  short randomised sleeps up to a deadline) and runs its transaction holding it; a Lua
  compare-and-delete releases it, so only the holder can. Optimistic writers WATCH the lease key
  and give way while it is held, so nobody else commits under a lease. A holder that dies holds
  it for at most :data:`LEASE_MS`; a holder slower than that loses its commit (the lease key it
  WATCHes changed) and queues again.

The version WATCH stays in every transaction, so the lease is about fairness, never about
safety. Reads take no lock: they retry when a commit landed while they read; only a read that
commits kept overtaking for a while (a large snapshot under steady writes) takes the lease for
one last, certain try.
"""

from __future__ import annotations

import collections
import random
import threading
import time
import uuid

import redis

from ryu_midonet.nsdb import errors

LEASE_MS = 5000
"""How long a lease lasts: the longest a writer that died holding it delays the others."""
WRITE_TIMEOUT_S = 20.0
"""The longest a write waits for its turn before it is refused (503, try again)."""

# Deletes KEYS[1] only while it holds ARGV[1] (a lease given up by its holder alone).
RELEASE_IF_HELD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class TurnLock:
    """A lock granted in the order threads asked for it (``threading.Lock`` promises no order)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._owner: int | None = None
        self._queue: collections.deque[threading.Event] = collections.deque()

    def acquire(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the lock; False when the time ran out."""
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                raise RuntimeError("a store transaction cannot run inside another one")
            if not self._held:
                self._held, self._owner = True, me
                return True
            turn = threading.Event()
            self._queue.append(turn)
        interrupted = True
        try:
            turn.wait(max(timeout, 0.0))
            interrupted = False
        finally:
            with self._mutex:
                granted = turn.is_set()
                if granted:
                    self._owner = me
                else:
                    self._queue.remove(turn)  # gave up (or was interrupted): out of the queue
            if granted and interrupted:
                self.release()  # handed over as we were interrupted: pass it on
        return granted

    def release(self) -> None:
        """Hand the lock to the longest-waiting thread, or free it."""
        with self._mutex:
            self._owner = None
            if self._queue:
                self._queue.popleft().set()  # ownership passes on; the lock stays held
            else:
                self._held = False


class Lease:
    """The store-wide write lease of one Redis key."""

    def __init__(self, client: redis.Redis, key: str, lease_ms: int = LEASE_MS) -> None:
        self.redis = client
        self.key = key
        self.lease_ms = lease_ms
        self._release = client.register_script(RELEASE_IF_HELD)

    def acquire(self, deadline: float) -> str:
        """Take the lease, waiting for its holder (until ``deadline``, a monotonic time)."""
        token = uuid.uuid4().hex
        pause = 0.001
        while not self.redis.set(self.key, token, nx=True, px=self.lease_ms):
            if time.monotonic() >= deadline:
                raise errors.Busy()
            time.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, 0.02)
        return token

    def release(self, token: str) -> None:
        """Give the lease back if it is still ours; a store outage just lets it expire."""
        try:
            self._release(keys=[self.key], args=[token])
        except errors.UNAVAILABLE:
            pass


def text(value: str | bytes | None) -> str | None:
    """A Redis reply as text, whatever the client's ``decode_responses``."""
    return value.decode() if isinstance(value, bytes) else value
