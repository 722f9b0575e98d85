"""A read sees a multi-object commit whole or not at all (a real redis-server, a writer and
a reader in two threads, each with its own connections)."""

from __future__ import annotations

import threading

from ryu_midonet.nsdb.store import Store, Txn
from ryu_midonet.nsdb.topology import Topology

ROUNDS = 300


def test_a_read_sees_all_of_a_concurrent_multi_object_write_or_none(redis_url: str) -> None:
    topo = Topology(Store.from_url(redis_url))
    bridges = [topo.create("bridge", {"name": "0"}) for _ in range(20)]
    ids = [b["id"] for b in bridges]
    stop = threading.Event()

    def write(n: int) -> None:
        def work(txn: Txn) -> None:
            for bridge_id in ids:
                obj = txn.require("bridge", bridge_id)
                obj["name"] = str(n)
                txn.put("bridge", obj)
        Store.from_url(redis_url).transaction(work)

    def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            write(n)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    reader = Store.from_url(redis_url)
    seen: set[int] = set()
    try:
        for _ in range(ROUNDS):
            names = reader.read(lambda txn: [o["name"] for o in txn.list("bridge")])
            assert len(set(names)) == 1, names  # never part old, part new
            seen.add(int(names[0]))
    finally:
        stop.set()
        thread.join(timeout=10)
    assert len(seen) > 1  # the reads did overlap the writes
