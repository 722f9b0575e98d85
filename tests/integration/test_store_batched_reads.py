"""Lists read their objects in batches: the Redis commands a listing costs do not grow one per
object (a real redis-server; its own command statistics count)."""

from __future__ import annotations

from ryu_midonet.nsdb.store import MGET_BATCH, Txn
from ryu_midonet.nsdb.topology import Topology


def _calls(topo: Topology) -> dict[str, int]:
    stats = topo.store.redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def test_a_list_reads_its_objects_a_batch_per_round_trip(topo: Topology) -> None:
    bridge = topo.create("bridge", {"name": "b"})
    made = {topo.create("port", {"interfaceName": f"p{n}"}, bridge["id"])["id"]
            for n in range(MGET_BATCH + 10)}
    topo.store.redis.config_resetstat()
    listed = topo.store.read(lambda txn: txn.list_by("port", "deviceId", bridge["id"]))
    calls = _calls(topo)
    assert {p["id"] for p in listed} == made
    assert calls.get("mget") == 2, calls
    assert calls.get("get", 0) <= 2, calls  # the version, before and after


def test_a_transaction_sees_its_own_writes_in_a_batched_list(topo: Topology) -> None:
    bridge = topo.create("bridge", {"name": "b"})
    ports = [topo.create("port", {}, bridge["id"]) for _ in range(3)]

    def work(txn: Txn) -> list[str]:
        first = txn.get("port", ports[0]["id"])
        first["interfaceName"] = "changed"
        txn.put("port", first)
        txn.delete("port", ports[1]["id"])
        listed = txn.list_by("port", "deviceId", bridge["id"])
        return sorted(str(p.get("interfaceName")) for p in listed)

    assert topo.store.transaction(work) == ["None", "changed"]
