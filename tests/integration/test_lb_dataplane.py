"""L4 load balancing on real Open vSwitch, sandbox ``lb``: connections to a VIP reach the
pool's members by weight, or one member per client with SOURCE_IP persistence; members see
the client's own address; an established connection outlives the agent of the client's host;
a health monitor takes a member whose server stopped out of the pool and back in, and moves
to another agent when the agent running it is killed.

Router ``r``: ``r:in`` 10.60.0.1/24 on bridge ``net`` (the members), ``r:out`` 10.61.0.1/24
on bridge ``out`` (the clients, outside the tenant network). Load balancer ``lb`` on ``r``,
pool ``p`` with members m1:8080 (h1) and m2:8080 (h2), VIP 10.62.0.10:80. The router's
inbound chain drops everything but ICMP: balanced traffic skips it. The switches balance new
connections themselves: after a client's first, connections reach no agent (the packets the
agents' miss flows sent them are counted).

=====  ====  ================  ==================================================
vm     host  address           use
=====  ====  ================  ==================================================
m1     h1    10.60.0.11/24     member 1 (answers "m1 <client address>")
m2     h2    10.60.0.12/24     member 2
c      h1    10.61.0.10/24     the client
c2     h2    10.61.0.20/24     a second client
=====  ====  ================  ==================================================

The members' servers (:func:`start_server`) and the objects (``LbLab.ids``) are shared with
the health-monitoring scenarios at the end of the module.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from chainlab import MISS_COOKIE, Background, Lab

from ryu_midonet.healthmon import wiring
from ryu_midonet.sandbox import Sandbox
from tests.support.waiting import wait_until

VIP, VIP_PORT, MEMBER_PORT = "10.62.0.10", 80, 8080
MEMBERS = {"m1": "10.60.0.11", "m2": "10.60.0.12"}
CLIENTS = {"c": "10.61.0.10", "c2": "10.61.0.20"}


def _vm(name: str, host: str, ip: str, gateway: str, mac: str) -> dict[str, str]:
    return {"name": name, "host": host, "interface": f"rm-{name}-tap", "ip": ip,
            "gateway": gateway, "mac": mac}


SANDBOX: dict[str, Any] = {
    "name": "lb",
    "tunnel": "vxlan",
    "underlay": {"cidr": "10.84.0.0/24"},
    "hosts": [{"name": "h1", "underlay_ip": "10.84.0.1"},
              {"name": "h2", "underlay_ip": "10.84.0.2"}],
    "vms": [
        _vm("m1", "h1", "10.60.0.11/24", "10.60.0.1", "02:00:00:00:84:01"),
        _vm("m2", "h2", "10.60.0.12/24", "10.60.0.1", "02:00:00:00:84:02"),
        _vm("c", "h1", "10.61.0.10/24", "10.61.0.1", "02:00:00:00:84:0c"),
        _vm("c2", "h2", "10.61.0.20/24", "10.61.0.1", "02:00:00:00:84:0d"),
    ],
    "api": False,
    "agent": "default",
}

# A member's server: on each connection, one line "NAME PEER_ADDRESS", then an echo of
# whatever comes; prints each peer on stdout.
NAME_SERVER = r"""
import socket, sys, threading
name, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port)); s.listen(128)
print("listening", flush=True)
def serve(c, peer):
    with c:
        c.sendall(f"{name} {peer[0]}\n".encode())
        while True:
            data = c.recv(4096)
            if not data:
                return
            c.sendall(data)
while True:
    c, peer = s.accept()
    print(peer[0], peer[1], flush=True)
    threading.Thread(target=serve, args=(c, peer), daemon=True).start()
"""
# COUNT connections to IP PORT, one after the other: each prints the server's greeting line
# ("-" when the connection failed).
CONNECTIONS = r"""
import socket, sys
ip, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(count):
    try:
        with socket.create_connection((ip, port), timeout=3) as c:
            c.settimeout(3)
            print(c.makefile().readline().strip(), flush=True)
    except OSError:
        print("-", flush=True)
"""
# One connection kept open: the greeting, then a numbered message every 0.1 s echoed back;
# prints the count of echoes so far after each; exits when the connection fails.
STREAM = r"""
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
c.settimeout(60)
f = c.makefile("rb")
print(f.readline().decode().strip(), flush=True)
n = 0
while True:
    msg = b"%08d" % n
    c.sendall(msg)
    if f.read(len(msg)) != msg:
        sys.exit(1)
    n += 1
    print(n, flush=True)
    time.sleep(0.1)
"""


@dataclass
class LbLab:
    """The sandbox, the load balancer's objects by name, and the members' servers."""

    lab: Lab
    ids: dict[str, str]
    servers: dict[str, Background] = field(default_factory=dict)


def start_server(lb: LbLab, member: str) -> Background:
    """(Re)start ``member``'s name server."""
    old = lb.servers.pop(member, None)
    if old is not None:
        old.stop()
    bg = lb.lab.background(member, ["python3", "-c", NAME_SERVER, member, str(MEMBER_PORT)])
    assert wait_until(lambda: "listening" in bg.lines(), timeout=10), bg.lines()
    lb.servers[member] = bg
    return bg


def connections(lb: LbLab, client: str, count: int) -> list[tuple[str, str]]:
    """``count`` connections from ``client`` to the VIP: (member, address it saw) each."""
    done = lb.lab.exec(client, ["python3", "-c", CONNECTIONS, VIP, str(VIP_PORT), str(count)],
                       timeout=count * 7 + 10)
    parts = [line.split() for line in done.stdout.splitlines() if line.strip()]
    return [(p[0], p[1]) if len(p) == 2 else ("-", "") for p in parts]


def agent_packets(lb: LbLab) -> int:
    """Packets the switches sent their agents: what the miss flows took (the flow table's,
    the ct-lookup table's and the lb-reply table's), on every host."""
    return sum(lb.lab.misses(host) for host in lb.lab.sb.hosts) + sum(
        int(found.group(1)) for host in lb.lab.sb.hosts for table in (4, 9)
        for line in lb.lab.flows(host, table)
        if re.match(MISS_COOKIE, line) and (found := re.search(r"n_packets=(\d+)", line)))


def reaches_vip(lb: LbLab, client: str) -> bool:
    return wait_until(lambda: connections(lb, client, 1)[0][0] in MEMBERS, timeout=20,
                      step=0.2)


def update(lb: LbLab, kind: str, name: str, **fields: Any) -> None:
    lb.lab.topo.update(kind, lb.ids[name], fields)


@pytest.fixture(scope="module")
def lb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LbLab]:
    run_dir: Path = tmp_path_factory.mktemp("lb")
    with Sandbox.from_yaml(SANDBOX, run_dir) as sb:
        lab = Lab(sb, run_dir)
        build, topo = lab.build, lab.topo
        pre = build.chain("pre")
        build.rule(pre, "accept", nwProto=1)
        build.rule(pre, "drop")
        r = build.router("r", inboundFilterId=pre["id"])
        net, out = lab.bridge("net"), lab.bridge("out")
        for vm in MEMBERS:
            lab.plug(net, vm)
        for vm in CLIENTS:
            lab.plug(out, vm)
        lab.attach(r, "10.60.0.1/24", net)
        lab.attach(r, "10.61.0.1/24", out)
        ids = {"r": r["id"]}
        ids["lb"] = topo.create("loadBalancer", {"routerId": r["id"]})["id"]
        ids["p"] = topo.create("pool", {"loadBalancerId": ids["lb"],
                                        "lbMethod": "ROUND_ROBIN"})["id"]
        for vm, ip in MEMBERS.items():
            ids[vm] = topo.create("poolMember", {"poolId": ids["p"], "address": ip,
                                                 "protocolPort": MEMBER_PORT})["id"]
        ids["vip"] = topo.create("vip", {"poolId": ids["p"], "address": VIP,
                                         "protocolPort": VIP_PORT})["id"]
        lb = LbLab(lab, ids)
        for vm in MEMBERS:
            start_server(lb, vm)
        yield lb
        lab.wipe()


def test_connections_spread_over_the_members_by_weight(lb: LbLab) -> None:
    update(lb, "vip", "vip", sessionPersistence=None)
    update(lb, "poolMember", "m2", weight=2)
    try:
        assert reaches_vip(lb, "c"), lb.lab.report()
        before = agent_packets(lb)
        seen = connections(lb, "c", 100)
        # the first reply of a member not reached yet, an ARP refresh: no more
        after = agent_packets(lb)
        assert after - before <= 4, "\n".join(
            [f"{before} -> {after}"] + [f"{h} {t} {line}" for h in lb.lab.sb.hosts
                                       for t in (1, 4, 8, 9) for line in lb.lab.flows(h, t)
                                       if "n_packets=0," not in line])
        counts = Counter(member for member, _ in seen)
        assert counts["m1"] + counts["m2"] == 100, seen
        assert abs(counts["m2"] - 67) <= 15, counts  # 2 : 1
        assert {address for _, address in seen} == {CLIENTS["c"]}  # the client's own address
        assert lb.lab.openflow_errors() == []
    finally:
        update(lb, "poolMember", "m2", weight=1)


def test_source_ip_persistence_keeps_a_client_on_one_member(lb: LbLab) -> None:
    update(lb, "vip", "vip", sessionPersistence="SOURCE_IP")
    try:
        for client in CLIENTS:
            assert reaches_vip(lb, client), lb.lab.report()
            before = agent_packets(lb)
            seen = connections(lb, client, 20)
            assert agent_packets(lb) - before <= 2, lb.lab.report()
            assert len({member for member, _ in seen}) == 1, seen
            assert seen[0][0] in MEMBERS and seen[0][1] == CLIENTS[client]
    finally:
        update(lb, "vip", "vip", sessionPersistence=None)


def test_an_established_connection_outlives_the_clients_agent(lb: LbLab) -> None:
    assert reaches_vip(lb, "c"), lb.lab.report()
    stream = lb.lab.background("c", ["python3", "-c", STREAM, VIP, str(VIP_PORT)])
    assert wait_until(lambda: len(stream.lines()) >= 5, timeout=15), lb.lab.report()
    lb.lab.sb.stop_agent("h1", kill=True)
    count = len(stream.lines())
    assert wait_until(lambda: len(stream.lines()) >= count + 10, timeout=15)  # no agent
    lb.lab.sb.start_agent("h1")
    count = len(stream.lines())
    assert wait_until(lambda: len(stream.lines()) >= count + 20, timeout=30), lb.lab.report()
    assert stream.alive()
    stream.stop()


# -- health monitoring ------------------------------------------------------------------------
# A TCP monitor (1 s between probes, 1 s to answer, 2 failures) on pool p, probed by one elected
# agent from a namespace on a port of router r (link addresses of 169.254.100.0/24, which the
# router's inbound chain lets through). A member turns INACTIVE within delay x retries plus
# the election's lease (3 s) and a poll; HM_WAIT leaves room for a loaded machine.

HM = {"type": "TCP", "delay": 1, "timeout": 1, "maxRetries": 2, "adminStateUp": True}
HM_WAIT = 30.0


def member_status(lb: LbLab, member: str) -> str | None:
    obj = lb.lab.topo.store.get("poolMember", lb.ids[member])
    return None if obj is None else obj.get("status")


def prober_host(lb: LbLab) -> str | None:
    """The host whose agent probes pool p (where its router port is bound)."""
    port = lb.lab.topo.store.get("port", wiring.port_id(lb.ids["p"]))
    by_id = {h.host_id: name for name, h in lb.lab.sb.hosts.items()}
    return None if port is None else by_id.get(port.get("hostId") or "")


def member_on(lb: LbLab, host: str) -> str:
    return next(vm for vm in MEMBERS if lb.lab.sb.vm(vm).host.name == host)


@pytest.fixture
def monitored(lb: LbLab) -> Iterator[str]:
    """Pool p with an admin-up TCP monitor; afterwards none, and every member ACTIVE."""
    topo = lb.lab.topo
    chain = topo.get("router", lb.ids["r"])["inboundFilterId"]
    rules = [topo.create("rule", {"type": "accept", "position": 1, f"nw{side}Address":
                                  str(wiring.LINK_NET.network_address),
                                  f"nw{side}Length": wiring.LINK_NET.prefixlen}, chain)["id"]
             for side in ("Src", "Dst")]
    hm = topo.create("healthMonitor", HM)["id"]
    update(lb, "pool", "p", healthMonitorId=hm)
    try:
        yield hm
    finally:
        update(lb, "pool", "p", healthMonitorId=None)
        topo.delete("healthMonitor", hm)
        for rule in rules:
            topo.delete("rule", rule)
        for vm in MEMBERS:
            if vm not in lb.servers or not lb.servers[vm].alive():
                start_server(lb, vm)
        assert wait_until(lambda: prober_host(lb) is None and all(
            member_status(lb, vm) == "ACTIVE" for vm in MEMBERS), timeout=HM_WAIT)


def test_a_member_whose_server_stops_turns_inactive_and_gets_no_new_connections(
        lb: LbLab, monitored: str) -> None:
    assert wait_until(lambda: prober_host(lb) is not None, timeout=HM_WAIT), lb.lab.report()
    assert reaches_vip(lb, "c"), lb.lab.report()
    lb.servers.pop("m2").stop()
    assert wait_until(lambda: member_status(lb, "m2") == "INACTIVE", timeout=HM_WAIT), \
        lb.lab.report()
    assert member_status(lb, "m1") == "ACTIVE"
    assert {member for member, _ in connections(lb, "c", 10)} == {"m1"}
    start_server(lb, "m2")
    assert wait_until(lambda: member_status(lb, "m2") == "ACTIVE", timeout=HM_WAIT), \
        lb.lab.report()
    assert wait_until(lambda: "m2" in {m for m, _ in connections(lb, "c", 6)}, timeout=HM_WAIT)


def test_killing_the_probing_agent_hands_the_pool_to_another(lb: LbLab, monitored: str
                                                             ) -> None:
    assert wait_until(lambda: prober_host(lb) is not None, timeout=HM_WAIT), lb.lab.report()
    dead = prober_host(lb)
    assert dead is not None
    other = next(name for name in lb.lab.sb.hosts if name != dead)
    lb.lab.sb.stop_agent(dead, kill=True)
    try:
        assert wait_until(lambda: prober_host(lb) == other, timeout=HM_WAIT), lb.lab.report()
        # status keeps following the member whose host's agent runs
        vm = member_on(lb, other)
        lb.servers.pop(vm).stop()
        assert wait_until(lambda: member_status(lb, vm) == "INACTIVE", timeout=HM_WAIT), \
            lb.lab.report()
        start_server(lb, vm)
        assert wait_until(lambda: member_status(lb, vm) == "ACTIVE", timeout=HM_WAIT), \
            lb.lab.report()
    finally:
        lb.lab.sb.start_agent(dead)
