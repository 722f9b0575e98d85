"""``ryu-midonet-trace`` against a real store: a packet dropped by a chain names the rule that
dropped it, an allowed one its egress port and host, bad input names the option."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from ryu_midonet.nsdb.topology import Topology
from tests.support.topology import StoreTopology

H1, H2 = str(uuid.uuid4()), str(uuid.uuid4())


@pytest.fixture
def cloud(topo: Topology) -> dict[str, str]:
    topo.register_host(H1, "hv1")
    topo.register_host(H2, "hv2")
    zone = topo.create("tunnelZone", {"name": "overlay", "type": "vxlan"})
    topo.add_tunnel_zone_member(zone["id"], H1, "192.0.2.1")
    topo.add_tunnel_zone_member(zone["id"], H2, "192.0.2.2")
    build = StoreTopology(topo)
    bridge = build.bridge("net")
    p1, p2 = build.port(bridge), build.port(bridge)
    build.bind(p1, H1, "tap-vm1")
    build.bind(p2, H2, "tap-vm2")
    chain = build.chain("no-ssh")
    rule = build.rule(chain, "drop", dlType=0x0800, nwProto=6, tpDst={"start": 22, "end": 22})
    topo.update("port", p1["id"], {"inboundFilterId": chain["id"]})
    return {"p1": p1["id"], "p2": p2["id"], "rule": rule["id"], "chain": chain["id"]}


def _trace(redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ryu_midonet.cmd.trace",
                           "--redis-url", redis_url, *args],
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_dropped_packet_names_the_rule_and_an_allowed_one_its_egress(
        redis_url: str, cloud: dict[str, str], topo: Topology) -> None:
    before = topo.store.snapshot()
    ssh = _trace(redis_url, "--ingress-port", cloud["p1"], "--ip-src", "10.0.0.1",
                 "--ip-dst", "10.0.0.2", "--ip-protocol", "tcp", "--dst-port", "22")
    assert ssh.returncode == 0, ssh.stderr
    dropped = [line for line in ssh.stdout.splitlines() if line.strip().startswith("dropped:")]
    assert len(dropped) == 1 and f"rule {cloud['rule']}" in dropped[0], ssh.stdout
    assert f"chain {cloud['chain']}" in dropped[0]

    web = _trace(redis_url, "--device", "bridge", "net", "--port",
                 str(sorted([cloud["p1"], cloud["p2"]]).index(cloud["p1"])),
                 "--ip-src", "10.0.0.1", "--ip-dst", "10.0.0.2", "--ip-protocol", "tcp",
                 "--dst-port", "80")
    assert web.returncode == 0, web.stderr
    assert f"out of port {cloud['p2']} on host hv2" in web.stdout, web.stdout
    flows = [line for line in web.stdout.splitlines() if "flow table=" in line]
    assert flows and "tun_ipv4_dst" in flows[-1] and "192.0.2.2" in flows[-1], web.stdout
    assert topo.store.snapshot() == before  # nothing written


@pytest.mark.parametrize(("args", "option"), [
    (["--ip-src", "10.0.0.1", "--ip-dst", "10.0.0.999"], "--ip-dst"),
    (["--ip-src", "10.0.0.1", "--ip-dst", "10.0.0.2", "--dst-port", "x"], "--dst-port"),
])
def test_bad_input_names_the_option(redis_url: str, cloud: dict[str, str],
                                    args: list[str], option: str) -> None:
    out = _trace(redis_url, "--ingress-port", cloud["p1"], *args)
    assert out.returncode == 2 and f"error: {option}:" in out.stderr and not out.stdout


def test_an_unknown_port_is_an_error(redis_url: str, cloud: dict[str, str]) -> None:
    out = _trace(redis_url, "--ingress-port", str(uuid.uuid4()), "--ip-src", "10.0.0.1",
                 "--ip-dst", "10.0.0.2")
    assert out.returncode == 2 and "--ingress-port: no port" in out.stderr
