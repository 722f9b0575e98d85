"""Writers of the topology store take turns on a real redis-server: none starves or gives up,
a dead lease holder delays the others only for the lease, reads take no lock, and counters
advance only with a commit."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.nsdb.writers import Lease

HOLDER = """
import sys, time
import redis
from ryu_midonet.nsdb.writers import Lease
lease = Lease(redis.Redis.from_url(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
lease.acquire(time.monotonic() + 10)
print("held", flush=True)
time.sleep(600)
"""


def _run(workers: list[Callable[[], None]]) -> list[BaseException]:
    """Run ``workers`` in threads at once; the exceptions they raised."""
    failures: list[BaseException] = []
    start = threading.Barrier(len(workers))

    def run(work: Callable[[], None]) -> None:
        start.wait()
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def test_writers_of_many_clients_on_one_chain_all_commit(redis_url: str, topo: Topology) -> None:
    chain = topo.create("chain", {"name": "busy"})
    clients = [Topology(Store.from_url(redis_url)) for _ in range(8)]  # as separate processes

    def writer(mine: Topology, n: int) -> Callable[[], None]:
        def work() -> None:
            for i in range(15):
                rule = mine.create("rule", {"type": "accept", "position": 1}, chain["id"])
                mine.update("chain", chain["id"], {"name": f"w{n}-{i}"})
                if i % 2:
                    mine.delete("rule", rule["id"])
        return work

    assert _run([writer(clients[n % 8], n) for n in range(20)]) == []
    ids = topo.get("chain", chain["id"])["ruleIds"]
    assert len(ids) == 20 * 8 and len(set(ids)) == len(ids)
    assert sorted(r["id"] for r in topo.list("rule")) == sorted(ids)
    assert topo.store.redis.exists(topo.store.key_lease) == 0


def test_threads_of_one_client_take_turns(topo: Topology) -> None:
    bridge = topo.create("bridge", {"name": "b"})

    def work() -> None:
        for _ in range(10):
            port = topo.create("port", {}, bridge["id"])
            topo.delete("port", port["id"])
            topo.create("port", {}, bridge["id"])

    assert _run([work] * 16) == []
    keys = [p["tunnelKey"] for p in topo.list("port", "deviceId", bridge["id"])]
    assert len(keys) == 160
    assert topo.store.seq("tunnelKey") == 320  # every committed create took one key, no more


def test_nobody_commits_while_another_holds_the_lease(redis_url: str, topo: Topology) -> None:
    holder = Lease(redis.Redis.from_url(redis_url), topo.store.key_lease)
    token = holder.acquire(deadline=float("inf"))
    version = topo.store.version()
    writer = threading.Thread(target=topo.create, args=("bridge", {"name": "waits"}))
    writer.start()
    writer.join(0.5)
    assert writer.is_alive() and topo.store.version() == version
    assert topo.list("bridge") == []  # reads take no lock
    holder.release(token)
    writer.join()
    assert [b["name"] for b in topo.list("bridge")] == ["waits"]


def test_a_killed_lease_holder_blocks_writers_only_for_the_lease(redis_url: str,
                                                                 topo: Topology) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, redis_url, topo.store.key_lease,
                             "1500"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    finally:
        proc.kill()
        proc.wait()
    assert topo.store.redis.exists(topo.store.key_lease) == 1
    bridge = topo.create("bridge", {"name": "after"})
    assert topo.get("bridge", bridge["id"])["name"] == "after"
    assert topo.store.redis.exists(topo.store.key_lease) == 0


def test_a_write_that_waits_too_long_is_busy_and_writes_nothing(redis_url: str) -> None:
    topo = Topology(Store.from_url(redis_url, write_timeout=0.3))
    topo.store.redis.set(topo.store.key_lease, "someone-else", px=60_000)
    with pytest.raises(errors.Busy) as caught:
        topo.create("bridge", {"name": "late"})
    assert caught.value.status == 503
    topo.store.redis.delete(topo.store.key_lease)
    assert topo.list("bridge") == [] and topo.store.version() == 0


def test_reads_do_not_wait_for_a_writer_of_the_same_client(topo: Topology) -> None:
    bridge = topo.create("bridge", {"name": "b"})
    inside, leave = threading.Event(), threading.Event()

    def slow(txn: object) -> None:
        inside.set()
        leave.wait(30)

    writer = threading.Thread(target=topo.store.transaction, args=(slow,))
    writer.start()
    try:
        assert inside.wait(30)
        assert [b["id"] for b in topo.list("bridge")] == [bridge["id"]]
        assert topo.list("port", "deviceId", bridge["id"]) == []
    finally:
        leave.set()
        writer.join()


def test_a_read_that_commits_keep_overtaking_still_completes(redis_url: str,
                                                             topo: Topology) -> None:
    bridge = topo.create("bridge", {"name": "b"})
    writer = Topology(Store.from_url(redis_url))  # another process, writing without pause
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            writer.update("bridge", bridge["id"], {"name": f"b{n}"})

    def slow_read(txn: Any) -> tuple[str, str]:
        first = txn.get("bridge", bridge["id"])["name"]
        time.sleep(0.05)  # every commit meanwhile makes this view stale
        return first, txn.get("bridge", bridge["id"])["name"]

    topo.store.read_patience = 0.3
    busy = threading.Thread(target=write)
    busy.start()
    try:
        first, second = topo.store.read(slow_read)
    finally:
        stop.set()
        busy.join()
    assert first == second  # one consistent view


def test_a_store_outage_surfaces_as_unavailable(free_port: Callable[[], int]) -> None:
    topo = Topology(Store.from_url(f"redis://127.0.0.1:{free_port()}/0"))
    with pytest.raises(redis.RedisError) as caught:
        topo.create("bridge", {"name": "b"})
    assert errors.unavailable(caught.value)


def test_tunnel_keys_are_consumed_only_by_created_ports(topo: Topology) -> None:
    router = topo.create("router", {"name": "r"})
    bridge = topo.create("bridge", {"name": "b"})
    first = topo.create("port", {}, bridge["id"])
    with pytest.raises(errors.InvalidInput):
        topo.create("port", {"networkLength": 24}, router["id"])  # no portAddress
    with pytest.raises(errors.InvalidInput):
        topo.create("port", {"inboundFilterId": "8a5c1f0e-0000-4000-8000-00000000ffff"},
                    bridge["id"])
    topo.set_system_state({"availability": "READONLY"})
    with pytest.raises(errors.ReadOnly):
        topo.create("port", {}, bridge["id"])
    topo.set_system_state({"availability": "READWRITE"})
    assert topo.store.seq("tunnelKey") == first["tunnelKey"]
    second = topo.create("port", {}, bridge["id"])
    assert second["tunnelKey"] == first["tunnelKey"] + 1


def test_concurrent_port_creates_get_unique_tunnel_keys(redis_url: str, topo: Topology) -> None:
    bridge = topo.create("bridge", {"name": "b"})
    clients = [Topology(Store.from_url(redis_url)) for _ in range(6)]

    def work(mine: Topology) -> Callable[[], None]:
        def create() -> None:
            for _ in range(15):
                mine.create("port", {}, bridge["id"])
        return create

    assert _run([work(c) for c in clients for _ in range(2)]) == []
    keys = sorted(p["tunnelKey"] for p in topo.list("port"))
    assert keys == list(range(1, 181))


def test_a_rule_update_keeps_its_place_and_is_checked(topo: Topology) -> None:
    chain = topo.create("chain", {"name": "c"})
    target = topo.create("chain", {"name": "target"})
    first = topo.create("rule", {"type": "drop", "nwProto": 6}, chain["id"])
    second = topo.create("rule", {"type": "accept", "position": 2}, chain["id"])
    changed = topo.update("rule", second["id"], {"type": "jump", "jumpChainId": target["id"],
                                                 "position": 1, "chainId": target["id"]})
    assert changed["jumpChainName"] == "target" and changed["chainId"] == chain["id"]
    assert topo.get("chain", chain["id"])["ruleIds"] == [first["id"], second["id"]]
    version = topo.store.version()
    for bad, field in (({"type": "dnat"}, "natTargets"),
                       ({"jumpChainId": chain["id"]}, "jumpChainId"),
                       ({"nwSrcLength": 8}, "nwSrcLength"),
                       ({"inPorts": ["8a5c1f0e-0000-4000-8000-00000000ffff"]}, "inPorts")):
        with pytest.raises(errors.InvalidInput) as caught:
            topo.update("rule", second["id"], bad)
        assert caught.value.field == field
    assert topo.store.version() == version
    back = topo.update("rule", second["id"], {"type": "accept"})
    assert back["jumpChainId"] is None and back["jumpChainName"] is None


def test_a_rule_update_derives_anew_what_the_client_sent_back_unchanged(topo: Topology) -> None:
    chain = topo.create("chain", {"name": "c"})
    nat = topo.create("rule", {"type": "snat", "natTargets": [
        {"addressFrom": "192.0.2.1", "addressTo": "192.0.2.9", "portFrom": 0, "portTo": 0}]},
        chain["id"])
    assert (nat["flowAction"], nat["fragmentPolicy"]) == ("accept", "unfragmented")
    # the whole stored rule back, with a new type and L4 ports: derived values follow
    plain = topo.update("rule", nat["id"], {**nat, "type": "accept", "nwProto": 6,
                                            "tpDst": {"start": 80, "end": 80}})
    assert (plain["flowAction"], plain["natTargets"], plain["fragmentPolicy"]) == (
        None, None, "unfragmented")  # still valid for an L4 rule: kept
    wide = topo.update("rule", nat["id"], {**plain, "tpDst": None, "fragmentPolicy": "any"})
    assert wide["fragmentPolicy"] == "any"
    l4 = topo.update("rule", nat["id"], {**wide, "tpDst": {"start": 22, "end": 22}})
    assert l4["fragmentPolicy"] == "header"
    with pytest.raises(errors.InvalidInput) as caught:  # changed by the client: checked
        topo.update("rule", nat["id"], {"fragmentPolicy": "nonheader"})
    assert caught.value.field == "fragmentPolicy"


def test_write_version_is_stored_and_checked(topo: Topology) -> None:
    assert topo.write_version() == "5.0"
    assert topo.set_write_version("5.2") == "5.2"
    assert topo.write_version() == "5.2"
    assert topo.system_state()["writeVersion"] == "5.2"
    for bad in (None, 5, "", "five", "5.", "5.0\n"):
        with pytest.raises(errors.InvalidInput) as caught:
            topo.set_write_version(bad)
        assert caught.value.field == "version"
    assert topo.write_version() == "5.2"


@pytest.mark.parametrize(("call", "field"), [
    (lambda t, ids: t.link(ids["port"], "not-a-uuid"), "peerId"),
    (lambda t, ids: t.link(ids["port"], "8a5c1f0e-0000-4000-8000-00000000ffff"), "peerId"),
    (lambda t, ids: t.add_port_group_member(ids["pg"], "not-a-uuid"), "portId"),
    (lambda t, ids: t.add_tunnel_zone_member(ids["tz"], "not-a-uuid", "10.0.0.1"), "hostId"),
    (lambda t, ids: t.bind(ids["host"], "not-a-uuid", "veth0"), "portId"),
])
def test_violations_name_the_request_field(topo: Topology, call: Callable, field: str) -> None:
    host = topo.register_host("8a5c1f0e-0000-4000-8000-000000000001", "h")
    ids = {"port": topo.create("port", {}, topo.create("bridge", {})["id"])["id"],
           "pg": topo.create("portGroup", {"name": "pg"})["id"],
           "tz": topo.create("tunnelZone", {"name": "tz"})["id"], "host": host["id"]}
    with pytest.raises(errors.InvalidInput) as caught:
        call(topo, ids)
    assert caught.value.field == field
