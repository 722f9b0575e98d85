"""The in-process turn lock of store writers: first come, first served; no nesting."""

from __future__ import annotations

import threading
import time

import pytest

from ryu_midonet.nsdb.writers import TurnLock


def _wait_queued(lock: TurnLock, n: int) -> None:
    while len(lock._queue) < n:  # noqa: SLF001 - the queue is what the test orders
        time.sleep(0.001)


def test_turns_are_granted_in_arrival_order() -> None:
    lock = TurnLock()
    assert lock.acquire(1)
    order: list[int] = []

    def writer(n: int) -> None:
        assert lock.acquire(30)
        order.append(n)
        lock.release()

    threads = []
    for n in range(8):
        t = threading.Thread(target=writer, args=(n,))
        t.start()
        threads.append(t)
        _wait_queued(lock, n + 1)
    lock.release()
    for t in threads:
        t.join()
    assert order == list(range(8))
    assert lock.acquire(0)  # free again


def test_a_waiter_that_gives_up_leaves_the_queue() -> None:
    lock = TurnLock()
    assert lock.acquire(1)
    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(lock.acquire(0.05)))
    t.start()
    t.join()
    assert got == [False] and len(lock._queue) == 0  # noqa: SLF001
    lock.release()
    assert lock.acquire(0)


def test_a_transaction_inside_another_is_refused() -> None:
    lock = TurnLock()
    assert lock.acquire(1)
    with pytest.raises(RuntimeError):
        lock.acquire(1)
