"""Source NAT in the datapath in another flow-state scope than the uplink's, on real Open
vSwitch, sandbox ``nsc``: MidoNet's Neutron layout, a tenant router masquerading behind a
provider router whose uplink accepts only return flows. The translating host's switch
commits each connection in both zones (the tenant router's, with its translation, and the
provider router's, translated), and looks the replies up in the provider router's zone
before the reverse translation: new connections reach no agent, an outside SYN stays out,
ICMP errors about translated datagrams reach their sender, and established connections
outlive the agent.

Tenant router ``t``: ``t:in`` 10.60.0.1/24 on bridge ``br`` with VMs a and b (h1), ``t:gw``
172.16.0.2/30 linked to the provider router ``p``'s ``p:down`` 172.16.0.1/30; ``t``
masquerades what leaves by ``t:gw`` to 172.16.0.2, ports 1024-65535 (h1's block:
4096-8191), and reverses it. ``p:up`` 198.18.0.1/24 is bound to VM ext (h2); its inbound
filter accepts return flows only, its outbound filter tracks what leaves.
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

NAT_IP = "172.16.0.2"
EXT_IP = "198.18.0.10"
BLOCK = range(4096, 8192)  # the agents' default blocks: 4096 ports
MISS = r"cookie=0x4[0-9a-f]{14},"
SIZE = 4 << 20
# Send SIZE bytes to the first peer, then close.
SENDER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
c.sendall(b"x" * int(sys.argv[2]))
c.close()
"""
# Read from IP:PORT until the end; print how many bytes came.
RECEIVER = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
c.settimeout(20)
total = 0
while chunk := c.recv(65536):
    total += len(chunk)
print(total)
"""


def _vm(name: str, host: str, ip: str, gateway: str | None, mac: str) -> dict[str, str]:
    spec = {"name": name, "host": host, "interface": f"rm-{name}-tap", "ip": ip, "mac": mac}
    if gateway:
        spec["gateway"] = gateway
    return spec


def sandbox(conf: Path) -> dict[str, Any]:
    return {
        "name": "nsc",
        "tunnel": "vxlan",
        "underlay": {"cidr": "10.81.0.0/24"},
        "hosts": [{"name": "h1", "underlay_ip": "10.81.0.1"},
                  {"name": "h2", "underlay_ip": "10.81.0.2"}],
        "vms": [
            _vm("a", "h1", "10.60.0.11/24", "10.60.0.1", "02:00:00:00:81:0a"),
            _vm("b", "h1", "10.60.0.12/24", "10.60.0.1", "02:00:00:00:81:0b"),
            _vm("ext", "h2", f"{EXT_IP}/24", None, "02:00:00:00:81:ee"),
        ],
        "api": False,
        "agent": {"command": f"{DEFAULT_AGENT} --config-file {conf}"},
    }


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    run_dir: Path = tmp_path_factory.mktemp("nsc")
    conf = run_dir / "agent.conf"
    conf.write_text("[DEFAULT]\nnat_in_datapath = true\n")
    with Sandbox.from_yaml(sandbox(conf), run_dir) as sb:
        lab = Lab(sb, run_dir)
        build = lab.build
        pre, post = build.chain("pre"), build.chain("post")
        t = build.router("t", inboundFilterId=pre["id"], outboundFilterId=post["id"])
        br = lab.bridge("br")
        lab.plug(br, "a")
        lab.plug(br, "b")
        lab.attach(t, "10.60.0.1/24", br)
        gw = lab.router_port(t, f"{NAT_IP}/30")
        p = build.router("p")
        down = lab.router_port(p, "172.16.0.1/30")
        build.link(gw, down)
        up_in, up_out = build.chain("up-in"), build.chain("up-out")
        build.rule(up_in, "accept", matchReturnFlow=True)
        build.rule(up_in, "drop")
        build.rule(up_out, "accept", matchForwardFlow=True)
        up = build.port(p, "198.18.0.1/24", inboundFilterId=up_in["id"],
                        outboundFilterId=up_out["id"])
        lab.bind(up, "ext")
        lab.route(t, "0.0.0.0/0", gw, gw="172.16.0.1")
        lab.route(p, "10.60.0.0/24", down, gw=NAT_IP)
        build.rule(pre, "rev_snat", flowAction="accept", nwDstAddress=NAT_IP, nwDstLength=32,
                   inPorts=[gw["id"]])
        build.rule(post, "snat", flowAction="accept", outPorts=[gw["id"]],
                   natTargets=[{"addressFrom": NAT_IP, "addressTo": NAT_IP,
                                "portFrom": 1024, "portTo": 65535}])
        for net in ("172.16.0.0/30", "10.60.0.0/24"):
            lab.exec("ext", ["ip", "route", "replace", net, "via", "198.18.0.1"])
        yield lab
        lab.wipe()


def misses(lab: Lab) -> int:
    """Packets that reached an agent: the flow table's, the nat-return table's and the
    ct-lookup table's misses on both hosts."""
    total = 0
    for host in ("h1", "h2"):
        for table in (1, 3, 4):
            for line in lab.flows(host, table):
                found = re.search(r"n_packets=(\d+)", line)
                if re.match(MISS, line) and found is not None:
                    total += int(found.group(1))
    return total


def test_connections_through_a_return_only_provider_uplink_reach_no_agent(lab: Lab) -> None:
    """After each VM's first connection, 10 more reach no agent, translated to the tenant
    router's address; a download completes; nothing from outside that is no reply gets in,
    to a VM's address or to a NAT port."""
    server = lab.server("ext", 8080)
    for vm in ("a", "b"):  # replies to each VM: a nat-return flow using the uplink's answer
        assert wait_until(lambda vm=vm: lab.connects(vm, EXT_IP, 8080, 1.0) and len(
            [f for f in lab.flows("h1", 3) if "reg4" in f]) >= ("a", "b").index(vm) + 1,
            timeout=20), lab.report()
    before = misses(lab)
    for _ in range(5):
        for vm in ("a", "b"):
            assert lab.connects(vm, EXT_IP, 8080), lab.report()
    assert misses(lab) == before, lab.report()
    seen = [(ip, int(port)) for ip, port in (line.split() for line in server.lines()
                                             if line != "listening")]
    assert {ip for ip, _ in seen} == {NAT_IP}
    assert all(port in BLOCK for _, port in seen), seen
    sender = lab.background("ext", ["python3", "-c", SENDER, "8081", str(SIZE)])
    assert wait_until(lambda: "listening" in sender.lines(), timeout=10), sender.lines()
    done = lab.exec("a", ["python3", "-c", RECEIVER, EXT_IP, "8081"], timeout=60)
    assert done.stdout.strip() == str(SIZE), (done.stderr[-300:], lab.report())
    with lab.sniff("a", "tcp dst port 8090") as cap:
        assert not lab.connects("ext", "10.60.0.11", 8090)
        assert not lab.connects("ext", NAT_IP, BLOCK[5])
    assert cap.lines == [], lab.report()
    assert lab.openflow_errors() == []


def test_a_refused_datagram_is_told_to_its_sender(lab: Lab) -> None:
    """The ICMP port unreachable about a translated datagram is related to its connection
    in the uplink's zone: the return-only filter lets it through to the VM."""
    assert lab.refused("a", EXT_IP, 9999), lab.report()


def test_an_established_connection_outlives_its_agent(lab: Lab) -> None:
    lab.server("ext", 8082)
    stream = lab.stream("a", EXT_IP, 8082)
    assert wait_until(lambda: len(stream.lines()) >= 5, timeout=15), lab.report()
    lab.sb.stop_agent("h1", kill=True)
    count = len(stream.lines())
    assert wait_until(lambda: len(stream.lines()) >= count + 10, timeout=15)  # no agent
    lab.sb.start_agent("h1")
    count = len(stream.lines())
    assert wait_until(lambda: len(stream.lines()) >= count + 20, timeout=30), lab.report()
    assert stream.alive()
