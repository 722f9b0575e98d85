"""VMs get their addresses by DHCP, answered on their own host, and ARP for known addresses is
answered there too: a two-host sandbox of its own (``dhc``), real busybox ``udhcpc`` clients.

Bridges ``left`` (10.8.1.0/24) and ``right`` (10.8.2.0/24) joined by router ``r``; each bridge
has a DHCP subnet (made through the REST API) with host entries. The agents run the ``dhcp``
feature app.

=====  ====  ======  ===========================================================================
vm     host  bridge  use
=====  ====  ======  ===========================================================================
a      h1    left    DHCP client: gets 10.8.1.11
b      h2    right   DHCP client: gets 10.8.2.12; a pings it through the router
c      h2    left    a static 10.8.1.13 with a host entry: watches what crosses to h2 on left
x      h1    left    no host entry: gets no offer
d      h1    flat    a static 10.8.3.14 on a bridge without router or DHCP
e      h2    flat    a static 10.8.3.15: the bridge learns its address from its ARP
=====  ====  ======  ===========================================================================

The client runs a script of the test's own (in the test's tmp dir) that applies what the
server said (address, MTU, routes) and writes the resolver file there; nothing in /etc is
touched.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chainlab import Lab
from rest_call import call

from ryu_midonet.sandbox import Sandbox
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

MACS = {"a": "02:00:00:00:89:0a", "b": "02:00:00:00:89:0b", "c": "02:00:00:00:89:0c",
        "x": "02:00:00:00:89:99", "d": "02:00:00:00:89:0d", "e": "02:00:00:00:89:0e"}


def _vm(name: str, host: str, ip: str) -> dict[str, str]:
    return {"name": name, "host": host, "interface": f"rm-{name}-tap", "ip": ip,
            "mac": MACS[name]}


SANDBOX: dict[str, Any] = {
    "name": "dhc",
    "tunnel": "vxlan",
    "underlay": {"cidr": "10.89.0.0/24"},
    "hosts": [{"name": "h1", "underlay_ip": "10.89.0.1"},
              {"name": "h2", "underlay_ip": "10.89.0.2"}],
    # a, b and x start with a placeholder address the tests remove before asking DHCP
    "vms": [_vm("a", "h1", "192.0.2.11/32"), _vm("b", "h2", "192.0.2.12/32"),
            _vm("c", "h2", "10.8.1.13/24"), _vm("x", "h1", "192.0.2.99/32"),
            _vm("d", "h1", "10.8.3.14/24"), _vm("e", "h2", "10.8.3.15/24")],
    "api": True,
    "agent": "default",
}

# What udhcpc runs at each event: apply the lease the way a distribution's script does, and
# write the resolver file and an event log next to this script.
SCRIPT = r"""#!/bin/sh
dir=$(dirname "$0")
echo "$1 ${ip:-} ${serverid:-}" >> "$dir/events.$interface"
case "$1" in
deconfig)
    ip addr flush dev "$interface"
    ;;
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$subnet" dev "$interface"
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    if [ -n "$staticroutes" ]; then
        set -- $staticroutes
        while [ $# -ge 2 ]; do
            ip route replace "$1" via "$2" dev "$interface"
            shift 2
        done
    elif [ -n "$router" ]; then
        ip route replace default via "${router%% *}" dev "$interface"
    fi
    : > "$dir/resolv.conf"
    for server in $dns; do echo "nameserver $server" >> "$dir/resolv.conf"; done
    ;;
esac
exit 0
"""


class Net:
    """The sandbox, its topology and the DHCP subnets' URIs."""

    def __init__(self, lab: Lab, workdir: Path) -> None:
        self.lab = lab
        self.sb = lab.sb
        self.api = str(lab.sb.api_url)
        left, right = lab.bridge("left"), lab.bridge("right")
        self.left = left
        router = lab.router("r")
        lab.attach(router, "10.8.1.1/24", left)
        lab.attach(router, "10.8.2.1/24", right)
        self.flat = lab.bridge("flat")
        for vm, bridge in (("a", left), ("b", right), ("c", left), ("x", left),
                           ("d", self.flat), ("e", self.flat)):
            lab.plug(bridge, vm)
        self.left_subnet = self.subnet(left, "10.8.1", {"a": 11, "c": 13})
        self.right_subnet = self.subnet(right, "10.8.2", {"b": 12})
        self.scripts: dict[str, Path] = {}
        for vm in ("a", "b", "x"):
            home = workdir / f"dhcp-{vm}"
            home.mkdir()
            script = home / "udhcpc.script"
            script.write_text(SCRIPT)
            script.chmod(0o755)
            self.scripts[vm] = script
            lab.exec(vm, ["ip", "addr", "flush", "dev", "eth0"])

    def subnet(self, bridge: dict[str, Any], net: str, hosts: dict[str, int]) -> str:
        """A DHCP subnet on ``bridge`` (gateway .1, server .2, MTU 1400, a static route) with
        host entries for ``hosts``; the subnet's URI."""
        status, found = call("GET", f"{self.api}/bridges/{bridge['id']}")
        assert status == 200, found
        status, subnet = call("POST", found["dhcpSubnets"], {
            "subnetPrefix": f"{net}.0", "subnetLength": 24, "defaultGateway": f"{net}.1",
            "serverAddr": f"{net}.2", "dnsServerAddrs": [f"{net}.53"], "interfaceMTU": 1400,
            "opt121Routes": [{"destinationPrefix": "172.16.0.0", "destinationLength": 12,
                              "gatewayAddr": f"{net}.254"}]})
        assert status == 201, subnet
        for vm, last in hosts.items():
            status, host = call("POST", subnet["hosts"], {
                "macAddr": MACS[vm], "ipAddr": f"{net}.{last}", "name": f"vm-{vm}"})
            assert status == 201, host
        return str(subnet["uri"])

    def udhcpc(self, vm: str, *flags: str, tries: int = 3) -> list[str]:
        """udhcpc in ``vm``, until it has a lease or gave up; the events its script saw."""
        script = self.scripts[vm]
        done = self.lab.exec(vm, ["busybox", "udhcpc", "-i", "eth0", "-s", str(script), "-f",
                                  "-q", "-n", "-t", str(tries), "-T", "1",
                                  "-O", "mtu", "-O", "staticroutes", "-O", "dns"],
                             timeout=tries * 2 + 20)
        assert "not found" not in done.stderr, done.stderr
        return self.events(vm)

    def events(self, vm: str) -> list[str]:
        log = self.scripts[vm].parent / "events.eth0"
        return log.read_text().splitlines() if log.exists() else []

    def plugged(self) -> None:
        def done() -> bool:
            return all(spec.interface in spec.host.vsctl("list-ports", spec.host.bridge)
                       for spec in (self.sb.vm(vm) for vm in MACS))
        assert wait_until(done, timeout=15), self.lab.report()
        time.sleep(1.0)  # the other host sees the bindings


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    run_dir: Path = tmp_path_factory.mktemp("dhc")
    with Sandbox.from_yaml(SANDBOX, run_dir) as sb:
        lab = Lab(sb, run_dir)
        found = Net(lab, run_dir)
        found.plugged()
        try:
            yield found
        finally:
            lab.wipe()


def test_vms_get_their_addresses_and_reach_each_other_through_the_router(net: Net) -> None:
    lab = net.lab
    with lab.sniff("c", "udp port 67 or udp port 68", verbose=False) as other_host:
        for vm in ("a", "b"):
            assert any(e.startswith("bound ") for e in net.udhcpc(vm)), (
                net.events(vm), lab.report())
    # nothing of either exchange crossed to h2's VM on the same bridge as a
    assert other_host.lines == []
    addr = lab.exec("a", ["ip", "-4", "addr", "show", "dev", "eth0"]).stdout
    assert "inet 10.8.1.11/24" in addr and "mtu 1400" in lab.exec(
        "a", ["ip", "link", "show", "dev", "eth0"]).stdout, addr
    routes = lab.exec("a", ["ip", "-4", "route"]).stdout
    assert "default via 10.8.1.1" in routes and "172.16.0.0/12 via 10.8.1.254" in routes, routes
    resolv = (net.scripts["a"].parent / "resolv.conf").read_text()
    assert resolv == "nameserver 10.8.1.53\n"
    assert net.events("a")[-1] == "bound 10.8.1.11 10.8.1.2"
    assert "inet 10.8.2.12/24" in lab.exec("b", ["ip", "-4", "addr", "show", "dev", "eth0"]
                                            ).stdout
    assert lab.pings("a", "10.8.2.12"), lab.report()


def test_a_lease_is_renewed_by_unicast_to_the_server(net: Net) -> None:
    lab = net.lab
    if not any(e.startswith("bound ") for e in net.events("a")):
        assert any(e.startswith("bound ") for e in net.udhcpc("a")), lab.report()
    client = lab.background("a", ["busybox", "udhcpc", "-i", "eth0", "-s",
                                  str(net.scripts["a"]), "-f", "-t", "3", "-T", "1",
                                  "-O", "mtu", "-O", "staticroutes"])
    try:
        assert wait_until(lambda: net.events("a").count("bound 10.8.1.11 10.8.1.2") >= 2,
                          timeout=15), (net.events("a"), client.lines())
        with lab.sniff("a", "udp port 67", verbose=False) as capture:
            os.kill(client.proc.pid, signal.SIGUSR1)  # udhcpc: renew the lease now
            assert wait_until(lambda: "renew 10.8.1.11 10.8.1.2" in net.events("a"),
                              timeout=15), (net.events("a"), client.lines(), lab.report())
        assert any("10.8.1.11.68 > 10.8.1.2.67" in line for line in capture.lines), (
            capture.lines)
    finally:
        client.stop()


def test_unknown_mac_and_disabled_subnet_get_no_offer(net: Net) -> None:
    lab = net.lab
    assert not any(e.startswith("bound") for e in net.udhcpc("x", tries=2)), net.events("x")
    status, subnet = call("GET", net.right_subnet)
    assert status == 200, subnet
    status, body = call("PUT", net.right_subnet, {**subnet, "enabled": False})
    assert status in (200, 204), body
    try:
        before = len(net.events("b"))
        net.udhcpc("b", tries=2)
        assert not any(e.startswith("bound") for e in net.events("b")[before:]), (
            net.events("b"), lab.report())
    finally:
        call("PUT", net.right_subnet, {**subnet, "enabled": True})


def test_arp_for_a_known_address_is_answered_on_the_askers_host(net: Net) -> None:
    lab = net.lab
    if "10.8.1.11/24" not in lab.exec("a", ["ip", "-4", "addr"]).stdout:
        assert any(e.startswith("bound ") for e in net.udhcpc("a")), lab.report()
    lab.exec("a", ["ip", "neigh", "flush", "all"])
    with lab.sniff("c", "arp", verbose=False) as other_host:
        assert lab.pings("a", "10.8.1.13"), lab.report()  # c: its host entry's address
        lab.ping("a", "10.8.1.77", count=1, timeout=1.0)  # nobody's address
    neigh = lab.exec("a", ["ip", "neigh", "show", "10.8.1.13"]).stdout
    assert MACS["c"] in neigh, neigh
    text = "\n".join(other_host.lines)
    assert "who-has 10.8.1.13" not in text, text  # answered on h1, never broadcast to h2
    assert "who-has 10.8.1.77 tell 10.8.1.11" in text, text  # unknown: still floods


def test_a_new_or_removed_host_entry_changes_arp_answers_at_once(net: Net) -> None:
    """The flood of a request for an unknown address is on the switch; a host entry for the
    address takes it away, and removing the entry makes the request flood again."""
    lab = net.lab
    if "10.8.1.11/24" not in lab.exec("a", ["ip", "-4", "addr"]).stdout:
        assert any(e.startswith("bound ") for e in net.udhcpc("a")), lab.report()
    status, subnet = call("GET", net.left_subnet)
    assert status == 200, subnet
    mac = "02:00:00:00:89:77"

    def asks() -> str:
        lab.exec("a", ["ip", "neigh", "flush", "all"])
        lab.ping("a", "10.8.1.77", count=1, timeout=0.5)
        return str(lab.exec("a", ["ip", "neigh", "show", "10.8.1.77"]).stdout)

    with lab.sniff("c", "arp", verbose=False) as flooded:
        assert mac not in asks()
    assert any("who-has 10.8.1.77" in line for line in flooded.lines), flooded.lines
    status, host = call("POST", subnet["hosts"], {"macAddr": mac, "ipAddr": "10.8.1.77"})
    assert status == 201, host
    try:
        assert wait_until(lambda: mac in asks(), timeout=10), lab.report()
        with lab.sniff("c", "arp", verbose=False) as answered:
            assert mac in asks()
        assert not any("who-has 10.8.1.77" in line for line in answered.lines), (
            answered.lines)
    finally:
        assert call("DELETE", host["uri"])[0] == 204
    with lab.sniff("c", "arp", verbose=False) as again:
        assert wait_until(lambda: mac not in asks(), timeout=10), lab.report()
    assert any("who-has 10.8.1.77" in line for line in again.lines), again.lines


def test_arp_on_a_bridge_without_router_is_answered_from_what_the_vms_said(net: Net) -> None:
    """After d and e talked once, the bridge's ARP table holds their addresses (the API lists
    them): d's ARP for e is answered on h1, never broadcast to h2; an unknown address still
    floods."""
    lab = net.lab
    assert lab.pings("d", "10.8.3.15"), lab.report()
    table = f"{net.api}/bridges/{net.flat['id']}/arp_table"

    def learned() -> dict[str, str]:
        status, entries = call("GET", table)
        assert status == 200, entries
        return {e["ip"]: e["mac"] for e in entries}

    assert wait_until(lambda: learned() == {"10.8.3.14": MACS["d"], "10.8.3.15": MACS["e"]},
                      timeout=10), (learned(), lab.report())
    lab.exec("d", ["ip", "neigh", "flush", "all"])
    with lab.sniff("e", "arp", verbose=False) as other_host:
        assert lab.pings("d", "10.8.3.15"), lab.report()
        lab.ping("d", "10.8.3.77", count=1, timeout=1.0)  # nobody's address
    neigh = lab.exec("d", ["ip", "neigh", "show", "10.8.3.15"]).stdout
    assert MACS["e"] in neigh, neigh
    text = "\n".join(other_host.lines)
    assert "who-has 10.8.3.15" not in text, text  # answered on h1
    assert "who-has 10.8.3.77 tell 10.8.3.14" in text, text  # unknown: still floods
