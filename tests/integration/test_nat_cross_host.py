"""Source NAT in the datapath when the translated packets leave the topology on another host,
on real Open vSwitch, sandbox ``xnat``: h1 translates (its switch's connection tracker, ports of
the blocks h1 leased through the store), h2 tunnels the replies back to h1, and neither agent
sees the connections after each VM's first; a host whose block fills up takes another one
(blocks of 64 ports here), still without either agent; a connection outlives either agent.

Router ``r``: ``r:in`` 10.50.0.1/24 on bridge ``br`` with VMs a and b (h1), and ``r:out``
198.18.0.1/24 on bridge ``pub`` with VM ext (h2). The router's outbound chain masquerades what
leaves by ``r:out`` to 198.18.0.1, ports 1024-65535; its inbound chain reverses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chainlab import Lab

from ryu_midonet.nsdb.store import Store
from ryu_midonet.sandbox import Sandbox
from ryu_midonet.sandbox.config import DEFAULT_AGENT
from tests.support.waiting import wait_until

NAT_IP = "198.18.0.1"
EXT_IP = "198.18.0.10"
BLOCK_BITS = 6  # blocks of 64 ports (the agents here): a few connections fill one up
HALF = 1 << (BLOCK_BITS - 1)  # connections on h1's block that make its agent lease the next
MISS = r"cookie=0x4[0-9a-f]{14},"
# Open N connections to the echo server at IP:PORT (one exchange each) and keep them open.
HOLD = r"""
import socket, sys, time
held = []
for _ in range(int(sys.argv[3])):
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    c.sendall(b"hello")
    assert c.recv(64) == b"hello"
    held.append(c)
print("held", flush=True)
time.sleep(600)
"""


def _vm(name: str, host: str, ip: str, gateway: str | None, mac: str) -> dict[str, str]:
    spec = {"name": name, "host": host, "interface": f"rm-{name}-tap", "ip": ip, "mac": mac}
    if gateway:
        spec["gateway"] = gateway
    return spec


def sandbox(conf: Path) -> dict[str, Any]:
    return {
        "name": "xnat",
        "tunnel": "vxlan",
        "underlay": {"cidr": "10.91.0.0/24"},
        "hosts": [{"name": "h1", "underlay_ip": "10.91.0.1"},
                  {"name": "h2", "underlay_ip": "10.91.0.2"}],
        "vms": [
            _vm("a", "h1", "10.50.0.11/24", "10.50.0.1", "02:00:00:00:91:0a"),
            _vm("b", "h1", "10.50.0.12/24", "10.50.0.1", "02:00:00:00:91:0b"),
            _vm("ext", "h2", f"{EXT_IP}/24", None, "02:00:00:00:91:ee"),
        ],
        "api": False,
        "agent": {"command": f"{DEFAULT_AGENT} --config-file {conf}"},
    }


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    run_dir: Path = tmp_path_factory.mktemp("xnat")
    conf = run_dir / "agent.conf"
    conf.write_text(f"[DEFAULT]\nnat_in_datapath = true\nnat_datapath_block_bits = {BLOCK_BITS}\n")
    with Sandbox.from_yaml(sandbox(conf), run_dir) as sb:
        lab = Lab(sb, run_dir)
        build = lab.build
        pre, post = build.chain("pre"), build.chain("post")
        r = build.router("r", inboundFilterId=pre["id"], outboundFilterId=post["id"])
        br, pub = lab.bridge("br"), lab.bridge("pub")
        lab.plug(br, "a")
        lab.plug(br, "b")
        lab.plug(pub, "ext")
        lab.attach(r, "10.50.0.1/24", br)
        out = lab.attach(r, f"{NAT_IP}/24", pub)
        build.rule(pre, "rev_snat", flowAction="accept", nwDstAddress=NAT_IP, nwDstLength=32,
                   inPorts=[out["id"]])
        build.rule(post, "snat", flowAction="accept", outPorts=[out["id"]],
                   natTargets=[{"addressFrom": NAT_IP, "addressTo": NAT_IP,
                                "portFrom": 1024, "portTo": 65535}])
        yield lab
        lab.wipe()


def misses(lab: Lab) -> int:
    """Packets that reached an agent: the flow table's and the nat-return table's misses."""
    total = 0
    for host in ("h1", "h2"):
        for table in (1, 3):
            for line in lab.flows(host, table):
                found = re.search(r"n_packets=(\d+)", line)
                if re.match(MISS, line) and found is not None:
                    total += int(found.group(1))
    return total


def h1_blocks(lab: Lab) -> list[int]:
    """The blocks of the NAT address that h1 holds, as the store says."""
    store = Store.from_url(lab.sb.redis_url)
    held = {int(block): str(host) for block, host in
            store.redis.hgetall(store.key_state(f"natlease:{NAT_IP}")).items()}
    return sorted(b for b, host in held.items() if host == lab.host_id("a"))


def tracked(lab: Lab) -> int:
    """TCP connections h1's tracker holds that it translated to the NAT address."""
    listing = lab.sb.host("h1").appctl("dpctl/dump-conntrack")
    return sum(1 for line in listing.splitlines()
               if line.startswith("tcp,") and f"dst={NAT_IP}," in line)


def snat_ranges(lab: Lab) -> set[str]:
    """The port ranges h1's flows give new connections to the NAT address."""
    return {found.group(1) for line in lab.flows("h1", 1)
            if (found := re.search(rf"nat\(src={re.escape(NAT_IP)}:(\d+-\d+)\)", line))}


def steers(lab: Lab, block: int) -> bool:
    """Whether h2 sends replies to ports of ``block`` back to h1."""
    mask = 0xFFFF & ~((1 << BLOCK_BITS) - 1)
    return any(f"=0x{block << BLOCK_BITS:x}/0x{mask:x}" in line for line in lab.flows("h2", 1))


def peers(server: Any) -> list[tuple[str, int]]:
    return [(ip, int(port)) for ip, port in (line.split() for line in server.lines()
                                             if line != "listening")]


def test_connections_leave_by_the_other_host_translated_by_the_switch(lab: Lab) -> None:
    server = lab.server("ext", 8080)
    for vm in ("a", "b"):  # the first connection of each VM sets its flows up
        assert lab.eventually_connects(vm, EXT_IP, 8080), lab.report()
    before = misses(lab)
    for _ in range(10):
        for vm in ("a", "b"):
            assert lab.connects(vm, EXT_IP, 8080), lab.report()
    assert misses(lab) == before, lab.report()
    seen = peers(server)
    blocks = h1_blocks(lab)
    assert len(seen) >= 22
    assert {ip for ip, _ in seen} == {NAT_IP}
    assert all(port >> BLOCK_BITS in blocks for _, port in seen), (seen, blocks)
    assert lab.openflow_errors() == []


def test_a_busy_host_takes_another_block_and_still_no_agent_sees_its_connections(
        lab: Lab) -> None:
    server = lab.server("ext", 8082)
    for vm in ("a", "b"):
        assert lab.eventually_connects(vm, EXT_IP, 8082), lab.report()
    (first,) = h1_blocks(lab)
    # half of h1's block in use (connections kept open): its agent leases the next one
    holder = lab.background("a", ["python3", "-c", HOLD, EXT_IP, "8082", str(HALF)])
    assert wait_until(lambda: "held" in holder.lines(), timeout=60), lab.report()
    assert tracked(lab) >= HALF
    assert wait_until(lambda: len(h1_blocks(lab)) == 2, timeout=30), lab.report()
    (second,) = set(h1_blocks(lab)) - {first}
    new_ports = f"{second << BLOCK_BITS}-{((second + 1) << BLOCK_BITS) - 1}"
    # h1's flows give new connections ports of the new block; h2 steers their replies to h1
    assert wait_until(lambda: snat_ranges(lab) == {new_ports}, timeout=15), lab.report()
    assert wait_until(lambda: steers(lab, second), timeout=15), lab.report()
    before, count = misses(lab), len(peers(server))
    for _ in range(5):
        for vm in ("a", "b"):
            assert lab.connects(vm, EXT_IP, 8082), lab.report()
    assert misses(lab) == before, lab.report()
    seen = peers(server)[count:]
    assert len(seen) == 10 and {ip for ip, _ in seen} == {NAT_IP}
    assert all(port >> BLOCK_BITS == second for _, port in seen), (seen, h1_blocks(lab))
    assert lab.openflow_errors() == []
    holder.stop()


def test_a_refused_datagram_is_told_to_its_sender(lab: Lab) -> None:
    """The ICMP port unreachable enters at h2, goes to h1, through its tracker, to a."""
    assert lab.refused("a", EXT_IP, 9999), lab.report()


def test_a_connection_outlives_either_agent(lab: Lab) -> None:
    lab.server("ext", 8081)
    stream = lab.stream("a", EXT_IP, 8081)
    assert wait_until(lambda: len(stream.lines()) >= 5, timeout=15), lab.report()
    blocks = h1_blocks(lab)

    def grows(by: int, timeout: float) -> bool:
        count = len(stream.lines())
        return wait_until(lambda: len(stream.lines()) >= count + by, timeout=timeout)

    for host in ("h1", "h2"):
        lab.sb.stop_agent(host, kill=True)
        assert grows(10, 15), host  # no agent
        lab.sb.start_agent(host)
        assert grows(20, 30), lab.report()
    assert stream.alive()
    assert set(blocks) <= set(h1_blocks(lab))  # h1 kept its blocks across its restart
    assert lab.eventually_connects("b", EXT_IP, 8081), lab.report()
