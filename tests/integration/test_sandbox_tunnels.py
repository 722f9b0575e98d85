"""Traffic between sandbox hosts over OVS userspace VXLAN and GRE tunnels, without an agent.

Static flows (the shape the agent installs: egress-port key in tun_id, peer host in tun_dst,
out the flow-based tunnel port) and plain NORMAL switching over a tunnel mesh must both carry
pings and TCP between VMs on different hosts, and the underlay must see only encapsulated
frames.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ryu_midonet.sandbox import Sandbox
from ryu_midonet.sandbox.flows import wire_static
from ryu_midonet.sandbox.normal import wire_normal

pytestmark = pytest.mark.integration


@pytest.fixture
def run_dir() -> Iterator[Path]:
    """A short run directory (unix socket paths have a length limit)."""
    path = Path(tempfile.mkdtemp(prefix="rmsb-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def description(tunnel: str, hosts: int = 2, vms_per_host: int = 1) -> dict[str, Any]:
    vms = []
    for h in range(1, hosts + 1):
        for _ in range(vms_per_host):
            n = len(vms) + 1
            vms.append({"name": f"vm{n}", "host": f"h{h}", "ip": f"10.0.0.{10 + n}/24",
                        "mac": f"02:00:00:00:01:{n:02x}"})
    return {"name": f"t{os.getpid()}", "tunnel": tunnel, "api": False, "agent": "none",
            "hosts": [{"name": f"h{h}"} for h in range(1, hosts + 1)], "vms": vms}


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, run_dir: Path) -> Iterator[Sandbox]:
    with Sandbox.from_yaml(description(*request.param), run_dir) as sb:
        yield sb


def tcp_works(client: Any, server: Any) -> bool:
    """A 1 MB iperf3 transfer: checksums must be right end to end for TCP to get through."""
    server.exec(["iperf3", "-s", "-1", "-D", "-B", server.ip], check=True)
    for _ in range(50):
        if client.exec(["iperf3", "-c", server.ip, "-n", "1M", "--connect-timeout", "2000"],
                       timeout=20).returncode == 0:
            return True
    return False


@pytest.mark.parametrize("sandbox", [("vxlan",)], indirect=True)
def test_vxlan_static_flows_carry_traffic_between_hosts(sandbox: Sandbox) -> None:
    keys = wire_static(sandbox)
    vm1, vm2 = sandbox.vm("vm1"), sandbox.vm("vm2")
    with sandbox.capture("udp port 6677") as tunnelled, sandbox.capture("icmp or arp") as bare:
        assert vm1.ping(vm2.ip, count=3)
        assert vm2.ping(vm1.ip, count=3)
    outer = [line for line in tunnelled.lines if "> 10.99.0." in line]
    assert any(re.search(r"10\.99\.0\.1\.\d+ > 10\.99\.0\.2\.6677: VXLAN.* vni "
                         f"{keys['vm2']}$", line) for line in outer), tunnelled.lines
    assert any(re.search(r"10\.99\.0\.2\.\d+ > 10\.99\.0\.1\.6677: VXLAN.* vni "
                         f"{keys['vm1']}$", line) for line in outer), tunnelled.lines
    assert any("ICMP echo request" in line for line in tunnelled.lines)
    assert bare.lines == [], "VM frames must cross the underlay encapsulated only"
    assert tcp_works(vm1, vm2)


@pytest.mark.parametrize("sandbox", [("gre",)], indirect=True)
def test_gre_static_flows_carry_traffic_between_hosts(sandbox: Sandbox) -> None:
    keys = wire_static(sandbox)
    vm1, vm2 = sandbox.vm("vm1"), sandbox.vm("vm2")
    with sandbox.capture("proto gre") as cap:
        assert vm1.ping(vm2.ip, count=3)
    assert any(f"10.99.0.1 > 10.99.0.2: GREv0, key={keys['vm2']:#x}" in line
               and "ICMP echo request" in line for line in cap.lines), cap.lines
    assert any(f"10.99.0.2 > 10.99.0.1: GREv0, key={keys['vm1']:#x}" in line
               and "ICMP echo reply" in line for line in cap.lines), cap.lines
    assert tcp_works(vm2, vm1)


@pytest.mark.parametrize("sandbox", [("vxlan", 2, 2)], indirect=True)
def test_static_flows_deliver_locally_and_by_egress_port_key(sandbox: Sandbox) -> None:
    keys = wire_static(sandbox)
    vm1, vm2, vm3, vm4 = (sandbox.vm(f"vm{n}") for n in range(1, 5))
    assert vm1.host is vm2.host and vm3.host is vm4.host
    assert vm1.ping(vm2.ip)  # resolves ARP (a broadcast, so a copy goes to every VM)
    with sandbox.capture("udp port 6677") as cap:
        assert vm1.ping(vm2.ip, count=2)  # same host: unicast never reaches the underlay
    assert not any("ICMP" in line for line in cap.lines), cap.lines
    for dst in (vm3, vm4):
        assert vm1.ping(dst.ip), dst
    flows = sandbox.host("h2").ofctl("dump-flows", "br-int")
    tun = sandbox.host("h2").tunnel_ofport
    for vm in (vm3, vm4):
        match = re.search(rf"n_packets=(\d+).*tun_id={keys[vm.name]:#x},in_port={tun} ", flows)
        assert match and int(match.group(1)) > 0, flows


@pytest.mark.parametrize("sandbox", [("vxlan", 3)], indirect=True)
def test_normal_switching_over_a_vxlan_mesh(sandbox: Sandbox) -> None:
    wire_normal(sandbox)
    vms = list(sandbox.vms.values())
    with sandbox.capture("udp port 6677") as cap:
        assert vms[0].ping(vms[2].ip)
    # One ARP broadcast from h1 reaches h2 and h3 once each: protected tunnel ports stop
    # the receiving hosts from flooding it on through the mesh.
    requests = [line for line in cap.lines if f"who-has {vms[2].ip} tell" in line]
    assert len(requests) == 2, cap.lines
    for a in vms:
        for b in vms:
            if a is not b:
                assert a.ping(b.ip), (a, b)
    assert tcp_works(vms[0], vms[1])


@pytest.mark.parametrize("sandbox", [("gre", 2)], indirect=True)
def test_normal_switching_over_gre(sandbox: Sandbox) -> None:
    wire_normal(sandbox)
    vm1, vm2 = sandbox.vm("vm1"), sandbox.vm("vm2")
    with sandbox.capture("proto gre") as cap:
        assert vm1.ping(vm2.ip, count=2)
    assert any("GREv0" in line and "ICMP echo request" in line for line in cap.lines)
