"""MAC and ARP tables shared through a real redis-server: two agents, ageing, announcements."""

from __future__ import annotations

import time

from ryu_midonet.nsdb.store import Store
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import Output, Packet
from ryu_midonet.statestore import RedisArpTable, RedisMacTable, StateChanges, redis_state
from tests.support.packets import udp
from tests.support.topology import MemoryTopology

MAC1, MAC2 = "02:00:00:00:00:01", "02:00:00:00:00:02"


def drain(changes: StateChanges) -> list[str]:
    out = []
    while (tag := changes.get(timeout=0.2)) is not None:
        out.append(tag)
    return out


def test_mac_table_is_shared_and_announces_changes(redis_url: str) -> None:
    store = Store.from_url(redis_url)
    changes = StateChanges(store)
    agent1, agent2 = RedisMacTable(store), RedisMacTable(Store.from_url(redis_url))
    assert agent1.learn("br", MAC1.upper(), None, "p1")
    assert agent2.get("br", MAC1, None) == "p1"
    assert not agent2.learn("br", MAC1, None, "p1")  # a refresh announces nothing
    assert agent2.learn("br", MAC1, None, "p2")  # moved
    assert agent1.learn("br", MAC1, 10, "p3")  # another VLAN, another entry
    assert agent1.entries("br") == {(MAC1, None): "p2", (MAC1, 10): "p3"}
    assert agent1.forget("br", MAC1, 10) and not agent1.forget("br", MAC1, 10)
    assert drain(changes) == [f"mac:br:{MAC1}"] * 4
    assert store.redis.exists("{mn}:state:mac:br")
    changes.close()


def test_mac_entries_age_out_on_the_server_clock(redis_url: str) -> None:
    store = Store.from_url(redis_url)
    macs = RedisMacTable(store, ttl=1.0)
    macs.learn("br", MAC1, None, "p1")
    macs.learn("br", MAC2, None, "p2")
    time.sleep(0.6)
    macs.learn("br", MAC2, None, "p2")  # refreshed: lives until 1.6 s
    time.sleep(0.6)
    assert macs.get("br", MAC1, None) is None
    assert macs.get("br", MAC2, None) == "p2"
    assert macs.entries("br") == {(MAC2, None): "p2"}
    changes = StateChanges(store)
    assert macs.expire() == 1
    assert macs.expire() == 0
    assert store.redis.hkeys("{mn}:state:mac:br") == [f"-/{MAC2}"]
    assert drain(changes) == [f"mac:br:{MAC1}"]
    # learning an entry again after it aged out is a change (flows built on its absence go)
    time.sleep(0.6)
    assert macs.learn("br", MAC2, None, "p2")
    changes.close()


def test_arp_table_expires_and_announces(redis_url: str) -> None:
    store = Store.from_url(redis_url)
    changes = StateChanges(store)
    arps = RedisArpTable(store, ttl=0.3)
    assert arps.put("r", "10.0.0.2", "02:00:00:00:00:AA")
    assert arps.get("r", "10.0.0.2") == "02:00:00:00:00:aa"
    assert arps.entries("r") == {"10.0.0.2": "02:00:00:00:00:aa"}
    assert not arps.put("r", "10.0.0.2", "02:00:00:00:00:aa")
    time.sleep(0.4)
    assert arps.get("r", "10.0.0.2") is None and arps.entries("r") == {}
    assert arps.expire() == 1
    assert drain(changes) == ["arp:r:10.0.0.2", "arp:r:10.0.0.2"]
    changes.close()


def test_simulation_on_shared_state(redis_url: str) -> None:
    b = MemoryTopology()
    br = b.bridge("br")
    for name in ("p1", "p2", "p3"):
        b.bridge_port(br, port_id=name)
    agent1 = redis_state(Store.from_url(redis_url))
    agent2 = redis_state(Store.from_url(redis_url))

    def frame(src: str, dst: str) -> Packet:
        return udp(src, dst, "10.0.0.1", "10.0.0.2", 1, 2, ttl=None)

    # MAC2 is learned by the agent of p2's host; p1's agent then sends straight to p2
    flood = simulate(b.view(), agent2, "p2", frame(MAC2, MAC1))
    assert flood.outputs == [Output("p1"), Output("p3")]
    result = simulate(b.view(), agent1, "p1", frame(MAC1, MAC2))
    assert result.outputs == [Output("p2")]
    assert agent2.macs.get("br", MAC1, None) == "p1"
