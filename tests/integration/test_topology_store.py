"""The topology store on a real redis-server: integrity, ordering, atomicity, change feed."""

from __future__ import annotations

import threading

import pytest
import redis

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology


def _keys(topo: Topology) -> dict[str, str]:
    r = topo.store.redis
    return {k: r.type(k) for k in r.keys("*") if not k.endswith((":feed", ":version"))}


def _host(topo: Topology, host_id: str, name: str = "h") -> dict:
    """A registered host that is in a tunnel zone, so ports can be bound on it."""
    host = topo.register_host(host_id, name)
    zone = topo.create("tunnelZone", {"name": f"tz-{host_id}"})
    topo.add_tunnel_zone_member(zone["id"], host_id, "192.168.0.3")
    return host


def _router_port(topo: Topology, router: dict, cidr: str) -> dict:
    addr, length = cidr.split("/")
    return topo.create("port", {"portAddress": addr, "networkLength": int(length)}, router["id"])


def test_router_port_gets_local_and_subnet_routes(topo: Topology) -> None:
    router = topo.create("router", {"name": "r"})
    port = _router_port(topo, router, "169.254.255.3/30")
    routes = {(r["dstNetworkAddr"], r["dstNetworkLength"], r["weight"], r["nextHopPort"])
              for r in topo.list("route", "routerId", router["id"])}
    assert routes == {("169.254.255.3", 32, 0, port["id"]), ("169.254.255.0", 30, 0, port["id"])}
    assert port["portMac"].startswith("02:") and port["networkAddress"] == "169.254.255.0"
    topo.delete("port", port["id"])
    assert topo.list("route", "routerId", router["id"]) == []


def test_deleting_a_router_removes_ports_routes_links_and_bindings(topo: Topology) -> None:
    host = _host(topo, "8a5c1f0e-0000-4000-8000-000000000001", "compute1")
    router = topo.create("router", {"name": "r"})
    bridge = topo.create("bridge", {"name": "b"})
    rport = _router_port(topo, router, "10.0.0.1/24")
    bport = topo.create("port", {}, bridge["id"])
    exterior = _router_port(topo, router, "172.19.0.2/30")
    topo.link(rport["id"], bport["id"])
    topo.bind(host["id"], exterior["id"], "veth1")
    pg = topo.create("portGroup", {"name": "pg"})
    topo.add_port_group_member(pg["id"], exterior["id"])
    topo.create("route", {"dstNetworkAddr": "0.0.0.0", "dstNetworkLength": 0,
                          "nextHopPort": exterior["id"], "nextHopGateway": "172.19.0.1"},
                router["id"])

    topo.delete("router", router["id"])

    assert topo.list("port", "deviceId", router["id"]) == []
    assert topo.list("route") == []
    assert topo.get("port", bport["id"])["peerId"] is None
    assert topo.bindings(host["id"]) == []
    assert topo.get("portGroup", pg["id"])["portIds"] == []
    remaining = _keys(topo)
    assert not [k for k in remaining if router["id"] in k or rport["id"] in k]


def test_link_rules(topo: Topology) -> None:
    host = _host(topo, "8a5c1f0e-0000-4000-8000-000000000002")
    r1, r2 = topo.create("router", {}), topo.create("router", {})
    b1, b2 = topo.create("bridge", {}), topo.create("bridge", {})
    p1, p2, p3 = (_router_port(topo, r1, "10.0.0.1/24"), _router_port(topo, r2, "10.0.0.2/24"),
                  _router_port(topo, r2, "10.0.1.2/24"))
    bp1, bp2 = topo.create("port", {}, b1["id"]), topo.create("port", {}, b2["id"])
    topo.link(p1["id"], p2["id"])
    assert topo.get("port", p2["id"])["peerId"] == p1["id"]
    with pytest.raises(errors.Conflict):
        topo.link(p3["id"], p1["id"])  # p1 is already linked
    with pytest.raises(errors.InvalidInput):
        topo.link(bp1["id"], bp2["id"])  # bridge to bridge
    topo.bind(host["id"], bp1["id"], "eth1")
    with pytest.raises(errors.Conflict):
        topo.link(p3["id"], bp1["id"])  # exterior port
    with pytest.raises(errors.Conflict):
        topo.bind(host["id"], p1["id"], "eth2")  # interior port
    with pytest.raises(errors.Conflict):
        topo.bind(host["id"], bp2["id"], "eth1")  # interface taken
    topo.unlink(p2["id"])
    assert topo.get("port", p1["id"])["peerId"] is None


def test_rule_positions_are_insertion_positions(topo: Topology) -> None:
    chain = topo.create("chain", {"name": "c"})
    a = topo.create("rule", {"type": "accept"}, chain["id"])
    b = topo.create("rule", {"type": "drop"}, chain["id"])  # no position -> head
    c = topo.create("rule", {"type": "return", "position": 2}, chain["id"])
    d = topo.create("rule", {"type": "reject", "position": 4}, chain["id"])
    assert [r["id"] for r in topo.rules_of(chain["id"])] == [b["id"], c["id"], a["id"], d["id"]]
    with pytest.raises(errors.InvalidInput) as exc:
        topo.create("rule", {"type": "drop", "position": 6}, chain["id"])
    assert exc.value.field == "position"
    topo.delete("rule", c["id"])
    assert [r["id"] for r in topo.rules_of(chain["id"])] == [b["id"], a["id"], d["id"]]


def test_deleting_a_chain_clears_users_and_jumps(topo: Topology) -> None:
    target = topo.create("chain", {"name": "target"})
    caller = topo.create("chain", {"name": "caller"})
    jump = topo.create("rule", {"type": "jump", "jumpChainId": target["id"]}, caller["id"])
    keep = topo.create("rule", {"type": "accept", "position": 2}, caller["id"])
    topo.create("rule", {"type": "drop"}, target["id"])
    router = topo.create("router", {"inboundFilterId": target["id"]})
    bridge = topo.create("bridge", {"outboundFilterId": target["id"]})
    port = topo.create("port", {}, bridge["id"])
    topo.update("port", port["id"], {"inboundFilterId": target["id"]})
    assert jump["jumpChainName"] == "target"

    topo.delete("chain", target["id"])

    assert topo.get("router", router["id"])["inboundFilterId"] is None
    assert topo.get("bridge", bridge["id"])["outboundFilterId"] is None
    assert topo.get("port", port["id"])["inboundFilterId"] is None
    assert [r["id"] for r in topo.rules_of(caller["id"])] == [keep["id"]]
    assert topo.list("rule") == [topo.get("rule", keep["id"])]


def test_jump_to_missing_chain_writes_nothing(topo: Topology) -> None:
    chain = topo.create("chain", {"name": "c"})
    before = topo.store.version()
    with pytest.raises(errors.InvalidInput) as exc:
        topo.create("rule", {"type": "jump", "jumpChainId": "0b0e1f6e-0000-4000-8000-00000000dead"},
                    chain["id"])
    assert exc.value.field == "jumpChainId"
    assert topo.store.version() == before
    assert topo.get("chain", chain["id"])["ruleIds"] == []


@pytest.mark.parametrize("policy", ["any", "nonheader"])
def test_l4_rule_refuses_any_and_nonheader_fragments(topo: Topology, policy: str) -> None:
    chain = topo.create("chain", {})
    with pytest.raises(errors.InvalidInput) as exc:
        topo.create("rule", {"type": "accept", "nwProto": 6, "tpDst": {"start": 80, "end": 80},
                             "fragmentPolicy": policy}, chain["id"])
    assert "FRAG_POLICY_INVALID_FOR_L4_RULE" in exc.value.message


def test_fragment_policy_defaults(topo: Topology) -> None:
    chain = topo.create("chain", {})
    plain = topo.create("rule", {"type": "drop", "nwSrcAddress": "10.0.0.0",
                                 "nwSrcLength": 16}, chain["id"])
    l4 = topo.create("rule", {"type": "accept", "tpDst": {"start": 80, "end": 80}}, chain["id"])
    static = topo.create("rule", {"type": "dnat", "natTargets": [
        {"addressFrom": "10.0.0.5", "addressTo": "10.0.0.5", "portFrom": 0, "portTo": 0}]},
        chain["id"])
    dynamic = topo.create("rule", {"type": "snat", "natTargets": [
        {"addressFrom": "200.200.200.11", "addressTo": "200.200.200.11",
         "portFrom": 10000, "portTo": 60000}]}, chain["id"])
    assert plain["fragmentPolicy"] == "any"  # IP src/dst do not make a rule L4
    assert l4["fragmentPolicy"] == "header"
    assert static["fragmentPolicy"] == "any" and static["flowAction"] == "accept"
    assert dynamic["fragmentPolicy"] == "unfragmented"
    with pytest.raises(errors.InvalidInput):
        topo.create("rule", {"type": "snat", "fragmentPolicy": "header", "natTargets": [
            {"addressFrom": "1.1.1.1", "addressTo": "1.1.1.9"}]}, chain["id"])


def test_readonly_refuses_every_write(topo: Topology) -> None:
    bridge = topo.create("bridge", {"name": "b"})
    topo.set_system_state({"availability": "READONLY"})
    version = topo.store.version()
    for write in (lambda: topo.create("router", {}),
                  lambda: topo.update("bridge", bridge["id"], {"name": "x"}),
                  lambda: topo.delete("bridge", bridge["id"])):
        with pytest.raises(errors.ReadOnly):
            write()
    assert topo.store.version() == version
    assert topo.get("bridge", bridge["id"])["name"] == "b"
    topo.set_system_state({"availability": "READWRITE"})
    topo.delete("bridge", bridge["id"])


def test_host_in_one_overlay_zone_only(topo: Topology) -> None:
    host = topo.register_host("8a5c1f0e-0000-4000-8000-000000000003", "h")
    gre = topo.create("tunnelZone", {"name": "gre"})
    vx = topo.create("tunnelZone", {"name": "vx", "type": "vxlan"})
    vtep = topo.create("tunnelZone", {"name": "vtep", "type": "vtep"})
    topo.add_tunnel_zone_member(gre["id"], host["id"], "10.1.2.200")
    with pytest.raises(errors.Conflict):
        topo.add_tunnel_zone_member(vx["id"], host["id"], "10.1.2.200")
    topo.add_tunnel_zone_member(vtep["id"], host["id"], "10.1.2.200")
    topo.remove_tunnel_zone_member(gre["id"], host["id"])
    topo.add_tunnel_zone_member(vx["id"], host["id"], "10.1.2.201")


def test_binding_needs_a_tunnel_zone(topo: Topology) -> None:
    host = topo.register_host("8a5c1f0e-0000-4000-8000-000000000005", "h")
    port = topo.create("port", {}, topo.create("bridge", {})["id"])
    with pytest.raises(errors.Conflict):
        topo.bind(host["id"], port["id"], "eth1")
    zone = topo.create("tunnelZone", {"name": "z"})
    topo.add_tunnel_zone_member(zone["id"], host["id"], "10.0.0.5")
    topo.bind(host["id"], port["id"], "eth1")


def test_tunnel_zone_names_are_unique(topo: Topology) -> None:
    zone = topo.create("tunnelZone", {"name": "z"})
    with pytest.raises(errors.Conflict):
        topo.create("tunnelZone", {"name": "z", "type": "vxlan"})
    topo.update("tunnelZone", zone["id"], {"name": "z", "type": "vxlan"})
    assert topo.get("tunnelZone", zone["id"])["type"] == "vxlan"


def test_only_an_inactive_unbound_host_can_be_deleted(topo: Topology) -> None:
    host = _host(topo, "8a5c1f0e-0000-4000-8000-000000000004")
    port = topo.create("port", {}, topo.create("bridge", {})["id"])
    topo.bind(host["id"], port["id"], "eth1")
    topo.heartbeat(host["id"], ttl_ms=60_000)
    with pytest.raises(errors.Conflict):
        topo.delete("host", host["id"])
    topo.host_down(host["id"])
    with pytest.raises(errors.Conflict):
        topo.delete("host", host["id"])  # still has a binding
    topo.unbind(host["id"], port["id"])
    topo.delete("host", host["id"])
    assert all(host["id"] not in z["hostIds"] for z in topo.list("tunnelZone"))
    with pytest.raises(errors.NotFound):
        topo.get("host", host["id"])


def test_group_used_by_rule_cannot_be_deleted(topo: Topology) -> None:
    pg = topo.create("portGroup", {"name": "pg"})
    chain = topo.create("chain", {})
    rule = topo.create("rule", {"type": "drop", "portGroup": pg["id"]}, chain["id"])
    with pytest.raises(errors.Conflict):
        topo.delete("portGroup", pg["id"])
    topo.delete("rule", rule["id"])
    topo.delete("portGroup", pg["id"])


def test_listing_keeps_creation_order(topo: Topology) -> None:
    names = [f"b{i}" for i in range(12)]
    for name in names:
        topo.create("bridge", {"name": name})
    topo.update("bridge", topo.list("bridge")[3]["id"], {"name": "renamed"})
    assert [b["name"] for b in topo.list("bridge")] == names[:3] + ["renamed"] + names[4:]


def test_concurrent_writers_lose_nothing(redis_url: str) -> None:
    topo = Topology(Store.from_url(redis_url))
    chain = topo.create("chain", {"name": "c"})

    def writer() -> None:
        mine = Topology(Store.from_url(redis_url))
        for _ in range(20):
            mine.create("rule", {"type": "accept"}, chain["id"])

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = topo.get("chain", chain["id"])["ruleIds"]
    assert len(ids) == 80 and len(set(ids)) == 80
    assert {r["id"] for r in topo.list("rule")} == set(ids)


def test_failed_transaction_writes_nothing(topo: Topology) -> None:
    router = topo.create("router", {})
    snapshot = topo.store.snapshot()
    with pytest.raises(errors.InvalidInput):
        # the first port would be written, the second check fails: all or nothing
        topo.create("port", {"portAddress": "10.0.0.1"}, router["id"])
    assert topo.store.snapshot() == snapshot


def test_change_feed_and_resync(topo: Topology) -> None:
    start = topo.store.version()
    bridge = topo.create("bridge", {"name": "b"})
    port = topo.create("port", {}, bridge["id"])
    topo.delete("bridge", bridge["id"])
    changes = topo.store.changes(start)
    assert [(c["op"], c["kind"], c["id"]) for c in changes] == [
        ("create", "bridge", bridge["id"]), ("create", "port", port["id"]),
        ("delete", "port", port["id"]), ("delete", "bridge", bridge["id"])]
    assert [c["version"] for c in changes] == [start + 1, start + 2, start + 3, start + 3]
    # a reader that was away while the feed got trimmed must resynchronise
    topo.store.redis.xtrim(topo.store.key_feed, maxlen=1, approximate=False)
    assert topo.store.changes(start) is None
    version, objects = topo.store.snapshot()
    assert version == topo.store.version() and objects["bridge"] == []


def test_blocking_reader_wakes_on_change(topo: Topology) -> None:
    start = topo.store.version()
    timer = threading.Timer(0.2, lambda: topo.create("router", {"name": "late"}))
    timer.start()
    changes = topo.store.changes(start, block_ms=5000)
    timer.join()
    assert changes and changes[0]["kind"] == "router"


def test_store_prefix_isolates_deployments(redis_url: str) -> None:
    a = Topology(Store.from_url(redis_url, prefix="a"))
    b = Topology(Store.from_url(redis_url, prefix="b"))
    a.create("bridge", {"name": "only-in-a"})
    assert b.list("bridge") == []
    keys = redis.Redis.from_url(redis_url).keys("*")
    assert keys and all(k.startswith(b"{a}:") for k in keys)


def test_icmp_rules_take_type_and_code_zero_in_the_port_ranges(topo: Topology) -> None:
    chain = topo.create("chain", {})
    echo_reply = topo.create("rule", {"type": "accept", "nwProto": 1,
                                      "tpSrc": {"start": 0, "end": 0}}, chain["id"])
    assert echo_reply["tpSrc"] == {"start": 0, "end": 0}
    for body in ({"type": "accept", "nwProto": 6, "tpDst": {"start": 0, "end": 80}},
                 {"type": "accept", "nwProto": 1, "tpSrc": {"start": 0, "end": 300}}):
        with pytest.raises(errors.InvalidInput):
            topo.create("rule", body, chain["id"])
