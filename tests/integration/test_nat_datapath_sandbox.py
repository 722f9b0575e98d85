"""Source NAT in the datapath (``nat_in_datapath = true``) on real Open vSwitch, sandbox
``ndp``: new connections through a masquerading router reach no agent after the first, the
outside sees the NAT address and ports of the host's block, and established connections
outlive their agent (the translations are in the switch's connection tracker), and ICMP
errors about translated datagrams reach their sender.

Router ``r``: ``r:in`` 10.50.0.1/24 on bridge ``br`` with VMs a and b, and the uplink
``r:out`` 198.18.0.1/24 bound to VM ext. Every VM is on h1 (test_nat_cross_host has the
uplink on another host); h2 is there for the tunnel zone only. The
outbound chain masquerades to 198.18.0.1, ports 1024-65535 (h1's block: 4096-8191), and the
inbound chain reverses it. The last test gives the uplink a return-only filter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chainlab import Lab

from ryu_midonet.sandbox import Sandbox
from ryu_midonet.sandbox.config import DEFAULT_AGENT
from tests.support.waiting import wait_until

NAT_IP = "198.18.0.1"
EXT_IP = "198.18.0.10"
BLOCK = range(4096, 8192)  # the agents' default blocks: 4096 ports
MISS = r"cookie=0x4[0-9a-f]{14},"


def _vm(name: str, ip: str, gateway: str | None, mac: str) -> dict[str, str]:
    spec = {"name": name, "host": "h1", "interface": f"rm-{name}-tap", "ip": ip, "mac": mac}
    if gateway:
        spec["gateway"] = gateway
    return spec


def sandbox(conf: Path) -> dict[str, Any]:
    return {
        "name": "ndp",
        "tunnel": "vxlan",
        "underlay": {"cidr": "10.92.0.0/24"},
        "hosts": [{"name": "h1", "underlay_ip": "10.92.0.1"},
                  {"name": "h2", "underlay_ip": "10.92.0.2"}],
        "vms": [
            _vm("a", "10.50.0.11/24", "10.50.0.1", "02:00:00:00:92:0a"),
            _vm("b", "10.50.0.12/24", "10.50.0.1", "02:00:00:00:92:0b"),
            _vm("ext", f"{EXT_IP}/24", None, "02:00:00:00:92:ee"),
        ],
        "api": False,
        "agent": {"command": f"{DEFAULT_AGENT} --config-file {conf}"},
    }


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    run_dir: Path = tmp_path_factory.mktemp("ndp")
    conf = run_dir / "agent.conf"
    conf.write_text("[DEFAULT]\nnat_in_datapath = true\n")
    with Sandbox.from_yaml(sandbox(conf), run_dir) as sb:
        lab = Lab(sb, run_dir)
        build = lab.build
        pre, post = build.chain("pre"), build.chain("post")
        r = build.router("r", inboundFilterId=pre["id"], outboundFilterId=post["id"])
        br = lab.bridge("br")
        lab.plug(br, "a")
        lab.plug(br, "b")
        lab.attach(r, "10.50.0.1/24", br)
        up = lab.router_port(r, "198.18.0.1/24", vm="ext")
        build.rule(pre, "rev_snat", flowAction="accept", nwDstAddress=NAT_IP, nwDstLength=32,
                   inPorts=[up["id"]])
        build.rule(post, "snat", flowAction="accept", outPorts=[up["id"]],
                   natTargets=[{"addressFrom": NAT_IP, "addressTo": NAT_IP,
                                "portFrom": 1024, "portTo": 65535}])
        yield lab
        lab.wipe()


def misses(lab: Lab) -> int:
    """Packets that reached h1's agent: the flow table's, the nat-return table's and the
    ct-lookup table's misses."""
    total = 0
    for table in (1, 3, 4):
        for line in lab.flows("h1", table):
            found = re.search(r"n_packets=(\d+)", line)
            if re.match(MISS, line) and found is not None:
                total += int(found.group(1))
    return total


def peers(server: Any) -> list[tuple[str, int]]:
    return [(ip, int(port)) for ip, port in (line.split() for line in server.lines()
                                             if line != "listening")]


def test_connections_are_translated_by_the_switch(lab: Lab) -> None:
    server = lab.server("ext", 8080)
    for vm in ("a", "b"):  # the first connection of each VM sets its flows up
        assert lab.eventually_connects(vm, EXT_IP, 8080), lab.report()
    before = misses(lab)
    for _ in range(10):
        for vm in ("a", "b"):
            assert lab.connects(vm, EXT_IP, 8080), lab.report()
    assert misses(lab) == before, lab.report()
    seen = peers(server)
    assert len(seen) >= 22
    assert {ip for ip, _ in seen} == {NAT_IP}
    assert all(port in BLOCK for _, port in seen), seen
    assert len({port for _, port in seen}) == len(seen)  # each connection its own NAT port
    assert [f for f in lab.flows("h1", 3) if "ct_state" in f], lab.report()
    assert lab.openflow_errors() == []


def test_an_established_connection_outlives_its_agent(lab: Lab) -> None:
    lab.server("ext", 8081)
    stream = lab.stream("a", EXT_IP, 8081)
    assert wait_until(lambda: len(stream.lines()) >= 5, timeout=15), lab.report()
    lab.sb.stop_agent("h1", kill=True)
    count = len(stream.lines())
    assert wait_until(lambda: len(stream.lines()) >= count + 10, timeout=15)  # no agent
    lab.sb.start_agent("h1")
    count = len(stream.lines())
    assert wait_until(lambda: len(stream.lines()) >= count + 20, timeout=30), lab.report()
    assert stream.alive()


def test_a_refused_datagram_is_told_to_its_sender(lab: Lab) -> None:
    """The ICMP port unreachable about a datagram the switch translated goes back through
    its tracker, which translates the error and its quote back to the VM's address."""
    assert lab.refused("a", EXT_IP, 9999), lab.report()


def test_a_return_only_uplink_needs_no_agent_per_connection(lab: Lab) -> None:
    """The uplink accepts only return flows in (and tracks what leaves by it): the switch's
    source NAT records each connection, so new connections from either VM reach no agent
    after the first, and a connection from outside no longer reaches a VM."""
    up = next(p for p in lab.topo.list("port") if p.get("portAddress") == NAT_IP)
    lab.exec("ext", ["ip", "route", "replace", "10.50.0.0/24", "via", NAT_IP])
    try:
        with lab.sniff("a", "tcp dst port 8090") as cap:  # without the filter: it gets there
            assert not lab.connects("ext", "10.50.0.11", 8090)  # (nothing listens)
        assert cap.lines != [], lab.report()
        build = lab.build
        up_in, up_out = build.chain("up-in"), build.chain("up-out")
        build.rule(up_in, "accept", matchReturnFlow=True)
        build.rule(up_in, "drop")
        build.rule(up_out, "accept", matchForwardFlow=True)
        lab.topo.update("port", up["id"], {"inboundFilterId": up_in["id"],
                                           "outboundFilterId": up_out["id"]})
        lab.server("ext", 8082)
        for vm in ("a", "b"):  # replies to each VM: a nat-return flow using the tracker's answer
            assert wait_until(lambda vm=vm: lab.connects(vm, EXT_IP, 8082, 1.0) and len(
                [f for f in lab.flows("h1", 3) if "ct_zone" in f]) >= ("a", "b").index(vm) + 1,
                timeout=15), lab.report()
        before = misses(lab)
        for _ in range(5):
            for vm in ("a", "b"):
                assert lab.connects(vm, EXT_IP, 8082), lab.report()
        assert misses(lab) == before, lab.report()
        with lab.sniff("a", "tcp dst port 8090") as cap:
            assert not lab.connects("ext", "10.50.0.11", 8090)
        assert cap.lines == [], lab.report()
        assert lab.openflow_errors() == []
    finally:
        lab.exec("ext", ["ip", "route", "del", "10.50.0.0/24"])
