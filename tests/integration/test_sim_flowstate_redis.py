"""Flow state (conntrack, NAT) and SNAT port leases shared through a real redis-server."""

from __future__ import annotations

import time

from ryu_midonet.nsdb.store import Store
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import Packet, Result
from ryu_midonet.sim.state.flowstate import STICKY_PREFIX, STICKY_TTL
from ryu_midonet.sim.state.leases import block_of
from ryu_midonet.statestore import StateChanges, redis_state
from ryu_midonet.statestore.flowstate import RedisBlockLeases, RedisFlowTable
from tests.support import packets
from tests.support.matchers import assert_outputs
from tests.support.topology import MemoryTopology

VM, RIN, ROUT, FAR = (f"02:00:00:00:00:0{n}" for n in range(1, 5))
NAT_IP, REMOTE = "198.51.100.2", "8.8.8.8"


def follow(url: str) -> StateChanges:
    """A subscription to the announcements, confirmed before anything is written."""
    changes = StateChanges(Store.from_url(url))
    assert changes.get(timeout=0.2) is None
    return changes


def drain(changes: StateChanges) -> list[str]:
    out = []
    while (tag := changes.get(timeout=0.2)) is not None:
        out.append(tag)
    return out


def test_flow_table_is_shared_and_announces_changes(redis_url: str) -> None:
    store = Store.from_url(redis_url)
    changes = follow(redis_url)
    one, two = RedisFlowTable(store), RedisFlowTable(Store.from_url(redis_url))
    assert one.put("ct:a", "1")
    assert two.get("ct:a") == "1" and two.get("ct:b") is None
    assert not two.put("ct:a", "1")  # a refresh announces nothing
    assert not two.put_new("ct:a", "2") and one.get("ct:a") == "1"
    assert two.put_new("nat:x", "10.0.0.1:5")
    assert one.put("nat:x", "10.0.0.1:6")  # a new value is a change
    assert one.live(["ct:a", "nat:x", "ct:none"]) == {"ct:a", "nat:x"}
    assert one.delete("nat:x") and not one.delete("nat:x")
    assert drain(changes) == ["ct:a", "nat:x", "nat:x", "nat:x"]
    assert store.redis.hget("{mn}:state:flow", "ct:a") == "1"
    changes.close()


def test_entries_expire_on_the_server_clock_unless_refreshed(redis_url: str) -> None:
    store = Store.from_url(redis_url)
    flows = RedisFlowTable(store, ttl=1.0)
    flows.put("ct:old", "1")
    flows.put("ct:kept", "1")
    time.sleep(0.6)
    assert flows.refresh(["ct:kept", "ct:unknown"]) == 1
    time.sleep(0.6)
    assert flows.get("ct:old") is None and flows.get("ct:kept") == "1"
    assert flows.refresh(["ct:old"]) == 0  # expired: not brought back
    changes = follow(redis_url)
    assert flows.expire() == 1 and flows.expire() == 0
    assert drain(changes) == ["ct:old"]
    assert flows.put_new("ct:old", "1")  # absent again: may be written anew
    changes.close()


def test_block_leases_are_exclusive_per_host(redis_url: str) -> None:
    a = RedisBlockLeases(Store.from_url(redis_url), "host-a", ttl=0.5)
    b = RedisBlockLeases(Store.from_url(redis_url), "host-b", ttl=0.5)
    assert a.acquire(NAT_IP, 15, 16) == 15
    assert b.acquire(NAT_IP, 15, 16) == 16
    assert b.acquire(NAT_IP, 15, 16) is None
    assert a.held(NAT_IP) == {15} and b.owner(NAT_IP, 15) == "host-a"
    assert not b.renew(NAT_IP, 15) and not b.release(NAT_IP, 15)
    assert a.release(NAT_IP, 15) and b.acquire(NAT_IP, 15, 16) == 15
    time.sleep(0.3)
    assert b.renew(NAT_IP, 15)
    time.sleep(0.3)  # block 16 lapsed, 15 was renewed
    assert b.held(NAT_IP) == {15} and a.acquire(NAT_IP, 15, 16) == 16


def topology() -> MemoryTopology:
    """r:in (host h1) -- router r -- r:out (uplink, host gw); the uplink accepts return
    traffic only; r masquerades as 198.51.100.2."""
    b = MemoryTopology()
    r = b.router("r")
    b.router_port(r, "10.0.0.1/16", RIN, host="h1", port_id="r:in")
    up = b.router_port(r, "198.51.100.1/24", ROUT, host="gw", port_id="r:out")
    b.route(r, "0.0.0.0/0", up, gw="198.51.100.254")
    vm_in, up_in, pre, post = (b.chain(n) for n in ("vm-in", "up-in", "pre", "post"))
    b.rule(vm_in, "accept", matchForwardFlow=True)
    b.rule(up_in, "accept", matchReturnFlow=True)
    b.rule(up_in, "drop")
    b.rule(pre, "rev_snat", nwDstAddress=NAT_IP)
    b.rule(post, "snat", outPorts=["r:out"], natTargets=[f"{NAT_IP}:1024-65535"])
    b.objects["port"]["r:in"]["inboundFilterId"] = "vm-in"
    b.objects["port"]["r:out"]["inboundFilterId"] = "up-in"
    b.objects["router"]["r"].update(inboundFilterId="pre", outboundFilterId="post")
    return b


def tcp(src: str, sport: int = 40000) -> Packet:
    return packets.tcp(VM, RIN, src, REMOTE, sport, 443)


def nat_port(result: Result) -> int:
    (output,) = result.outputs
    return int({r.field: r.value for r in output.rewrites if r.op == "set"}["tcp_src"])


def test_state_written_on_one_host_serves_another(redis_url: str) -> None:
    b = topology()
    h1 = redis_state(Store.from_url(redis_url), host_id="h1")
    gw = redis_state(Store.from_url(redis_url), host_id="gw")
    for state in (h1, gw):
        state.arps.put("r", "198.51.100.254", FAR)
        state.arps.put("r", "10.0.0.7", VM)
    changes = follow(redis_url)
    reply = packets.tcp(FAR, ROUT, REMOTE, NAT_IP, 443, 1)
    forward = simulate(b.view(), h1, "r:in", tcp("10.0.0.7"))
    port = nat_port(forward)
    ct_key = f"ct:r:6:{REMOTE}:443:{NAT_IP}:{port}"
    assert ct_key in forward.state_keys and len(forward.state_keys) == 3
    assert ct_key in drain(changes)  # announced: flows built on its absence go
    back = simulate(b.view(), gw, "r:out", reply.replace(tcp_dst=port))  # the gateway host
    assert_outputs(back, "r:in")
    assert ct_key in back.tags and ct_key in back.state_keys
    assert gw.flows.refresh(back.state_keys) == 3
    changes.close()


def test_snat_ports_are_unique_across_hosts(redis_url: str) -> None:
    b = topology()
    hosts = [redis_state(Store.from_url(redis_url), host_id=f"h{n}") for n in range(2)]
    for state in hosts:
        state.arps.put("r", "198.51.100.254", FAR)
    ports: list[set[int]] = [set(), set()]
    for n in range(80):
        ports[n % 2].add(nat_port(simulate(b.view(), hosts[n % 2], "r:in",
                                           tcp(f"10.0.1.{n + 2}"))))
    assert len(ports[0]) == len(ports[1]) == 40 and not ports[0] & ports[1]
    assert not {block_of(p) for p in ports[0]} & {block_of(p) for p in ports[1]}
    leases = RedisBlockLeases(Store.from_url(redis_url), "h0")
    assert leases.held(NAT_IP) == {block_of(p) for p in ports[0]}
    assert hosts[0].leases.maintain(hosts[0].flows) == 0  # all in use: renewed


def test_a_sticky_source_entry_lives_a_day_and_a_refresh_keeps_it_so(redis_url: str) -> None:
    store = Store.from_url(redis_url)
    table = RedisFlowTable(store, ttl=0.2)
    sticky = f"{STICKY_PREFIX}vip:203.0.113.5"
    assert table.put("ct:short", "1") and table.put(sticky, "10.0.0.11:8080")

    def left(key: str) -> float:
        score = store.redis.zscore(table.deadlines, key)
        assert score is not None
        seconds, micros = store.redis.time()
        return score / 1000 - (seconds + micros / 1e6)

    assert STICKY_TTL - 60 < left(sticky) <= STICKY_TTL
    assert table.refresh(["ct:short", sticky]) == 2
    assert STICKY_TTL - 60 < left(sticky) <= STICKY_TTL and left("ct:short") <= 0.2
    time.sleep(0.3)
    assert table.get("ct:short") is None and table.get(sticky) == "10.0.0.11:8080"
