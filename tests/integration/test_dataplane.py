"""Packets through real Open vSwitch on two sandbox hosts, each with its own agent.

The virtual topology is built through the topology store; the VMs are network namespaces
whose interfaces the agents plug into their hosts' switches. See :mod:`dataplane`.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator

import pytest
from dataplane import Net, start

from ryu_midonet.cmd import mmtrace
from tests.support import sandboxview
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    yield from start(tmp_path_factory.mktemp("dataplane"))


@pytest.fixture
def net(sandbox: Net) -> Iterator[Net]:
    yield sandbox
    sandbox.cleanup()


def test_one_bridge_same_host_and_second_ping_skips_the_agent(net: Net) -> None:
    br = net.bridge("br")
    net.plug(br, "vm1")
    net.plug(br, "vm3")
    assert net.pings("vm1", "10.0.0.13")
    assert net.pings("vm3", "10.0.0.11")
    before = net.misses("h1")
    assert "3 received" in net.ping("vm1", "10.0.0.13", count=3)
    assert net.misses("h1") == before


def test_one_bridge_two_hosts_tunnels_and_second_ping_skips_agents(net: Net) -> None:
    br = net.bridge("br")
    net.plug(br, "vm1")
    net.plug(br, "vm2")
    assert net.pings("vm1", "10.0.0.12")
    assert net.pings("vm2", "10.0.0.11")
    before = (net.misses("h1"), net.misses("h2"))
    with net.sb.capture("udp port 6677") as cap:
        assert "3 received" in net.ping("vm1", "10.0.0.12", count=3)
    assert (net.misses("h1"), net.misses("h2")) == before
    assert any("VXLAN" in line for line in cap.lines), cap.lines
    # the egress host delivers by tunnel key from a pre-installed flow
    delivery = [f for f in net.flows("h2", 2) if "tun_id=" in f]
    assert delivery and all("output:" in f for f in delivery)


def test_router_between_two_bridges_decrements_ttl_and_sets_its_mac(net: Net) -> None:
    left, right, rtr = net.bridge("left"), net.bridge("right"), net.router("r")
    net.plug(left, "vm1")
    net.plug(right, "vm4")
    net.attach(rtr, "10.0.0.1/24", left)
    rport = net.attach(rtr, "10.0.1.1/24", right)
    assert net.pings("vm1", "10.0.1.14")
    vm4 = net.sb.vm("vm4")
    sniff = subprocess.Popen(["ip", "netns", "exec", vm4.netns, "tcpdump", "-l", "-n", "-t", "-e",
                              "-c", "1", "-i", "eth0", "icmp[icmptype] == icmp-echo"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(0.5)
    out = net.ping("vm1", "10.0.1.14", count=2)
    sniffed, _ = sniff.communicate(timeout=10)
    assert "ttl=63" in out  # the reply crossed the router once
    assert sniffed.startswith(f"{rport['portMac']} > "), sniffed  # from the router's MAC


def _two_routers(net: Net) -> tuple[dict, dict, dict]:
    """vm1 - left - r1 = 10.1.0.0/30 = r2 - far - vm5; returns r1, its link port, r2."""
    left, far = net.bridge("left"), net.bridge("far")
    r1, r2 = net.router("r1"), net.router("r2")
    net.plug(left, "vm1")
    net.plug(far, "vm5")
    net.attach(r1, "10.0.0.1/24", left)
    net.attach(r2, "10.0.2.1/24", far)
    link1 = net.router_port(r1, "10.1.0.1/30")
    link2 = net.router_port(r2, "10.1.0.2/30")
    net.topo.link(link1["id"], link2["id"])
    net.route(r2, "10.0.0.0/24", link2, gw="10.1.0.1")
    return r1, link1, r2


def test_two_routers_with_static_routes_and_deleting_a_route_breaks_the_path(net: Net) -> None:
    r1, link1, _ = _two_routers(net)
    assert not net.sb.vm("vm1").ping("10.0.2.15")  # no route to the far network yet
    route = net.route(r1, "10.0.2.0/24", link1, gw="10.1.0.2")
    assert net.pings("vm1", "10.0.2.15")
    assert "ttl=62" in net.ping("vm1", "10.0.2.15")
    net.topo.delete("route", route["id"])
    assert wait_until(lambda: not net.sb.vm("vm1").ping("10.0.2.15", timeout=1), timeout=5)


def test_blackhole_drops_silently_reject_answers_prohibited(net: Net) -> None:
    r1, link1, _ = _two_routers(net)
    net.route(r1, "10.0.2.0/24", link1, gw="10.1.0.2")
    assert net.pings("vm1", "10.0.2.15")
    hole = net.route(r1, "10.0.2.15/32", kind="BlackHole")
    assert wait_until(lambda: not net.sb.vm("vm1").ping("10.0.2.15", timeout=1), timeout=5)
    out = net.ping("vm1", "10.0.2.15", count=2, timeout=1)
    assert "0 received" in out and "rohibited" not in out and "nreachable" not in out
    net.topo.delete("route", hole["id"])
    net.route(r1, "10.0.2.15/32", kind="Reject")
    assert wait_until(lambda: "Prohibited" in net.ping("vm1", "10.0.2.15", timeout=1),
                      timeout=5), net.ping("vm1", "10.0.2.15")


SERVER = """
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7000)); s.listen(64)
while True:
    c, _ = s.accept(); data = c.recv(64); c.sendall(data); c.close()
"""
CLIENT = """
import socket, sys
ok = 0
for n in range(int(sys.argv[2])):
    try:
        c = socket.create_connection((sys.argv[1], 7000), timeout=3)
        c.sendall(b"x" * 10); ok += c.recv(64) == b"x" * 10; c.close()
    except OSError:
        pass
print(ok)
"""


def test_equal_weight_ecmp_spreads_connections_and_keeps_each_on_one_path(net: Net) -> None:
    """vm1 - r1 =(two equal routes)= r2 or r3 - far - vm5; the path shows in the source MAC
    the packet leaves the last router with."""
    left, far = net.bridge("left"), net.bridge("far")
    r1, r2, r3 = net.router("r1"), net.router("r2"), net.router("r3")
    net.plug(left, "vm1")
    net.plug(far, "vm5")
    net.attach(r1, "10.0.0.1/24", left)
    exits = {net.attach(r2, "10.0.2.1/24", far)["portMac"]: "r2",
             net.attach(r3, "10.0.2.2/24", far)["portMac"]: "r3"}
    for n, (nexthop, hop_ip) in enumerate(((r2, "10.1.0.2"), (r3, "10.1.1.2"))):
        mine = net.router_port(r1, f"10.1.{n}.1/30")
        theirs = net.router_port(nexthop, f"10.1.{n}.2/30")
        net.topo.link(mine["id"], theirs["id"])
        net.route(nexthop, "10.0.0.0/24", theirs, gw=f"10.1.{n}.1")
        net.route(r1, "10.0.2.0/24", mine, gw=hop_ip)
    assert net.pings("vm1", "10.0.2.15")
    server = subprocess.Popen(["ip", "netns", "exec", net.sb.vm("vm5").netns, "python3", "-c",
                               SERVER], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        done = net.sb.vm("vm1").exec(["python3", "-c", CLIENT, "10.0.2.15", "24"], timeout=120)
        assert done.stdout.strip() == "24", done
    finally:
        server.kill()
        server.wait()
    per_connection: dict[str, set[str]] = {}
    for flow in net.flows("h1", 1):
        sport = re.search(r"tp_src=(\d+)", flow)
        if not sport or "tp_dst=7000" not in flow:
            continue
        paths = {name for mac, name in exits.items() if f"set_field:{mac}->eth_src" in flow}
        per_connection.setdefault(sport.group(1), set()).update(paths)
    assert len(per_connection) >= 20, net.flows("h1", 1)
    assert all(len(paths) == 1 for paths in per_connection.values()), per_connection
    assert set().union(*per_connection.values()) == {"r2", "r3"}, per_connection


def test_port_migration_moves_traffic_without_gratuitous_arp(net: Net) -> None:
    br = net.bridge("br")
    net.plug(br, "vm2")
    moving = net.plug(br, "vm6")
    assert net.pings("vm2", "10.0.0.16")
    # the VM moves to h2: same MAC and address; it sends nothing on its own
    net.sb.vm("vm6").exec(["ip", "link", "set", "eth0", "down"])
    net.bind(moving, "vm6b")
    assert wait_until(lambda: net.sb.vm("vm2").ping("10.0.0.16", timeout=1), timeout=10)
    neigh = net.sb.vm("vm2").exec(["ip", "neigh", "show", "10.0.0.16"]).stdout
    assert "02:00:00:00:00:16" in neigh
    assert "rm-vm6b-tap" in net.sb.host("h2").vsctl("list-ports", "br-int")
    # the old host unplugged the interface when the binding left it
    assert wait_until(lambda: "rm-vm6-tap" not in net.sb.host("h1").vsctl("list-ports",
                                                                          "br-int"))
    net.sb.vm("vm6").exec(["ip", "link", "set", "eth0", "up"])


def test_agent_down_keeps_established_flows_and_new_flows_work_after_restart(net: Net) -> None:
    br = net.bridge("br")
    for vm in ("vm1", "vm2"):
        net.plug(br, vm)
    assert net.pings("vm1", "10.0.0.12")
    host_id = net.sb.host("h1").host_id
    net.sb.stop_agent("h1", kill=True)
    try:
        assert wait_until(lambda: not net.topo.is_alive(host_id), timeout=8)
        # flows installed before the crash keep carrying the established traffic
        out = net.ping("vm1", "10.0.0.12", count=5)
        assert "5 received" in out, (out, sandboxview.report(net.sb, net.flows))
        # a binding made while the agent is down waits for it
        net.plug(br, "vm3")
        assert not net.sb.vm("vm1").ping("10.0.0.13", timeout=1)
    finally:
        net.sb.start_agent("h1")
    assert wait_until(lambda: net.topo.is_alive(host_id), timeout=8)
    assert net.pings("vm1", "10.0.0.13")
    assert net.pings("vm1", "10.0.0.12")


def _simulated(net: Net, host: str) -> dict[str, str]:
    """Simulated flows of a host's flow table: cookie -> flow."""
    return {f.split(",")[0]: f for f in net.flows(host, 1) if f.startswith("cookie=0x2")}


def test_a_change_removes_exactly_the_dependent_flows_on_every_host(net: Net) -> None:
    left, right, rtr = net.bridge("left"), net.bridge("right"), net.router("r")
    for vm in ("vm1", "vm2"):
        net.plug(left, vm)
    net.plug(right, "vm4")
    net.attach(rtr, "10.0.0.1/24", left)
    net.attach(rtr, "10.0.1.1/24", right)
    assert net.pings("vm1", "10.0.0.12") and net.pings("vm1", "10.0.1.14")
    before = {h: _simulated(net, h) for h in ("h1", "h2")}
    routed = {h: {c for c, f in flows.items() if "nw_dst=10.0.1.14" in f or
                  "nw_dst=10.0.0.11" in f and "dl_dst=02:00:00:00:00:11" not in f}
              for h, flows in before.items()}
    assert routed["h1"] and routed["h2"]
    net.route(rtr, "10.0.1.14/32", kind="BlackHole")

    def settled() -> bool:
        return all(not (routed[h] & set(_simulated(net, h))) for h in ("h1", "h2"))

    assert wait_until(settled, timeout=5, step=0.05)  # `make bench` measures how fast
    for host in ("h1", "h2"):
        after = _simulated(net, host)
        untouched = set(before[host]) - routed[host]
        assert untouched and untouched <= set(after), (host, before[host], after)


def test_a_traced_ping_logs_every_device_rule_and_flow_until_the_limit(
        net: Net, capsys: pytest.CaptureFixture[str]) -> None:
    chain = net.build.chain("icmp-in")
    net._keep("chain", chain)
    rule = net.build.rule(chain, "accept", nwProto=1, dlType=0x0800)
    br = net._keep("bridge", net.build.bridge("traced", inboundFilterId=chain["id"]))
    p1, p2 = net.plug(br, "vm1"), net.plug(br, "vm2")
    assert net.pings("vm1", "10.0.0.12")  # flows on both hosts before the tracer
    creds = net.sb.credentials()
    assert creds is not None

    def mm_trace(*words: str) -> str:
        code = mmtrace.main(["--midonet-url", str(net.sb.api_url), "-u", creds.user,
                             "-p", creds.password, *words])
        out = capsys.readouterr()
        assert code == 0, out.err
        return out.out

    mm_trace("add", "--bridge", br["id"], "--ip-protocol", "1", "--limit", "6")

    def entries() -> list[str]:
        return re.findall(r"^packet .*?(?=^packet |^tracer: |\Z)", mm_trace("show"),
                          re.M | re.S)

    # the agents follow the tracer: the flows built before it go, the next ping is traced
    assert wait_until(lambda: bool(net.ping("vm1", "10.0.0.12")) and bool(entries()),
                      timeout=15), net.flows("h1")
    first = entries()
    missed = [e for e in first if "missed the flow table" in e]
    assert missed, first
    for entry in missed:  # the flow it names is on its host's switch, with that cookie
        host, cookie = re.match(r"packet (h\d)#\d+ cookie=(0x[0-9a-f]+)", entry).groups()
        flow = next(line for line in entry.splitlines() if "flow table=" in line)
        on_switch = [f for f in net.flows(host) if f"cookie={cookie}," in f]
        assert len(on_switch) == 1 and "actions=CONTROLLER" in on_switch[0], (entry, on_switch)
        assert "ip_proto=1" in flow and "icmp" in on_switch[0]
        assert br["id"] in entry and rule["id"] in entry and chain["id"] in entry, entry
    request = next(e for e in missed if e.startswith("packet h1#"))
    assert f"ingress: port {p1['id']}" in request and f"out of port {p2['id']}" in request

    # up to the limit, then no more, on either host; pings go on
    assert wait_until(lambda: bool(net.ping("vm1", "10.0.0.12", count=2))
                      and len(entries()) == 6, timeout=30)
    assert "3 received" in net.ping("vm1", "10.0.0.12", count=3)
    assert len(entries()) == 6
    assert "(id " in mm_trace("show") and " 0 left)" in mm_trace("show")
    assert mm_trace("list", "-L") == "" and mm_trace("list").startswith("tracer: ")
