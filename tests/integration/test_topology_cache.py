"""A local topology copy follows the change feed and resynchronises after missing changes."""

from __future__ import annotations

from ryu_midonet.nsdb.cache import TopologyCache
from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology


def test_cache_follows_feed_and_resyncs_after_trim(redis_url: str) -> None:
    topo = Topology(Store.from_url(redis_url))
    cache = TopologyCache(Store.from_url(redis_url))
    heard: list[tuple[str, str]] = []
    cache.listeners.append(lambda op, kind, obj_id: heard.append((op, kind)))
    bridge = topo.create("bridge", {"name": "before"})
    cache.poll()
    assert cache.get("bridge", bridge["id"])["name"] == "before"

    port = topo.create("port", {}, bridge["id"])
    topo.update("bridge", bridge["id"], {"name": "after"})
    assert cache.poll() == 2
    assert cache.get("port", port["id"])["deviceId"] == bridge["id"]
    assert cache.get("bridge", bridge["id"])["name"] == "after"
    assert ("create", "port") in heard and ("update", "bridge") in heard

    # away while the feed was trimmed: the next poll reloads a snapshot
    router = topo.create("router", {"name": "r"})
    topo.delete("bridge", bridge["id"])
    topo.store.redis.xtrim(topo.store.key_feed, maxlen=0, approximate=False)
    topo.create("chain", {"name": "c"})
    heard.clear()
    cache.poll()
    assert cache.resyncs == 2
    assert cache.get("bridge", bridge["id"]) is None and cache.get("port", port["id"]) is None
    assert cache.get("router", router["id"])["name"] == "r"
    assert ("delete", "bridge") in heard and ("create", "router") in heard
    assert cache.version == topo.store.version()


def test_cache_blocks_until_a_change(redis_url: str) -> None:
    import threading

    topo = Topology(Store.from_url(redis_url))
    cache = TopologyCache(Store.from_url(redis_url))
    cache.poll()
    timer = threading.Timer(0.2, lambda: topo.create("bridge", {"name": "late"}))
    timer.start()
    applied = cache.poll(block_ms=5000)
    timer.join()
    assert applied == 1 and [b["name"] for b in cache.objects["bridge"].values()] == ["late"]


def test_cache_starts_over_when_the_store_lost_its_data(redis_url: str) -> None:
    topo = Topology(Store.from_url(redis_url))
    cache = TopologyCache(Store.from_url(redis_url))
    topo.create("bridge", {"name": "gone"})
    cache.poll()
    assert cache.objects["bridge"]
    topo.store.redis.flushall()  # as after a restart of a Redis without persistence
    router = topo.create("router", {"name": "new"})
    cache.poll()
    assert cache.objects["bridge"] == {} and list(cache.objects["router"]) == [router["id"]]


def test_cache_survives_losing_the_store(redis_url: str) -> None:
    cache = TopologyCache(Store.from_url(redis_url))
    Topology(Store.from_url(redis_url)).create("bridge", {"name": "kept"})
    cache.poll()
    cache.store = Store.from_url("redis://127.0.0.1:1/0")  # nothing listens there
    assert cache.poll() == 0  # keeps what it has
    assert [b["name"] for b in cache.objects["bridge"].values()] == ["kept"]
