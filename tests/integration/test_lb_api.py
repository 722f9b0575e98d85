"""L4 load balancing through the REST API (a real API process, real Redis).

What a client sees: the root's ``loadBalancers``, ``pools``, ``poolMembers``, ``vips`` and
``healthMonitors`` links and templates; a load balancer attached to a router from either side;
pools, members and VIPs created in their parent or at the top naming it; bad input answers 400
naming the field and writes nothing; deleting a pool takes its members and VIPs, a load
balancer its pools, a router its load balancer; status fields are read-only; the readonly role
may read but not write.
"""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest
import redis
from rest_call import call, ok

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from tests.support import credentials

pytestmark = pytest.mark.integration

VND = "application/vnd.org.midonet."
LINKS = ("loadBalancers", "pools", "poolMembers", "vips", "healthMonitors")


def tenant_router(api_url: str) -> dict[str, Any]:
    """A router with a port on the members' subnet 192.168.100.0/24 and one on 203.0.113.0/24."""
    router = ok("POST", api_url + "/routers", {"name": "tenant"}, 201)
    for addr in ("192.168.100.1", "203.0.113.1"):
        ok("POST", router["ports"], {"portAddress": addr, "networkLength": 24}, 201)
    return dict(router)


def balanced(api_url: str) -> dict[str, Any]:
    """The guide's set-up: a load balancer on the tenant router, a pool, two members, a VIP."""
    root = ok("GET", api_url + "/")
    router = tenant_router(api_url)
    lb = ok("POST", root["loadBalancers"], {}, 201)
    router = ok("PUT", router["uri"], {**router, "loadBalancerId": lb["id"]})
    pool = ok("POST", ok("GET", lb["uri"])["pools"], {"lbMethod": "ROUND_ROBIN"}, 201)
    members = [ok("POST", pool["poolMembers"], {"address": f"192.168.100.{n}",
                                                "protocolPort": 80, "weight": w}, 201)
               for n, w in ((100, 1), (101, 3))]
    vip = ok("POST", pool["vips"], {"address": "203.0.113.2", "protocolPort": 8080,
                                    "sessionPersistence": "SOURCE_IP"}, 201)
    return {"root": root, "router": router, "lb": ok("GET", lb["uri"]), "pool": pool,
            "members": members, "vip": vip}


def test_round_trip(api_url: str) -> None:
    t = balanced(api_url)
    root, router, lb, pool, vip = t["root"], t["router"], t["lb"], t["pool"], t["vip"]
    for name in LINKS:
        assert root[name] == api_url + "/" + {"loadBalancers": "load_balancers",
                                              "poolMembers": "pool_members",
                                              "healthMonitors": "health_monitors"}.get(
                                                  name, name)
    assert lb["uri"] == root["loadBalancerTemplate"].replace("{id}", lb["id"])
    assert (router["loadBalancerId"], router["loadBalancer"]) == (lb["id"], lb["uri"])
    assert (lb["routerId"], lb["router"], lb["adminStateUp"]) == (router["id"], router["uri"],
                                                                  True)
    assert (pool["loadBalancerId"], pool["loadBalancer"], pool["lbMethod"], pool["protocol"],
            pool["healthMonitorId"], pool["healthMonitor"], pool["adminStateUp"],
            pool["status"]) == (lb["id"], lb["uri"], "ROUND_ROBIN", "TCP", None, None, True,
                                "ACTIVE")
    assert ok("GET", lb["pools"]) == [pool] == ok("GET", root["pools"])
    m0, m1 = t["members"]
    assert (m0["poolId"], m0["pool"], m0["address"], m0["protocolPort"], m0["weight"],
            m0["adminStateUp"], m0["status"]) == (pool["id"], pool["uri"], "192.168.100.100",
                                                  80, 1, True, "ACTIVE")
    assert ok("GET", pool["poolMembers"]) == [m0, m1] == ok("GET", root["poolMembers"])
    assert (vip["poolId"], vip["loadBalancerId"], vip["address"], vip["protocolPort"],
            vip["sessionPersistence"], vip["adminStateUp"]) == (
                pool["id"], lb["id"], "203.0.113.2", 8080, "SOURCE_IP", True)
    assert ok("GET", pool["vips"]) == [vip] == ok("GET", lb["vips"]) == ok("GET", root["vips"])
    for obj, tmpl in ((pool, "poolTemplate"), (m0, "poolMemberTemplate"), (vip, "vipTemplate")):
        assert ok("GET", root[tmpl].replace("{id}", obj["id"])) == obj
    assert ok("GET", root["poolStatistics"]) == []  # MidoNet kept none
    assert call("GET", root["poolStatisticTemplate"].replace("{id}", pool["id"]))[0] == 404

    # a monitor is created down; attached, it lists its pools; a client writes back what it read
    hm = ok("POST", root["healthMonitors"], {"type": "TCP", "delay": 100, "timeout": 500,
                                             "maxRetries": 50}, 201)
    assert (hm["type"], hm["delay"], hm["timeout"], hm["maxRetries"], hm["adminStateUp"]) == \
        ("TCP", 100, 500, 50, False)
    pool = ok("PUT", pool["uri"], {**pool, "healthMonitorId": hm["id"]})
    assert pool["healthMonitor"] == hm["uri"]
    assert ok("GET", hm["pools"]) == [pool]
    hm = ok("PUT", hm["uri"], {**hm, "adminStateUp": True, "delay": 5})
    assert (hm["adminStateUp"], hm["delay"]) == (True, 5)
    m0 = ok("PUT", m0["uri"], {**m0, "weight": 0, "adminStateUp": False})
    assert (m0["weight"], m0["adminStateUp"]) == (0, False)
    vip = ok("PUT", vip["uri"], {**vip, "sessionPersistence": None, "protocolPort": 80})
    assert (vip["sessionPersistence"], vip["protocolPort"]) == (None, 80)

    # pools, members and VIPs are created at the top too, naming their parent
    pool2 = ok("POST", root["pools"], {"loadBalancerId": lb["id"], "lbMethod": "ROUND_ROBIN"},
               201)
    m2 = ok("POST", root["poolMembers"], {"poolId": pool2["id"], "address": "10.0.0.5",
                                          "protocolPort": 22}, 201)
    vip2 = ok("POST", root["vips"], {"poolId": pool2["id"], "address": "198.51.100.7",
                                     "protocolPort": 22}, 201)
    assert (m2["poolId"], vip2["poolId"], vip2["loadBalancerId"]) == (pool2["id"],
                                                                      pool2["id"], lb["id"])
    assert ok("GET", lb["vips"]) == [vip, vip2] or ok("GET", lb["vips"]) == [vip2, vip]

    # detaching from the router side clears both sides
    router = ok("PUT", router["uri"], {**ok("GET", router["uri"]), "loadBalancerId": None})
    assert router["loadBalancer"] is None and ok("GET", lb["uri"])["routerId"] is None
    lb = ok("PUT", lb["uri"], {**ok("GET", lb["uri"]), "routerId": router["id"]})
    assert ok("GET", router["uri"])["loadBalancerId"] == lb["id"]


def test_bad_input_names_the_field_and_writes_nothing(api_url: str, redis_url: str) -> None:
    t = balanced(api_url)
    root, router, lb, pool, vip = t["root"], t["router"], t["lb"], t["pool"], t["vip"]
    m0 = t["members"][0]
    hm = ok("POST", root["healthMonitors"], {"delay": 1, "timeout": 1, "maxRetries": 1}, 201)
    up = ok("POST", root["healthMonitors"], {"delay": 1, "timeout": 1, "maxRetries": 1,
                                             "adminStateUp": True}, 201)
    other_router = ok("POST", api_url + "/routers", {"name": "other"}, 201)
    member = {"address": "192.168.100.102", "protocolPort": 80}
    good_vip = {"address": "203.0.113.3", "protocolPort": 80}
    good_hm = {"type": "TCP", "delay": 1, "timeout": 1, "maxRetries": 1}
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", lb["pools"], {"lbMethod": "LEAST_CONNECTIONS"}, "lbMethod"),
        ("POST", lb["pools"], {}, "lbMethod"),
        ("POST", lb["pools"], {"lbMethod": "ROUND_ROBIN", "protocol": "UDP"}, "protocol"),
        ("POST", root["pools"], {"lbMethod": "ROUND_ROBIN"}, "loadBalancerId"),
        ("POST", root["pools"], {"lbMethod": "ROUND_ROBIN", "loadBalancerId": pool["id"]},
         "loadBalancerId"),
        ("PUT", pool["uri"], {**pool, "lbMethod": "RANDOM"}, "lbMethod"),
        ("PUT", pool["uri"], {**pool, "healthMonitorId": [hm["id"], up["id"]]},
         "healthMonitorId"),  # two monitors on one pool
        ("PUT", pool["uri"], {**pool, "healthMonitorId": lb["id"]}, "healthMonitorId"),
        ("POST", pool["poolMembers"], {**member, "weight": -1}, "weight"),
        ("POST", pool["poolMembers"], {**member, "protocolPort": 0}, "protocolPort"),
        ("POST", pool["poolMembers"], {**member, "protocolPort": 65536}, "protocolPort"),
        ("POST", pool["poolMembers"], {**member, "address": "192.168.100"}, "address"),
        ("POST", pool["poolMembers"], {"protocolPort": 80}, "address"),
        ("POST", root["poolMembers"], member, "poolId"),
        ("PUT", m0["uri"], {**m0, "weight": -5}, "weight"),
        ("POST", root["vips"], good_vip, "poolId"),  # a VIP without a pool
        ("POST", root["vips"], {**good_vip, "poolId": lb["id"]}, "poolId"),
        ("POST", pool["vips"], {**good_vip, "protocolPort": 0}, "protocolPort"),
        ("POST", pool["vips"], {**good_vip, "protocolPort": 70000}, "protocolPort"),
        ("POST", pool["vips"], {**good_vip, "address": "203.0.113.300"}, "address"),
        ("POST", pool["vips"], {**good_vip, "sessionPersistence": "HTTP_COOKIE"},
         "sessionPersistence"),
        ("PUT", vip["uri"], {**vip, "address": "not-an-ip"}, "address"),
        ("POST", root["healthMonitors"], {**good_hm, "type": "HTTP"}, "type"),
        ("POST", root["healthMonitors"], {**good_hm, "delay": 0}, "delay"),
        ("POST", root["healthMonitors"], {**good_hm, "timeout": -1}, "timeout"),
        ("POST", root["healthMonitors"], {"delay": 1, "timeout": 1}, "maxRetries"),
        ("PUT", router["uri"], {**router, "loadBalancerId": pool["id"]}, "loadBalancerId"),
        ("PUT", other_router["uri"], {**other_router, "loadBalancerId": lb["id"]},
         "loadBalancerId"),  # the load balancer is on another router
        ("POST", root["loadBalancers"], {"routerId": router["id"]}, "routerId"),  # taken
    ]
    for method, url, body, field in cases:
        status, error = call(method, url, body)
        assert status == 400, (method, url, body, error)
        assert [v["property"] for v in error["violations"]] == [field], (body, error)

    # a VIP on the members' subnet is refused while health monitoring is on, from every side
    vip_in = ok("POST", pool["vips"], {"address": "192.168.100.50", "protocolPort": 80}, 201)
    monitored = ok("PUT", pool["uri"], {**pool, "healthMonitorId": hm["id"]})
    status, error = call("PUT", hm["uri"], {**hm, "adminStateUp": True})
    assert status == 400 and error["violations"][0]["property"] == "adminStateUp", error
    status, error = call("PUT", pool["uri"], {**monitored, "healthMonitorId": up["id"]})
    assert status == 400 and error["violations"][0]["property"] == "healthMonitorId", error
    ok("DELETE", vip_in["uri"], status=204)
    monitored = ok("PUT", pool["uri"], {**monitored, "healthMonitorId": up["id"]})
    status, error = call("POST", pool["vips"], {"address": "192.168.100.51",
                                                "protocolPort": 80})
    assert status == 400 and error["violations"][0]["property"] == "address", error
    assert "health-monitored" in error["violations"][0]["message"]

    # nothing was written
    assert ok("GET", lb["pools"]) == [monitored]
    assert ok("GET", pool["poolMembers"]) == t["members"]
    assert ok("GET", pool["vips"]) == [vip]
    assert ok("GET", hm["uri"])["adminStateUp"] is False
    assert len(ok("GET", root["healthMonitors"])) == 2
    assert ok("GET", other_router["uri"])["loadBalancerId"] is None
    assert len(ok("GET", root["loadBalancers"])) == 1

    # status is read-only for users (health monitoring writes it through the store)
    m0 = ok("PUT", m0["uri"], {**m0, "status": "INACTIVE"})
    assert m0["status"] == "ACTIVE"
    topo = Topology(Store.from_url(redis_url))

    def mark(txn: Any) -> None:
        obj = txn.require("poolMember", m0["id"])
        obj["status"] = "INACTIVE"
        txn.put("poolMember", obj)

    topo.store.transaction(mark)
    assert ok("GET", m0["uri"])["status"] == "INACTIVE"


def test_deletes_cascade(api_url: str, redis_url: str) -> None:
    t = balanced(api_url)
    root, router, lb, pool, vip = t["root"], t["router"], t["lb"], t["pool"], t["vip"]
    hm = ok("POST", root["healthMonitors"], {"delay": 1, "timeout": 1, "maxRetries": 1}, 201)
    pool = ok("PUT", pool["uri"], {**pool, "healthMonitorId": hm["id"]})
    pool2 = ok("POST", lb["pools"], {"lbMethod": "ROUND_ROBIN", "healthMonitorId": hm["id"]},
               201)
    assert len(ok("GET", hm["pools"])) == 2

    ok("DELETE", pool["uri"], status=204)  # its members and VIPs go with it
    for obj in (pool, vip, *t["members"]):
        assert call("GET", obj["uri"])[0] == 404, obj["uri"]
    assert ok("GET", root["poolMembers"]) == [] and ok("GET", root["vips"]) == []

    ok("DELETE", hm["uri"], status=204)  # its pools stay, unmonitored
    assert ok("GET", pool2["uri"])["healthMonitorId"] is None

    ok("DELETE", lb["uri"], status=204)  # its pools go; its router stays, detached
    assert call("GET", pool2["uri"])[0] == 404
    assert ok("GET", router["uri"])["loadBalancerId"] is None

    t = balanced(api_url)  # deleting a router deletes its load balancer, as MidoNet did
    ok("DELETE", t["router"]["uri"], status=204)
    for obj in (t["lb"], t["pool"], t["vip"], *t["members"]):
        assert call("GET", obj["uri"])[0] == 404, obj["uri"]
    client = redis.Redis.from_url(redis_url)
    try:
        for kind in ("loadBalancer", "pool", "poolMember", "vip"):
            assert not list(client.scan_iter(match=f"{{mn}}:obj:{kind}:*")), kind
    finally:
        client.close()


def test_readonly_role_reads_but_may_not_write(api_url: str, redis_url: str) -> None:
    t = balanced(api_url)
    root, router, lb, pool, vip = t["root"], t["router"], t["lb"], t["pool"], t["vip"]
    m0 = t["members"][0]
    hm = ok("POST", root["healthMonitors"], {"delay": 1, "timeout": 1, "maxRetries": 1}, 201)
    send = credentials.readonly_sender(api_url, redis_url, "lb-viewer")
    for url in (lb["uri"], pool["uri"], m0["uri"], vip["uri"], hm["uri"], lb["pools"],
                pool["poolMembers"], pool["vips"], hm["pools"], *(root[n] for n in LINKS)):
        assert send("GET", url)[0] == 200, url
    for method, url, body in [
            ("POST", root["loadBalancers"], {}), ("PUT", lb["uri"], lb),
            ("DELETE", lb["uri"], None),
            ("POST", lb["pools"], {"lbMethod": "ROUND_ROBIN"}), ("PUT", pool["uri"], pool),
            ("DELETE", pool["uri"], None),
            ("POST", pool["poolMembers"], {"address": "10.0.0.1", "protocolPort": 1}),
            ("PUT", m0["uri"], m0), ("DELETE", m0["uri"], None),
            ("POST", pool["vips"], {"address": "10.0.0.1", "protocolPort": 1}),
            ("PUT", vip["uri"], vip), ("DELETE", vip["uri"], None),
            ("POST", root["healthMonitors"], {"delay": 1, "timeout": 1, "maxRetries": 1}),
            ("PUT", hm["uri"], {**hm, "adminStateUp": True}), ("DELETE", hm["uri"], None),
            ("PUT", router["uri"], {**router, "loadBalancerId": None})]:
        assert send(method, url, body)[0] == 403, (method, url)
    assert ok("GET", lb["uri"]) == lb and ok("GET", pool["poolMembers"]) == t["members"]
    assert ok("GET", hm["uri"])["adminStateUp"] is False


def test_media_types(api_url: str) -> None:
    t = balanced(api_url)
    lb, pool = t["lb"], t["pool"]
    hm = ok("POST", t["root"]["healthMonitors"], {"delay": 1, "timeout": 1, "maxRetries": 1},
            201)
    for url, media in [(lb["uri"], "LoadBalancer-v1+json"),
                       (t["root"]["loadBalancers"], "collection.LoadBalancer-v1+json"),
                       (pool["uri"], "Pool-v1+json"), (lb["pools"], "collection.Pool-v1+json"),
                       (t["members"][0]["uri"], "PoolMember-v1+json"),
                       (pool["poolMembers"], "collection.PoolMember-v1+json"),
                       (t["vip"]["uri"], "VIP-v1+json"), (lb["vips"], "collection.VIP-v1+json"),
                       (hm["uri"], "HealthMonitor-v1+json"),
                       (hm["pools"], "collection.Pool-v1+json")]:
        with urllib.request.urlopen(url, timeout=15) as resp:
            assert resp.headers["Content-Type"] == VND + media, url
