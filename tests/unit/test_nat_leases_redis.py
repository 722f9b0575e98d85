"""NAT port blocks and return paths of source NAT in the datapath, on a real redis-server:
two hosts never hold the same block, a host leases once and keeps its block across a restart,
a busy host leases more blocks ahead of need and lets idle ones run out, every agent sees
every return path, and a Redis outage leaves known blocks working."""

from __future__ import annotations

import time

import redis

from ryu_midonet.nsdb.store import Store
from ryu_midonet.sandbox import procs
from ryu_midonet.sandbox import store as servers
from ryu_midonet.sim.state.natranges import ReturnPath
from ryu_midonet.statestore import RedisBlockLeases, StateChanges
from ryu_midonet.statestore.natleases import RedisNatRanges

IP = "198.51.100.2"
UPLINK = {"id": "up"}
BITS = 14  # blocks of 16384: 1024-65535 holds 16384-32767, 32768-49151, 49152-65535


def ranges(url: str, host: str, bits: int = BITS, **kw: float) -> RedisNatRanges:
    return RedisNatRanges(Store.from_url(url), host, bits, **kw)


def commands(client: redis.Redis) -> set[str]:
    return set(client.info("commandstats")) - {"cmdstat_info", "cmdstat_config|resetstat"}


def path(host: str, first: int, port: str = "up") -> ReturnPath:
    return ReturnPath(port, "r", IP, first, first + (1 << BITS) - 1, host)


def announced(changes: StateChanges, agents: list[RedisNatRanges]) -> int:
    """Hand the announcements that came to the agents; how many were return paths'."""
    count = 0
    while (tag := changes.get(timeout=0.5)) is not None:
        count += sum(agent.changed(tag) for agent in agents)
    return count


def test_hosts_get_blocks_of_their_own_and_lease_only_once(redis_url: str) -> None:
    a, b = ranges(redis_url, "a"), ranges(redis_url, "b")
    first = a.range_for(IP, 1024, 65535, UPLINK, "r")
    second = b.range_for(IP, 1024, 65535, UPLINK, "r")
    assert first == (16384, 32767) and second == (32768, 49151)
    client = redis.Redis.from_url(redis_url)
    client.config_resetstat()
    for _ in range(3):  # every later connection: from the copy, nothing asked of Redis
        assert a.range_for(IP, 1024, 65535, UPLINK, "r") == first
        assert b.range_for(IP, 1024, 65535, UPLINK, "r") == second
    assert commands(client) == set()
    c, d = ranges(redis_url, "c"), ranges(redis_url, "d")
    assert c.range_for(IP, 1024, 65535, UPLINK, "r") == (49152, 65535)
    assert d.range_for(IP, 1024, 65535, UPLINK, "r") is None  # none left: the agent's path


def test_a_restarted_host_gets_its_block_and_paths_back(redis_url: str) -> None:
    a = ranges(redis_url, "a")
    ranges(redis_url, "b").range_for(IP, 1024, 65535, UPLINK, "r")
    block = a.range_for(IP, 1024, 65535, UPLINK, "r")
    assert block is not None
    a.record(path("a", block[0]))
    again = ranges(redis_url, "a")
    again.reload()
    assert again.paths() == {path("a", block[0])}
    assert again.range_for(IP, 1024, 65535, UPLINK, "r") == block


def test_every_agent_sees_every_return_path(redis_url: str) -> None:
    a, b = ranges(redis_url, "a"), ranges(redis_url, "b")
    changes = StateChanges(Store.from_url(redis_url))
    try:
        block = a.range_for(IP, 1024, 65535, UPLINK, "r")
        assert block is not None
        a.record(path("a", block[0]))
        a.record(path("a", block[0]))  # known: not written again
        a.record(path("a", block[0], port="vm4"))
        assert announced(changes, [a, b]) == 2 * 2
        assert b.paths() == a.paths() == {path("a", block[0]), path("a", block[0], "vm4")}
        a.forget(path("a", block[0], port="vm4"))
        assert announced(changes, [b]) == 1
        assert b.paths() == {path("a", block[0])}
        late = ranges(redis_url, "c")
        late.reload()
        assert late.paths() == b.paths()
    finally:
        changes.close()


def test_an_expired_lease_goes_to_another_host_with_its_paths(redis_url: str) -> None:
    a = ranges(redis_url, "a", ttl=0.001)
    block = a.range_for(IP, 16384, 32767, UPLINK, "r")
    assert block == (16384, 32767)
    a.record(path("a", 16384))
    b = ranges(redis_url, "b")
    changes = StateChanges(Store.from_url(redis_url))
    try:
        assert b.range_for(IP, 16384, 32767, UPLINK, "r") == block
        assert announced(changes, [b]) == 1
        assert b.paths() == frozenset()
        a.maintain()  # a learns that it lost the block
        assert ranges(redis_url, "a").range_for(IP, 16384, 32767, UPLINK, "r") is None
    finally:
        changes.close()


def test_maintenance_removes_leases_past_their_deadline(redis_url: str) -> None:
    a = ranges(redis_url, "a", ttl=0.001)
    block = a.range_for(IP, 1024, 65535, UPLINK, "r")
    assert block is not None
    a.record(path("a", block[0]))
    b = ranges(redis_url, "b")
    b.maintain()
    b.reload()
    assert b.paths() == frozenset()


def test_with_redis_down_known_blocks_work_and_paths_are_written_later(
        own_redis: tuple[servers.Server, list[procs.ProcessRecord]]) -> None:
    server, running = own_redis
    url = f"redis://{servers.LOCALHOST}:{server.port}/0"
    a = ranges(url, "a")
    block = a.range_for(IP, 1024, 65535, UPLINK, "r")
    assert block is not None
    procs.stop_all([running.pop()])
    assert a.range_for(IP, 1024, 65535, UPLINK, "r") == block
    assert a.range_for("198.51.100.3", 1024, 65535, UPLINK, "r") is None  # the agent's path
    a.record(path("a", block[0]))  # not written, kept here
    assert a.paths() == {path("a", block[0])}
    running.append(servers.start(server)[1])
    a.maintain()
    other = ranges(url, "b")
    other.reload()
    assert other.paths() == {path("a", block[0])}


def test_a_path_not_announced_yet_is_read_on_demand_once_a_second(redis_url: str) -> None:
    now = [100.0]
    a, b = ranges(redis_url, "a"), ranges(redis_url, "b", clock=lambda: now[0])
    block = a.range_for(IP, 1024, 65535, UPLINK, "r")
    assert block is not None
    assert not b.refresh(IP, block[0] + 5)  # nothing recorded yet
    a.record(path("a", block[0]))
    assert not b.refresh(IP, block[0] + 5)  # asked less than a second ago
    now[0] += 1.0
    assert b.refresh(IP, block[0] + 5)
    assert b.paths() == {path("a", block[0])}
    now[0] += 1.0
    assert not b.refresh(IP, block[0] + 5)  # nothing new


def test_the_agents_own_port_blocks_and_the_datapaths_never_overlap(redis_url: str) -> None:
    """Connections the agent translates (ICMP echo, a host without a datapath block) take
    ports of 64-port blocks of their own: never inside a datapath block, and the datapath
    takes no block where such a lease is live."""
    store = Store.from_url(redis_url)
    agent_c = RedisBlockLeases(store, "c")
    taken = agent_c.acquire(IP, 16384 // 64, 65535 // 64)  # first free: in 16384-32767
    assert taken == 16384 // 64
    a = ranges(redis_url, "a")
    assert a.range_for(IP, 1024, 65535, UPLINK, "r") == (32768, 49151)  # not c's
    agent_b = RedisBlockLeases(store, "b")
    got = [agent_b.acquire(IP, 32768 // 64 - 4, 65535 // 64) for _ in range(8)]
    assert got == [508, 509, 510, 511, 768, 769, 770, 771]  # a's block is 512-767


SMALL = 10  # blocks of 1024: 1024-65535 holds blocks 1-63


def test_as_many_hosts_as_blocks_translate_in_the_datapath(redis_url: str) -> None:
    hosts = [ranges(redis_url, f"h{n}", SMALL) for n in range(64)]
    got = [host.range_for(IP, 1024, 65535, UPLINK, "r") for host in hosts]
    assert got[:63] == [(b << SMALL, ((b + 1) << SMALL) - 1) for b in range(1, 64)]
    assert got[63] is None  # the 64th host: the agent's path
    assert hosts[0].adjust({(IP, 1): 1000}) == set()  # busy, but no block is left
    assert hosts[0].range_for(IP, 1024, 65535, UPLINK, "r") == (1024, 2047)


def test_a_busy_host_leases_the_next_block_ahead_of_need(redis_url: str) -> None:
    a, b = ranges(redis_url, "a", SMALL), ranges(redis_url, "b", SMALL)
    assert a.range_for(IP, 1024, 65535, UPLINK, "r") == (1024, 2047)
    assert b.range_for(IP, 1024, 65535, UPLINK, "r") == (2048, 3071)
    assert a.adjust({(IP, 1): 511}) == set()  # under half of block 1: nothing to do
    assert a.adjust({(IP, 1): 512}) == {IP}
    assert a.range_for(IP, 1024, 65535, UPLINK, "r") == (3072, 4095)  # not b's
    assert a.current(IP, 1024) == (3072, 4095)  # flows of block 1 move to block 3
    assert a.current(IP, 2048) is None  # b's
    assert a.adjust({(IP, 1): 600, (IP, 3): 700}) == {IP}  # and again
    assert a.blocks_held() == {IP: [1, 3, 4]}
    store = Store.from_url(redis_url)
    leases = {int(k): str(v) for k, v in
              store.redis.hgetall(store.key_state(f"natlease:{IP}")).items()}
    assert leases == {1: "a", 2: "b", 3: "a", 4: "a"}


def test_a_block_no_connection_uses_is_released_when_its_lease_runs_out(
        redis_url: str) -> None:
    a = ranges(redis_url, "a", SMALL, ttl=0.3)
    a.range_for(IP, 1024, 65535, UPLINK, "r")
    a.record(ReturnPath("up", "r", IP, 1024, 2047, "a"))
    assert a.adjust({(IP, 1): 900}) == {IP}
    a.record(ReturnPath("up", "r", IP, 2048, 3071, "a"))
    assert a.adjust({(IP, 1): 3, (IP, 2): 10}) == set()
    assert a.blocks_held() == {IP: [1, 2]}  # block 1 still has connections
    assert a.adjust({(IP, 2): 10}) == set()
    assert a.blocks_held() == {IP: [2]}  # not renewed any more
    assert a.range_for(IP, 1024, 65535, UPLINK, "r") == (2048, 3071)
    time.sleep(0.4)
    a.maintain()  # renews block 2, lets block 1 run out (with its path)
    c = ranges(redis_url, "c", SMALL)
    assert c.range_for(IP, 1024, 65535, UPLINK, "r") == (1024, 2047)
    late = ranges(redis_url, "d", SMALL)
    late.reload()
    assert late.paths() == {ReturnPath("up", "r", IP, 2048, 3071, "a")}


def test_a_restarted_host_releases_the_blocks_it_no_longer_uses(redis_url: str) -> None:
    a = ranges(redis_url, "a", SMALL)
    a.range_for(IP, 1024, 65535, UPLINK, "r")
    a.record(ReturnPath("up", "r", IP, 1024, 2047, "a"))
    a.adjust({(IP, 1): 900})
    a.record(ReturnPath("up", "r", IP, 2048, 3071, "a"))
    again = ranges(redis_url, "a", SMALL)
    again.reload()
    assert again.blocks_held() == {IP: [1, 2]}  # the tracker may hold connections on both
    assert again.range_for(IP, 1024, 65535, UPLINK, "r") == (2048, 3071)  # its newest again
    assert again.adjust({(IP, 1): 40, (IP, 2): 30}) == set()
    assert again.blocks_held() == {IP: [1, 2]}
    assert again.adjust({(IP, 2): 30}) == set()
    assert again.blocks_held() == {IP: [2]}
