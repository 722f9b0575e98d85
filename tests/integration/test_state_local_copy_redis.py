"""Agents' local copies of the MAC and ARP tables on a real redis-server: what one agent learns
reaches the others through the announcements, lookups send nothing to Redis, entries still age
out on the server's clock, and what is learned while Redis is down is written once it is back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from ryu_midonet.nsdb.store import Store
from ryu_midonet.sandbox import procs
from ryu_midonet.sandbox import store as servers
from ryu_midonet.statestore import LocalState, StateChanges

MAC1, MAC2, MAC3 = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"
RMAC = "02:00:00:00:00:aa"


def follow(changes: StateChanges, agents: list[LocalState], *until: str,
           timeout: float = 10.0) -> None:
    """Hand the announcements to the agents, as their feed threads do, until every tag of
    ``until`` came."""
    waiting = set(until)
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        tag = changes.get(timeout=0.2)
        if tag is None:
            continue
        for agent in agents:
            agent.changed(tag)
        waiting.discard(tag)
    assert not waiting, f"{waiting} not announced"


def commands(client: redis.Redis) -> set[str]:
    """The commands Redis served since the statistics were reset (the reset and INFO aside)."""
    return set(client.info("commandstats")) - {"cmdstat_info", "cmdstat_config|resetstat"}


@pytest.fixture
def agents(redis_url: str) -> Iterator[tuple[LocalState, LocalState]]:
    one, two = LocalState(Store.from_url(redis_url)), LocalState(Store.from_url(redis_url))
    yield one, two
    one.close()
    two.close()


def test_what_one_agent_learns_the_other_looks_up_without_asking_redis(
        redis_url: str, agents: tuple[LocalState, LocalState]) -> None:
    one, two = agents
    changes = StateChanges(Store.from_url(redis_url))
    # the other agent already simulated on this bridge and router: it holds their tables
    assert two.state.macs.get("br", MAC1, None) is None
    assert two.state.arps.get("r", "10.0.0.2") is None

    assert one.state.macs.learn("br", MAC1, None, "p1")
    assert one.state.arps.put("r", "10.0.0.2", RMAC.upper())
    assert one.wait_written(10)
    follow(changes, [one, two], f"mac:br:{MAC1}", "arp:r:10.0.0.2")

    client = redis.Redis.from_url(redis_url)
    client.config_resetstat()
    for _ in range(200):
        assert two.state.macs.get("br", MAC1, None) == "p1"
        assert two.state.macs.get("br", MAC2, None) is None
        assert two.state.arps.get("r", "10.0.0.2") == RMAC
        assert one.state.macs.get("br", MAC1, None) == "p1"
    assert two.state.macs.entries("br") == {(MAC1, None): "p1"}
    assert commands(client) == set()

    # a move is a change: announced, and the other agent follows it
    assert two.state.macs.learn("br", MAC1, None, "p2")
    assert two.wait_written(10)
    follow(changes, [one, two], f"mac:br:{MAC1}")
    assert one.state.macs.get("br", MAC1, None) == "p2"
    changes.close()


def test_an_agent_that_missed_announcements_reloads(redis_url: str,
                                                    agents: tuple[LocalState, LocalState]
                                                    ) -> None:
    one, two = agents
    assert two.state.macs.get("br", MAC1, None) is None
    one.state.macs.learn("br", MAC1, 10, "p1")  # announced while the other was not listening
    assert one.wait_written(10)
    assert two.state.macs.get("br", MAC1, 10) is None
    two.reload()
    assert two.state.macs.get("br", MAC1, 10) == "p1"


def test_entries_still_age_out_on_the_servers_clock(redis_url: str) -> None:
    store = Store.from_url(redis_url)
    one, two = LocalState(store, mac_ttl=1.0), LocalState(Store.from_url(redis_url), mac_ttl=1.0)
    try:
        changes = StateChanges(store)
        assert two.state.macs.get("br", MAC1, None) is None
        one.state.macs.learn("br", MAC1, None, "p1")
        assert one.wait_written(10)
        follow(changes, [one, two], f"mac:br:{MAC1}")
        assert two.state.macs.get("br", MAC1, None) == "p1"
        time.sleep(1.2)
        assert two.state.macs.get("br", MAC1, None) is None
        assert one.state.macs.get("br", MAC1, None) is None
        assert one.state.macs.expire() == 1  # removed from Redis and announced
        follow(changes, [one, two], f"mac:br:{MAC1}")
        assert two.state.macs.entries("br") == {}
        assert not store.redis.hkeys("{mn}:state:mac:br")
        changes.close()
    finally:
        one.close()
        two.close()


def test_what_is_learned_while_redis_is_down_is_written_once_it_is_back(
        own_redis: tuple[servers.Server, list[procs.ProcessRecord]]) -> None:
    server, running = own_redis
    url = f"redis://{servers.LOCALHOST}:{server.port}/0"
    store = Store.from_url(url)
    agent = LocalState(store)
    changes = StateChanges(store)
    try:
        agent.state.macs.learn("br", MAC1, None, "p1")
        assert agent.state.arps.get("r", "10.0.0.2") is None
        assert agent.wait_written(10)

        procs.stop_all([running.pop()])
        # the packet path goes on: lookups and learning never wait for Redis
        assert agent.state.macs.get("br", MAC1, None) == "p1"
        assert agent.state.macs.learn("br", MAC2, None, "p2")
        assert agent.state.macs.learn("br", MAC1, None, "p3")
        assert agent.state.arps.put("r", "10.0.0.2", RMAC)
        assert not agent.wait_written(1.5)  # the writer waits for Redis

        running.append(servers.start(server)[1])
        assert agent.wait_written(30)
        # the feed's subscription comes back by itself, and says so: the agent reloads
        assert wait_resubscribed(changes)
        other = LocalState(Store.from_url(url))
        try:
            assert other.state.macs.entries("br") == {(MAC1, None): "p3", (MAC2, None): "p2"}
            assert other.state.arps.entries("r") == {"10.0.0.2": RMAC}
        finally:
            other.close()
    finally:
        changes.close()
        agent.close()


def wait_resubscribed(changes: StateChanges, timeout: float = 10.0) -> bool:
    """Whether the subscription is made again (or fails, for the agent to make anew)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            changes.get(timeout=0.2)
        except redis.ConnectionError:
            return True
        if changes.resubscribed():
            return True
    return False
