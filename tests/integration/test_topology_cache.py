"""A local topology copy follows the change feed and resynchronises after missing changes."""

from __future__ import annotations

import time

from ryu_midonet.nsdb import divergence
from ryu_midonet.nsdb.cache import TopologyCache
from ryu_midonet.nsdb.divergence import Divergence
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


def test_cache_keeps_its_topology_when_the_store_lost_its_data(redis_url: str) -> None:
    topo = Topology(Store.from_url(redis_url))
    cache = TopologyCache(Store.from_url(redis_url))
    seen: list[Divergence | None] = []
    cache.divergence_listeners.append(seen.append)
    bridge = topo.create("bridge", {"name": "kept"})
    cache.poll()
    topo.store.redis.flushall()  # as after a restart of a Redis that lost its data
    router = topo.create("router", {"name": "new"})
    assert cache.poll() == 0
    assert list(cache.objects["bridge"]) == [bridge["id"]] and cache.objects["router"] == {}
    assert cache.divergence is not None and seen[-1] is cache.divergence
    assert "lost its data" in cache.divergence.describe()

    # an operator accepts the store as it is: the cache applies it
    divergence.accept(topo.store)
    assert cache.poll() == 2  # the bridge went, the router came
    assert cache.objects["bridge"] == {} and list(cache.objects["router"]) == [router["id"]]
    assert cache.divergence is None and seen[-1] is None
    # and follows the feed as before
    topo.create("chain", {"name": "after"})
    assert cache.poll() == 1


def test_cache_keeps_its_topology_when_the_store_went_back_in_time(redis_url: str) -> None:
    topo = Topology(Store.from_url(redis_url))
    topo.create("bridge", {"name": "old"})
    saved = {k: topo.store.redis.dump(k) for k in topo.store.redis.keys("*")}
    newer = topo.create("bridge", {"name": "newer"})
    cache = TopologyCache(Store.from_url(redis_url))
    cache.poll()
    topo.store.redis.flushall()  # restored from an older backup: same history, older version
    for key, value in saved.items():
        topo.store.redis.restore(key, 0, value)
    assert cache.poll() == 0 and newer["id"] in cache.objects["bridge"]
    assert "went back in time" in cache.divergence.describe()


def test_cache_applies_a_lost_store_after_its_grace_period(redis_url: str) -> None:
    topo = Topology(Store.from_url(redis_url))
    cache = TopologyCache(Store.from_url(redis_url), grace=0.5)
    topo.create("bridge", {"name": "gone"})
    cache.poll()
    topo.store.redis.flushall()
    assert cache.poll(block_ms=100) == 0 and cache.objects["bridge"]
    time.sleep(0.5)
    assert cache.poll() == 1 and cache.objects["bridge"] == {} and cache.divergence is None


def test_a_cache_built_from_an_empty_store_follows_its_first_writes(redis_url: str) -> None:
    cache = TopologyCache(Store.from_url(redis_url))
    assert cache.poll() == 0 and cache.epoch is None
    Topology(Store.from_url(redis_url)).create("bridge", {"name": "first"})
    assert cache.poll() == 1 and cache.divergence is None


def test_cache_survives_losing_the_store(redis_url: str) -> None:
    cache = TopologyCache(Store.from_url(redis_url))
    Topology(Store.from_url(redis_url)).create("bridge", {"name": "kept"})
    cache.poll()
    cache.store = Store.from_url("redis://127.0.0.1:1/0")  # nothing listens there
    assert cache.poll() == 0  # keeps what it has
    assert [b["name"] for b in cache.objects["bridge"].values()] == ["kept"]
