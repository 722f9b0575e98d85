"""Proactive flows on real Open vSwitch: two freshly plugged VMs that have never sent
anything, whose ports the control plane described (a static MAC table entry for the VM's
MAC, a DHCP host entry for its address), ping each other through a router across hosts and
the first ping reaches no agent -- neither the VMs' ARP for their gateways nor the echo and
its reply; a topology change removes the flows built on what changed and traffic follows
it; a path through two routers is pre-installed too, and a probe whose TTL runs out at
either router is answered by that router.

Sandbox ``pro``: hosts h1 and h2 (VXLAN); ``a`` on h1 (10.5.1.11/24) behind bridge ``left``,
``b`` on h2 (10.5.2.12/24) behind bridge ``right``, router ``r`` between the bridges; ``c``
on h2 (10.5.3.13/24) is plugged by the last test, behind bridge ``far`` and router ``r2``,
linked to ``r`` over 172.16.5.0/30.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.sandbox import Sandbox
from ryu_midonet.statestore.tables import RedisMacTable
from tests.support import sandboxview
from tests.support.topology import StoreTopology
from tests.support.waiting import wait_until

SANDBOX: dict[str, Any] = {
    "name": "pro",
    "tunnel": "vxlan",
    "underlay": {"cidr": "10.95.0.0/24"},
    "hosts": [{"name": "h1", "underlay_ip": "10.95.0.1"},
              {"name": "h2", "underlay_ip": "10.95.0.2"}],
    "vms": [
        {"name": "a", "host": "h1", "interface": "rm-proa-tap", "ip": "10.5.1.11/24",
         "gateway": "10.5.1.1", "mac": "02:00:00:00:95:0a"},
        {"name": "b", "host": "h2", "interface": "rm-prob-tap", "ip": "10.5.2.12/24",
         "gateway": "10.5.2.1", "mac": "02:00:00:00:95:0b"},
        {"name": "c", "host": "h2", "interface": "rm-proc-tap", "ip": "10.5.3.13/24",
         "gateway": "10.5.3.1", "mac": "02:00:00:00:95:0c"},
    ],
    "api": False,
    "agent": "default",
}
MISS_COOKIE = r"cookie=0x4[0-9a-f]{14},"  # the table-miss flow and each local port's
PROACTIVE = {"h1": "nw_dst=10.5.2.12", "h2": "nw_dst=10.5.1.11"}  # a -> b, b -> a
GATEWAY_ARP = {"h1": "arp_tpa=10.5.1.1", "h2": "arp_tpa=10.5.2.1"}  # a's, b's ARP responders


class Pro:
    """The sandbox and its topology: a -- left -- r -- right -- b."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.topo = Topology(Store.from_url(sb.redis_url))
        build = StoreTopology(self.topo)
        zone = self.topo.create("tunnelZone", {"name": "sandbox", "type": "vxlan"})
        for host in sb.hosts.values():
            self.topo.add_tunnel_zone_member(zone["id"], host.host_id, host.underlay_ip)
        self.router = build.router("r")
        macs = RedisMacTable(self.topo.store)
        for vm, bridge_name, cidr in (("a", "left", "10.5.1.1/24"),
                                      ("b", "right", "10.5.2.1/24")):
            bridge = build.bridge(bridge_name)
            port = build.port(bridge)
            build.link(build.port(self.router, cidr), build.port(bridge))
            # what the control plane knows of the VM's port before the VM speaks
            spec = next(v for v in SANDBOX["vms"] if v["name"] == vm)
            net = self.topo.create("dhcpSubnet", {
                "subnetPrefix": cidr.rsplit(".", 1)[0] + ".0", "subnetLength": 24,
                "defaultGateway": cidr.split("/")[0]}, bridge["id"])
            self.topo.create("dhcpHost", {"macAddr": spec["mac"],
                                          "ipAddr": spec["ip"].split("/")[0]}, net["id"])
            macs.add_static(bridge["id"], spec["mac"], None, port["id"])
            build.bind(port, sb.vm(vm).host.host_id, sb.vm(vm).interface)
        self.build = build

    def flows(self, host: str) -> list[str]:
        return sandboxview.table_flows(self.sb, host)

    def responders(self, host: str) -> list[str]:
        """The ARP responder flows of ``host`` for its VM's gateway (broadcast and unicast)."""
        return [f for f in self.flows(host) if GATEWAY_ARP[host] in f
                and "idle_timeout" not in f]

    def neighbours(self, vm: str) -> str:
        done = self.sb.vm(vm).exec(["ip", "-4", "neigh", "show"])
        return str(done.stdout).strip()

    def proactive(self, host: str) -> list[str]:
        """The flows of ``host`` from a toward b (h1) or back (h2) that have no idle
        timeout: proactive ones (reactive flows idle out)."""
        return [f for f in self.flows(host) if PROACTIVE[host] in f and "idle_timeout" not in f]

    def misses(self, host: str) -> int:
        """Packets that reached the agent of ``host``."""
        return sum(int(m.group(1)) for line in self.flows(host) if re.match(MISS_COOKIE, line)
                   for m in [re.search(r"n_packets=(\d+)", line)] if m)

    def ping(self, vm: str, ip: str, count: int = 1, ttl: int = 64) -> str:
        done = self.sb.vm(vm).exec(["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2",
                                    "-t", str(ttl), ip])
        return str(done.stdout) + str(done.stderr)

    def report(self) -> str:
        return sandboxview.report(self.sb, self.flows)


@pytest.fixture(scope="module")
def pro(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pro]:
    with Sandbox.from_yaml(SANDBOX, tmp_path_factory.mktemp("pro")) as sb:
        yield Pro(sb)  # no VM has sent anything


def test_first_ping_between_fresh_vms_through_a_router_across_hosts_reaches_no_agent(
        pro: Pro) -> None:
    assert wait_until(lambda: all(pro.proactive(h) and len(pro.responders(h)) == 2
                                  for h in ("h1", "h2")), timeout=20, step=0.2), pro.report()
    for vm in ("a", "b"):
        pro.sb.vm(vm).exec(["ip", "neigh", "flush", "all"])
        assert pro.neighbours(vm) == "", pro.neighbours(vm)
    before = (pro.misses("h1"), pro.misses("h2"))
    out = pro.ping("a", "10.5.2.12")
    assert "1 received" in out, out + pro.report()
    assert (pro.misses("h1"), pro.misses("h2")) == before, pro.report()
    # each VM asked for its gateway, and the datapath answered with the router's MAC
    assert "10.5.1.1 " in pro.neighbours("a") and "10.5.2.1 " in pro.neighbours("b")


def test_a_route_change_removes_the_flows_and_traffic_follows(pro: Pro) -> None:
    assert wait_until(lambda: pro.proactive("h1"), timeout=10, step=0.2), pro.report()
    hole = pro.build.route(pro.router, "10.5.2.12/32", type="BlackHole")
    # the router changed: its flows go on both hosts; the path to b is a drop now
    assert wait_until(lambda: not pro.proactive("h1"), timeout=10, step=0.2), pro.report()
    assert " 0 received" in pro.ping("a", "10.5.2.12")
    assert pro.proactive("h1") == []  # a drop is never pre-installed
    assert wait_until(lambda: pro.proactive("h2"), timeout=10, step=0.2), pro.report()

    pro.topo.delete("route", hole["id"])
    assert wait_until(lambda: pro.proactive("h1"), timeout=10, step=0.2), pro.report()
    before = pro.misses("h1")
    out = pro.ping("a", "10.5.2.12")
    assert "1 received" in out, out + pro.report()
    assert pro.misses("h1") == before, pro.report()


def test_a_path_through_two_routers_is_pre_installed_and_each_router_answers_its_ttl(
        pro: Pro) -> None:
    build, sb = pro.build, pro.sb
    far, r2 = build.bridge("far"), build.router("r2")
    build.bind(build.port(far), sb.vm("c").host.host_id, sb.vm("c").interface)
    build.link(build.port(r2, "10.5.3.1/24"), build.port(far))
    up, down = build.port(pro.router, "172.16.5.1/30"), build.port(r2, "172.16.5.2/30")
    build.link(up, down)
    build.route(pro.router, "10.5.3.0/24", up, gw="172.16.5.2")
    build.route(r2, "10.5.0.0/16", down, gw="172.16.5.1")
    # c announces itself: no control plane entered its port's MAC and address
    assert wait_until(lambda: "1 received" in pro.ping("c", "10.5.3.1"), timeout=20,
                      step=0.2), pro.report()

    def to_c() -> list[str]:  # a -> c, through r and r2, proactive
        return [f for f in pro.flows("h1") if "nw_dst=10.5.3.13" in f
                and "idle_timeout" not in f and f.count("dec_ttl") == 2]

    assert wait_until(to_c, timeout=10, step=0.2), pro.report()
    before = pro.misses("h1")
    out = pro.ping("a", "10.5.3.13")
    assert "1 received" in out, out + pro.report()
    assert pro.misses("h1") == before, pro.report()
    # the flow decrements twice; the agent learns which decrement ran out
    for ttl, router in ((1, "10.5.1.1"), (2, "172.16.5.2")):
        out = pro.ping("a", "10.5.3.13", ttl=ttl)
        assert f"From {router} icmp_seq=1 Time to live exceeded" in out, out + pro.report()
