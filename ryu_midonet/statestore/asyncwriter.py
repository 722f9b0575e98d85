"""Writes queued by the packet path and made by a thread of their own.

The packet path never waits for the store: it :meth:`~AsyncWriter.submit`\\ s a write and goes
on. A writer thread drains the queue in batches (one round trip each). Writes of one key
coalesce: only the latest is made. A *change* (a value the store does not hold yet) is kept
apart from a *refresh* (the same value again, only to push its deadline back), so that when the
queue is full the oldest refresh goes first; a change is dropped only when the queue holds
nothing else. The queue never blocks the caller.

After a batch the thread lets ``pace`` seconds pass before the next one, so that under a
stream of new entries writes go in few round trips (and a busy packet path is not interrupted
for each one); a write that comes when the thread is idle goes at once.

A batch that fails because the store is unavailable goes back to the front of the queue and is
tried again after ``retry`` seconds, for as long as it takes; any other failure drops the batch
(it would fail again) and is logged.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

LOG = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
P = TypeVar("P")

QUEUE_LIMIT = 20_000  # queued keys
BATCH = 500  # writes per round trip
RETRY = 0.5  # seconds between attempts while the store is unavailable
PACE = 0.01  # seconds between batches


class AsyncWriter(Generic[K, P]):
    """A bounded, coalescing write queue drained by a daemon thread through ``flush``."""

    def __init__(self, flush: Callable[[list[P]], None],
                 retryable: Callable[[BaseException], bool] = lambda exc: True,
                 limit: int = QUEUE_LIMIT, batch: int = BATCH, retry: float = RETRY,
                 pace: float = PACE, name: str = "state-writer", start: bool = True) -> None:
        self._flush = flush
        self._retryable = retryable
        self.limit = max(1, limit)
        self.batch = max(1, batch)
        self.retry = retry
        self.pace = pace
        self._changes: OrderedDict[K, P] = OrderedDict()
        self._refreshes: OrderedDict[K, P] = OrderedDict()
        self._inflight: set[K] = set()
        self._cond = threading.Condition()
        self._closed = threading.Event()
        self._failing = False
        self.written = 0  # writes made
        self.dropped = 0  # writes dropped: queue full, or a failure not worth retrying
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        if start:
            self._thread.start()

    # -- the packet path -------------------------------------------------------------------
    def submit(self, key: K, payload: P, refresh: bool = False) -> None:
        """Queue ``payload`` as the write of ``key``, replacing one queued for it."""
        with self._cond:
            if key in self._changes:
                self._changes[key] = payload  # still a change to the store's value
            elif refresh:
                if key not in self._refreshes:
                    self._make_room()
                self._refreshes[key] = payload
            else:
                if self._refreshes.pop(key, None) is None:
                    self._make_room()
                self._changes[key] = payload
            self._cond.notify()

    def busy(self, key: K) -> bool:
        """Whether a write of ``key`` is queued or being made."""
        with self._cond:
            return key in self._changes or key in self._refreshes or key in self._inflight

    def queued(self) -> int:
        with self._cond:
            return len(self._changes) + len(self._refreshes)

    # -- life cycle ------------------------------------------------------------------------
    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or in flight; False when ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not (self._changes or self._refreshes or self._inflight), timeout)

    def close(self) -> None:
        """Stop the thread (what is still queued is not written)."""
        self._closed.set()
        with self._cond:
            self._cond.notify_all()

    def drain_once(self) -> bool:
        """Write one batch now, in the caller's thread; False when it failed (tests)."""
        batch = self._take()
        return self._write(batch) if batch else True

    # -- the writer thread -----------------------------------------------------------------
    def _run(self) -> None:
        while not self._closed.is_set():
            with self._cond:
                self._cond.wait_for(lambda: bool(self._changes or self._refreshes)
                                    or self._closed.is_set())
            if self._closed.is_set():
                return
            batch = self._take()
            if batch:
                self._closed.wait(self.pace if self._write(batch) else self.retry)

    def _take(self) -> list[tuple[K, P, bool]]:
        with self._cond:
            batch: list[tuple[K, P, bool]] = []
            for queue, refresh in ((self._changes, False), (self._refreshes, True)):
                while queue and len(batch) < self.batch:
                    key, payload = queue.popitem(last=False)
                    batch.append((key, payload, refresh))
            self._inflight = {key for key, _, _ in batch}
            return batch

    def _write(self, batch: list[tuple[K, P, bool]]) -> bool:
        try:
            self._flush([payload for _, payload, _ in batch])
        except Exception as exc:  # noqa: BLE001 - the store may come back; never die
            retry = self._retryable(exc)
            with self._cond:
                self._inflight = set()
                if retry:
                    self._requeue(batch)
                else:
                    self.dropped += len(batch)
                self._cond.notify_all()
            if not retry:
                LOG.error("dropping %d state writes: %s", len(batch), exc)
            elif not self._failing:
                LOG.warning("state writes wait for the store: %s", exc)
            self._failing = retry
            return False
        with self._cond:
            self._inflight = set()
            self.written += len(batch)
            self._cond.notify_all()
        if self._failing:
            LOG.info("state writes resumed")
            self._failing = False
        return True

    def _requeue(self, batch: list[tuple[K, P, bool]]) -> None:
        """Put a failed batch back in front, unless newer writes of its keys came meanwhile."""
        for key, payload, refresh in reversed(batch):
            if key in self._changes or key in self._refreshes:
                continue
            queue = self._refreshes if refresh else self._changes
            queue[key] = payload
            queue.move_to_end(key, last=False)
        while len(self._changes) + len(self._refreshes) > self.limit:
            self._drop_oldest()

    def _make_room(self) -> None:
        while len(self._changes) + len(self._refreshes) >= self.limit:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        queue = self._refreshes if self._refreshes else self._changes
        queue.popitem(last=False)
        self.dropped += 1
