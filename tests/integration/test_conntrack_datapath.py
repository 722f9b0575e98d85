"""Connection tracking in the datapath (``conntrack_in_datapath = true``) on real Open vSwitch,
sandbox ``ctk``: a VM that accepts only return flows reaches a VM on the other host over TCP
and UDP, connections towards it are dropped, new connections reach no agent once the first
set the flows up (the switches' trackers answer), and an established connection outlives
both agents.

Bridge ``br``: VM a (10.60.0.11, h1) and VM b (10.60.0.12, h2). a's port: the chain of
traffic from a accepts return flows, then everything (so a's connections are tracked); the
chain of traffic to a accepts return flows and ARP, and drops the rest.
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

A_IP, B_IP = "10.60.0.11", "10.60.0.12"
MISS = r"cookie=0x4[0-9a-f]{14},"  # the miss flows' cookies (pipeline.COOKIE_MISS)
MISS_TABLES = (1, 4)  # the flow cache and the ct-lookup table send misses to the agent

# A UDP echo server: one line "PEER_IP PEER_PORT" per datagram.
UDP_SERVER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
print("listening", flush=True)
while True:
    data, peer = s.recvfrom(4096)
    print(peer[0], peer[1], flush=True)
    s.sendto(data, peer)
"""
# One datagram to the echo server; exit status 0 when the echo came back.
UDP_CLIENT = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[3]))
for _ in range(3):
    s.sendto(b"hello", (sys.argv[1], int(sys.argv[2])))
    try:
        if s.recv(64) == b"hello":
            sys.exit(0)
    except OSError:
        pass
sys.exit(1)
"""


def sandbox(conf: Path) -> dict[str, Any]:
    return {
        "name": "ctk",
        "tunnel": "vxlan",
        "underlay": {"cidr": "10.90.0.0/24"},
        "hosts": [{"name": "h1", "underlay_ip": "10.90.0.1"},
                  {"name": "h2", "underlay_ip": "10.90.0.2"}],
        "vms": [
            {"name": "a", "host": "h1", "interface": "rm-ctka-tap", "ip": f"{A_IP}/24",
             "mac": "02:00:00:00:90:0a"},
            {"name": "b", "host": "h2", "interface": "rm-ctkb-tap", "ip": f"{B_IP}/24",
             "mac": "02:00:00:00:90:0b"},
        ],
        "api": False,
        "agent": {"command": f"{DEFAULT_AGENT} --config-file {conf}"},
    }


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    run_dir: Path = tmp_path_factory.mktemp("ctk")
    conf = run_dir / "agent.conf"
    conf.write_text("[DEFAULT]\nconntrack_in_datapath = true\n")
    with Sandbox.from_yaml(sandbox(conf), run_dir) as sb:
        lab = Lab(sb, run_dir)
        build = lab.build
        from_a, to_a = build.chain("from-a"), build.chain("to-a")
        build.rule(from_a, "accept", matchReturnFlow=True)
        build.rule(from_a, "accept")
        build.rule(to_a, "accept", matchReturnFlow=True)
        build.rule(to_a, "accept", dlType=0x0806)
        build.rule(to_a, "drop")
        br = lab.bridge("br")
        lab.bind(build.port(br, inboundFilterId=from_a["id"], outboundFilterId=to_a["id"]),
                 "a")
        lab.plug(br, "b")
        yield lab
        lab.wipe()


def misses(lab: Lab) -> int:
    """Packets that reached an agent: the miss flows' counters on both hosts."""
    total = 0
    for host in ("h1", "h2"):
        for table in MISS_TABLES:
            for line in lab.flows(host, table):
                found = re.search(r"n_packets=(\d+)", line)
                if re.match(MISS, line) and found is not None:
                    total += int(found.group(1))
    return total


def udp_echoes(lab: Lab, vm: str, ip: str, port: int, timeout: float = 1.0) -> bool:
    done = lab.exec(vm, ["python3", "-c", UDP_CLIENT, ip, str(port), str(timeout)],
                    timeout=timeout * 3 + 10)
    return done.returncode == 0


def test_outgoing_connections_work_and_incoming_ones_are_dropped(lab: Lab) -> None:
    lab.server("b", 8080)
    lab.server("a", 8080)
    assert lab.eventually_connects("a", B_IP, 8080), lab.report()
    assert not lab.connects("b", A_IP, 8080, timeout=1.0), lab.report()
    udp = lab.background("b", ["python3", "-c", UDP_SERVER, "5300"])
    assert wait_until(lambda: "listening" in udp.lines(), timeout=10)
    assert wait_until(lambda: udp_echoes(lab, "a", B_IP, 5300), timeout=15), lab.report()
    lab.background("a", ["python3", "-c", UDP_SERVER, "5301"])
    assert not udp_echoes(lab, "b", A_IP, 5301), lab.report()
    assert [f for f in lab.flows("h2", 4) if "ct_state" in f], lab.report()
    assert lab.openflow_errors() == []


def test_new_connections_reach_no_agent_after_the_first(lab: Lab) -> None:
    lab.server("b", 8081)
    lab.server("a", 8081)
    assert lab.eventually_connects("a", B_IP, 8081), lab.report()
    assert not lab.connects("b", A_IP, 8081, timeout=1.0)
    before = misses(lab)
    for _ in range(20):
        assert lab.connects("a", B_IP, 8081), lab.report()
    for _ in range(3):
        assert not lab.connects("b", A_IP, 8081, timeout=1.0)
    assert misses(lab) == before, lab.report()


def test_an_established_connection_outlives_both_agents(lab: Lab) -> None:
    lab.server("b", 8082)
    stream = lab.stream("a", B_IP, 8082)
    assert wait_until(lambda: len(stream.lines()) >= 5, timeout=15), lab.report()
    for host in ("h1", "h2"):
        lab.sb.stop_agent(host, kill=True)
    count = len(stream.lines())
    assert wait_until(lambda: len(stream.lines()) >= count + 10, timeout=15)  # no agents
    for host in ("h1", "h2"):
        lab.sb.start_agent(host)  # each wipes its switch's flows; the trackers keep state
    count = len(stream.lines())
    assert wait_until(lambda: len(stream.lines()) >= count + 20, timeout=30), lab.report()
    assert stream.alive()
    assert not lab.connects("b", A_IP, 8080, timeout=1.0)
