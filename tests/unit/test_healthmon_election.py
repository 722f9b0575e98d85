"""The per-pool election: one holder at a time, renewed by it, taken over once it lapses."""

from __future__ import annotations

import redis

from ryu_midonet.healthmon.election import Election


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeLeases:
    """Leases with expiry on a shared fake clock, like the Redis scripts."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.leases: dict[str, tuple[str, float]] = {}
        self.down = False

    def _live(self, name: str) -> str | None:
        held = self.leases.get(name)
        if held is None or held[1] <= self.clock():
            self.leases.pop(name, None)
            return None
        return held[0]

    def take(self, name: str, holder: str, ttl_ms: int) -> bool:
        if self.down:
            raise redis.ConnectionError("down")
        current = self._live(name)
        if current not in (None, holder):
            return False
        self.leases[name] = (holder, self.clock() + ttl_ms / 1000)
        return True

    def give(self, name: str, holder: str) -> None:
        if self._live(name) == holder:
            del self.leases[name]

    def holder(self, name: str) -> str | None:
        return self._live(name)


def hosts(n: int = 2) -> tuple[Clock, FakeLeases, list[Election]]:
    clock = Clock()
    leases = FakeLeases(clock)
    return clock, leases, [Election(leases, f"host{i}", 3000, clock) for i in range(n)]


def test_one_host_wins_a_pool_and_keeps_it_while_it_renews() -> None:
    clock, leases, (a, b) = hosts()
    assert a.hold("pool1")
    for _ in range(10):
        clock.now += 1
        assert a.hold("pool1")
        assert not b.hold("pool1")
    assert leases.holder("pool1") == "host0"


def test_pools_are_elected_separately() -> None:
    _, _, (a, b) = hosts()
    assert a.hold("pool1")
    assert b.hold("pool2")
    assert not a.hold("pool2") and not b.hold("pool1")


def test_another_host_takes_over_once_the_holder_stops_renewing() -> None:
    clock, _, (a, b) = hosts()
    assert a.hold("pool1")
    clock.now += 2.9
    assert not b.hold("pool1")
    clock.now += 0.2  # a died: its lease ran out
    assert b.hold("pool1")
    assert not a.hold("pool1")  # a comes back: it lost the pool
    assert not a.held("pool1")


def test_giving_up_lets_another_host_in_at_once() -> None:
    _, _, (a, b) = hosts()
    assert a.hold("pool1")
    a.give("pool1")
    assert not a.held("pool1")
    assert b.hold("pool1")


def test_a_holder_cut_from_the_store_stops_counting_itself_elected_after_a_lease_time() -> None:
    clock, leases, (a, _) = hosts()
    assert a.hold("pool1")
    leases.down = True
    clock.now += 1
    assert a.hold("pool1")  # still within the lease it got
    clock.now += 2.5
    assert not a.hold("pool1")
    assert not a.held("pool1")
