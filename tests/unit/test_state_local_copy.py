"""Local copies of the MAC and ARP tables: lookups stay in the process, learned entries are
queued for a writer, announcements and reloads bring the store's word without undoing what
was learned here and not written yet."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable

import pytest
import redis

from ryu_midonet.sim.state import mac_tag
from ryu_midonet.statestore.asyncwriter import AsyncWriter
from ryu_midonet.statestore.localcopy import (
    REFRESH_FRACTION,
    Key,
    LocalEntries,
    LocalMacTable,
)
from ryu_midonet.statestore.tables import Entries, Write, mac_field
from tests.unit.fakeclock import Clock as FakeClock

MAC1, MAC2 = "02:00:00:00:00:01", "02:00:00:00:00:02"
TTL = 100.0


class FakeRemote:
    """The shared table: entries with deadlines on its own clock; counts every call."""

    kind = "mac"

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.data: dict[tuple[str, str], tuple[str, float]] = {}
        self.reads = 0
        self.writes: list[Write] = []
        self.during_read: Callable[[], None] | None = None
        self.down = False

    def set(self, table_id: str, field: str, value: str, ttl: float = TTL) -> None:
        self.data[(table_id, field)] = (value, self.clock() + ttl)

    def read(self, table_id: str, field: str = "", pattern: bool = False) -> Entries:
        self.reads += 1
        if self.down:
            raise redis.ConnectionError("down")
        now = self.clock()
        out = {f: (v, deadline - now) for (t, f), (v, deadline) in self.data.items()
               if t == table_id and deadline > now
               and (not field or (fnmatch.fnmatchcase(f, field) if pattern else f == field))}
        if self.during_read is not None:
            self.during_read()
        return out

    def write(self, writes: Iterable[Write]) -> None:
        if self.down:
            raise redis.ConnectionError("down")
        for w in writes:
            self.writes.append(w)
            if w.value is None:
                self.data.pop((w.table_id, w.field), None)
            else:
                self.set(w.table_id, w.field, w.value)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def remote(clock: FakeClock) -> FakeRemote:
    return FakeRemote(clock)


def local(remote: FakeRemote, clock: FakeClock, limit: int = 100) -> LocalMacTable:
    writer: AsyncWriter[Key, Write] = AsyncWriter(
        remote.write, lambda exc: isinstance(exc, redis.ConnectionError), limit=limit,
        start=False)
    return LocalMacTable(LocalEntries(remote, lambda: 0, TTL, writer, clock))


def drain(macs: LocalMacTable) -> None:
    while macs.copy.writer.queued():
        assert macs.copy.writer.drain_once()


def test_a_table_is_read_once_then_looked_up_here(remote: FakeRemote, clock: FakeClock) -> None:
    remote.set("br", mac_field(MAC1, None), "p1")
    macs = local(remote, clock)
    assert macs.get("br", MAC1, None) == "p1"
    for _ in range(100):
        assert macs.get("br", MAC1, None) == "p1"
        assert macs.get("br", MAC2, None) is None
    assert remote.reads == 1
    assert macs.entries("br") == {(MAC1, None): "p1"}


def test_an_entry_past_its_deadline_on_the_server_is_not_used(remote: FakeRemote,
                                                              clock: FakeClock) -> None:
    remote.set("br", mac_field(MAC1, None), "p1", ttl=5.0)
    macs = local(remote, clock)
    assert macs.get("br", MAC1, None) == "p1"
    clock.now += 5.0
    assert macs.get("br", MAC1, None) is None
    assert macs.entries("br") == {}


def test_learning_is_seen_here_at_once_and_written_later(remote: FakeRemote,
                                                         clock: FakeClock) -> None:
    macs = local(remote, clock)
    assert macs.learn("br", MAC1.upper(), None, "p1")
    assert macs.get("br", MAC1, None) == "p1"
    assert remote.writes == []
    drain(macs)
    assert remote.writes == [Write("br", mac_field(MAC1, None), "p1", mac_tag("br", MAC1))]


def test_repeats_coalesce_into_the_latest_write(remote: FakeRemote, clock: FakeClock) -> None:
    macs = local(remote, clock)
    for port in ("p1", "p2", "p3"):
        macs.learn("br", MAC1, None, port)
    macs.learn("br", MAC2, 10, "p1")
    drain(macs)
    assert [(w.field, w.value) for w in remote.writes] == [
        (mac_field(MAC1, None), "p3"), (mac_field(MAC2, 10), "p1")]


def test_learning_the_same_port_again_refreshes_at_most_once_per_fraction_of_the_ttl(
        remote: FakeRemote, clock: FakeClock) -> None:
    macs = local(remote, clock)
    assert macs.learn("br", MAC1, None, "p1")
    drain(macs)
    step = TTL * REFRESH_FRACTION / 4
    for _ in range(3):
        clock.now += step
        assert not macs.learn("br", MAC1, None, "p1")
    assert macs.copy.writer.queued() == 0
    clock.now += 2 * step  # more than the fraction since the last write
    assert not macs.learn("br", MAC1, None, "p1")  # a refresh is no change
    drain(macs)
    assert len(remote.writes) == 2
    # the refresh pushed the deadline back: alive well after the first write's deadline
    clock.now += TTL - 3 * step
    assert macs.get("br", MAC1, None) == "p1"


def test_learning_an_aged_out_entry_again_is_a_change(remote: FakeRemote,
                                                      clock: FakeClock) -> None:
    macs = local(remote, clock)
    macs.learn("br", MAC1, None, "p1")
    clock.now += TTL
    assert macs.learn("br", MAC1, None, "p1")


def test_a_full_queue_drops_the_oldest_refresh_first_and_never_blocks() -> None:
    flushed: list[list[str]] = []
    writer: AsyncWriter[str, str] = AsyncWriter(flushed.append, limit=3, start=False)
    writer.submit("a", "a-refresh", refresh=True)
    writer.submit("b", "b-change")
    writer.submit("c", "c-refresh", refresh=True)
    writer.submit("d", "d-change")  # full: the oldest refresh (a) goes
    assert writer.dropped == 1 and not writer.busy("a")
    writer.submit("e", "e-change")  # full: the remaining refresh (c) goes
    writer.submit("f", "f-change")  # only changes left: the oldest change (b) goes
    assert writer.dropped == 3
    writer.submit("d", "d-again", refresh=True)  # coalesces; d stays a change
    assert writer.drain_once()
    assert flushed == [["d-again", "e-change", "f-change"]]


def test_a_change_replaces_a_queued_refresh_of_the_same_key() -> None:
    flushed: list[list[str]] = []
    writer: AsyncWriter[str, str] = AsyncWriter(flushed.append, limit=2, start=False)
    writer.submit("a", "a1", refresh=True)
    writer.submit("a", "a2")
    writer.submit("b", "b1", refresh=True)
    writer.submit("c", "c1")  # full: b, the only refresh, goes
    assert writer.drain_once()
    assert flushed == [["a2", "c1"]]


def test_writes_wait_for_the_store_and_lose_nothing(remote: FakeRemote,
                                                    clock: FakeClock) -> None:
    macs = local(remote, clock)
    macs.get("br", MAC1, None)  # loaded while the store is up
    remote.down = True
    macs.learn("br", MAC1, None, "p1")
    assert not macs.copy.writer.drain_once()
    macs.learn("br", MAC2, None, "p2")
    assert not macs.copy.writer.drain_once()
    macs.learn("br", MAC1, None, "p3")  # newer than the failed write: that one wins
    assert macs.get("br", MAC1, None) == "p3"
    remote.down = False
    drain(macs)
    assert remote.data[("br", mac_field(MAC1, None))][0] == "p3"
    assert remote.data[("br", mac_field(MAC2, None))][0] == "p2"


def test_a_failure_that_would_repeat_drops_the_batch() -> None:
    def flush(batch: list[str]) -> None:
        raise ValueError("bad")

    writer: AsyncWriter[str, str] = AsyncWriter(flush, lambda exc: False, start=False)
    writer.submit("a", "a")
    assert not writer.drain_once()
    assert writer.dropped == 1 and writer.queued() == 0


def test_an_announcement_reads_that_entry_again(remote: FakeRemote, clock: FakeClock) -> None:
    macs = local(remote, clock)
    assert macs.get("br", MAC1, None) is None
    remote.set("br", mac_field(MAC1, None), "p1")  # learned by another agent
    remote.set("br", mac_field(MAC1, 10), "p5")
    remote.set("br", mac_field(MAC2, None), "p2")
    macs.copy.changed("br", f"*/{MAC1}", pattern=True)
    assert macs.entries("br") == {(MAC1, None): "p1", (MAC1, 10): "p5"}
    del remote.data[("br", mac_field(MAC1, 10))]
    macs.copy.changed("br", f"*/{MAC1}", pattern=True)
    assert macs.entries("br") == {(MAC1, None): "p1"}
    assert remote.reads == 3


def test_an_announcement_for_a_table_not_copied_here_reads_nothing(
        remote: FakeRemote, clock: FakeClock) -> None:
    macs = local(remote, clock)
    macs.copy.changed("elsewhere", f"*/{MAC1}", pattern=True)
    assert remote.reads == 0


def test_a_read_never_undoes_a_write_not_made_yet(remote: FakeRemote, clock: FakeClock) -> None:
    remote.set("br", mac_field(MAC1, None), "p-old")
    macs = local(remote, clock)
    macs.learn("br", MAC1, None, "p-new")  # queued
    macs.copy.changed("br", f"*/{MAC1}", pattern=True)
    macs.copy.reload()
    assert macs.get("br", MAC1, None) == "p-new"
    drain(macs)
    macs.copy.changed("br", f"*/{MAC1}", pattern=True)  # the write's own announcement
    assert macs.get("br", MAC1, None) == "p-new"


def test_a_read_never_undoes_what_was_learned_while_it_was_under_way(
        remote: FakeRemote, clock: FakeClock) -> None:
    remote.set("br", mac_field(MAC1, None), "p-old")
    macs = local(remote, clock)
    macs.get("br", MAC1, None)

    def learn_and_write() -> None:  # the packet path learns and the writer writes meanwhile
        remote.during_read = None
        macs.learn("br", MAC1, None, "p-new")
        drain(macs)
        remote.set("br", mac_field(MAC1, None), "p-old")  # the reply was taken before

    remote.during_read = learn_and_write
    macs.copy.changed("br", f"*/{MAC1}", pattern=True)
    assert macs.get("br", MAC1, None) == "p-new"


def test_a_reload_replaces_the_copy(remote: FakeRemote, clock: FakeClock) -> None:
    remote.set("br", mac_field(MAC1, None), "p1")
    macs = local(remote, clock)
    assert macs.entries("br") == {(MAC1, None): "p1"}
    del remote.data[("br", mac_field(MAC1, None))]
    remote.set("br", mac_field(MAC2, None), "p2")  # changes announced while unsubscribed
    macs.copy.reload()
    assert macs.entries("br") == {(MAC2, None): "p2"}


def test_a_table_the_store_cannot_give_is_an_error_on_first_use(
        remote: FakeRemote, clock: FakeClock) -> None:
    remote.down = True
    macs = local(remote, clock)
    with pytest.raises(redis.ConnectionError):
        macs.get("br", MAC1, None)
    remote.down = False
    remote.set("br", mac_field(MAC1, None), "p1")
    assert macs.get("br", MAC1, None) == "p1"


def test_forgetting_is_written_too(remote: FakeRemote, clock: FakeClock) -> None:
    remote.set("br", mac_field(MAC1, None), "p1")
    macs = local(remote, clock)
    assert macs.forget("br", MAC1, None)
    assert not macs.forget("br", MAC1, None)
    assert macs.get("br", MAC1, None) is None
    drain(macs)
    assert ("br", mac_field(MAC1, None)) not in remote.data


def test_the_writer_thread_drains_the_queue() -> None:
    flushed: list[str] = []
    writer: AsyncWriter[str, str] = AsyncWriter(flushed.extend)
    try:
        for n in range(50):
            writer.submit(str(n), str(n))
        assert writer.wait_idle(10)
        assert sorted(flushed, key=int) == [str(n) for n in range(50)]
    finally:
        writer.close()
