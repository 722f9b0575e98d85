"""A GRE tunnel zone: hosts tunnel to each other with GRE, the key naming the egress port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.sandbox import Sandbox
from tests.support.topology import StoreTopology

SANDBOX = {
    "name": "gre",
    "tunnel": "gre",
    "underlay": {"cidr": "10.98.0.0/24"},
    "hosts": [{"name": "h1", "underlay_ip": "10.98.0.1"},
              {"name": "h2", "underlay_ip": "10.98.0.2"}],
    "vms": [{"name": "vm1", "host": "h1", "interface": "rm-g1-tap", "mac": "02:00:00:00:0a:01",
             "ip": "10.0.0.11/24"},
            {"name": "vm2", "host": "h2", "interface": "rm-g2-tap", "mac": "02:00:00:00:0a:02",
             "ip": "10.0.0.12/24"}],
    "api": False,
    "agent": "default",
}


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox.from_yaml(SANDBOX, tmp_path_factory.mktemp("gre")) as sandbox:
        yield sandbox


def test_bridge_across_hosts_of_a_gre_zone(sb: Sandbox) -> None:
    topo = Topology(Store.from_url(sb.redis_url))
    zone = topo.create("tunnelZone", {"name": "gre-zone", "type": "gre"})
    for name in ("h1", "h2"):
        topo.add_tunnel_zone_member(zone["id"], sb.host(name).host_id, sb.host(name).underlay_ip)
    build = StoreTopology(topo)
    bridge = build.bridge("br")
    keys = []
    for vm, host in (("vm1", "h1"), ("vm2", "h2")):
        port = build.port(bridge)
        keys.append(port["tunnelKey"])
        build.bind(port, sb.host(host).host_id, sb.vm(vm).interface)
    assert sb.vm("vm1").wait_ping("10.0.0.12", timeout=15)
    with sb.capture("ip proto gre") as cap:
        assert sb.vm("vm1").ping("10.0.0.12", count=2)
    assert any(f"key=0x{keys[1]:x}" in line for line in cap.lines), cap.lines
    assert not any("VXLAN" in line for line in cap.lines)
