"""midonet-cli's load-balancing commands: the Operations Guide's chapter 9, as written.

The installed console script against a real API process on a real redis-server. Where the
guide's output differs from what the API holds, the API wins: pm0 was created with address
192.168.100.100 (the guide prints 192.168.100.1, a wrapped line), and a member created without
a weight gets the REST default 1 (the guide prints ``weight 0``). Its ``list router`` spells
``infilter`` "infiltrer".
"""

from __future__ import annotations

import pytest
from cli_guide_helpers import Cli, Seed

pytestmark = pytest.mark.integration

POOL = "load-balancer lb0 pool pool0"


def test_the_guide_layer_4_load_balancing(cli: Cli, seed: Seed) -> None:
    seed.router("Edge Router")
    chains = seed.chains(2)
    seed.router("Tenant Router", inboundFilterId=chains[0]["id"],
                outboundFilterId=chains[1]["id"])
    guide = [
        ("list router", ["router router0 name Edge Router state up",
                         "router router1 name Tenant Router state up infilter chain0 "
                         "outfilter chain1"]),
        ("load-balancer create", ["lb0"]),
        ("router router1 set load-balancer lb0", []),
        ("load-balancer lb0 create pool lb-method ROUND_ROBIN", ["lb0:pool0"]),
        (f"{POOL} show", ["pool pool0 load-balancer lb0 lb-method ROUND_ROBIN state up"]),
        (f"{POOL} create member address 192.168.100.100 protocol-port 80", ["lb0:pool0:pm0"]),
        (f"{POOL} create member address 192.168.100.101 protocol-port 80", ["lb0:pool0:pm1"]),
        (f"{POOL} member pm0 show",
         ["pm pm0 address 192.168.100.100 protocol-port 80 weight 1 state up"]),
        (f"{POOL} list vip", []),
        (f"{POOL} create vip address 203.0.113.2 persistence SOURCE_IP protocol-port 8080",
         ["lb0:pool0:vip0"]),
        (f"{POOL} vip vip0 show", ["vip vip0 load-balancer lb0 address 203.0.113.2 "
                                   "protocol-port 8080 persistence SOURCE_IP state up"]),
        ("health-monitor list", []),
        ("health-monitor create type TCP delay 100 max-retries 50 timeout 500", ["hm0"]),
        (f"{POOL} set health-monitor hm0", []),
        (f"{POOL} health-monitor show",
         ["hm hm0 delay 100 timeout 500 max-retries 50 state down"]),
        ("health-monitor hm0 pool list", ["pool pool0 load-balancer lb0 health-monitor hm0 "
                                          "lb-method ROUND_ROBIN state up"]),
    ]
    after = [  # weights, persistence and monitor state change; deletes cascade
        ("router router1 show", ["router router1 name Tenant Router state up infilter chain0 "
                                 "outfilter chain1 load-balancer lb0"]),
        ("load-balancer list", ["lb lb0 router router1 state up"]),
        (f"{POOL} create member address 192.168.100.102 protocol-port 8080 weight 3",
         ["lb0:pool0:pm2"]),
        (f"{POOL} member pm1 set weight 0 state down", []),
        (f"{POOL} list member", [
            "pm pm0 address 192.168.100.100 protocol-port 80 weight 1 state up",
            "pm pm1 address 192.168.100.101 protocol-port 80 weight 0 state down",
            "pm pm2 address 192.168.100.102 protocol-port 8080 weight 3 state up"]),
        (f"{POOL} vip vip0 set persistence NONE", []),
        ("load-balancer lb0 list vip",
         ["vip vip0 load-balancer lb0 address 203.0.113.2 protocol-port 8080 state up"]),
        ("health-monitor hm0 set state up", []),
        ("health-monitor list", ["hm hm0 delay 100 timeout 500 max-retries 50 state up"]),
        (f"{POOL} member pm2 delete", []),
        ("load-balancer lb0 delete pool pool0", []),
        ("load-balancer lb0 list pool", []),
        ("health-monitor hm0 delete", []),
        ("load-balancer lb0 delete", []),
        ("load-balancer list", []),
        ("router router1 show", ["router router1 name Tenant Router state up infilter chain0 "
                                 "outfilter chain1"]),
    ]
    steps = guide + after
    outputs, err, rc = cli.session([command for command, _ in steps])
    assert (err, rc) == ("", 0)
    assert outputs == [out for _, out in steps]


def test_member_status_and_bad_input(cli: Cli, seed: Seed) -> None:
    lb = seed.post("load_balancers", {})
    pool = seed.post(f"load_balancers/{lb['id']}/pools", {"lbMethod": "ROUND_ROBIN"})
    member = seed.post(f"pools/{pool['id']}/pool_members", {"address": "10.0.0.5",
                                                            "protocolPort": 80})

    def inactive(txn: object) -> None:  # as health monitoring writes it
        obj = txn.require("poolMember", member["id"])  # type: ignore[attr-defined]
        obj["status"] = "INACTIVE"
        txn.put("poolMember", obj)  # type: ignore[attr-defined]

    seed.topo.store.transaction(inactive)
    assert cli.ok(f"{POOL} member pm0 show") == [
        "pm pm0 address 10.0.0.5 protocol-port 80 weight 1 state up status INACTIVE"]
    assert "protocol-port" in cli.fails(f"{POOL} create member address 10.0.0.6 "
                                        "protocol-port 70000")
    assert "lb-method" in cli.fails("load-balancer lb0 create pool lb-method LEAST_CONN")
