"""The midonet-cli script shipped with python-midonetclient 5.2.0, against our API.

In ``-e`` mode that script prints and takes UUIDs instead of aliases, so each step feeds the
UUID printed by the previous one, the way an operator's shell script does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
HOST_ID = "0f2b6a3e-52c8-4e7a-9a55-4f8a3c1d0002"


@pytest.fixture
def cli(midonet_cli_script: Callable[..., Any], api_url: str) -> Callable[[str], str]:
    def run(command: str) -> str:
        done = midonet_cli_script(api_url, command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        return done.stdout.strip()

    return run


@pytest.fixture
def cli_fails(midonet_cli_script: Callable[..., Any], api_url: str) -> Callable[[str], str]:
    def run(command: str) -> str:
        done = midonet_cli_script(api_url, command)
        assert done.returncode != 0, (command, done.stdout, done.stderr)
        return done.stdout + done.stderr

    return run


def _new(output: str) -> str:
    assert UUID.match(output), output
    return output


def test_routers_bridges_ports_and_links(cli: Callable[[str], str],
                                         cli_fails: Callable[[str], str]) -> None:
    router = _new(cli('router create name "Edge Router"'))
    assert cli("router list") == f"router {router} name Edge Router state up asn 0"
    port = _new(cli(f"router {router} add port address 10.100.1.1 net 10.100.1.0/24"))
    bridge = _new(cli("bridge create name Internal"))
    bport = _new(cli(f"bridge {bridge} add port"))
    assert cli(f"bridge {bridge} port list").startswith(f"port {bport} device {bridge} state up")
    cli(f"router {router} port {port} set peer {bport}")
    lines = cli(f"router {router} port list")
    assert f"address 10.100.1.1 net 10.100.1.0/24 peer {bport}" in lines
    routes = cli(f"router {router} route list").splitlines()
    assert f"dst 10.100.1.1 port {port} weight 0" in routes[0]
    assert f"dst 10.100.1.0/24 port {port} weight 0" in routes[1]
    gw = _new(cli(f"router {router} add route src 0.0.0.0/0 dst 0.0.0.0/0 type normal "
                  f"port {port} gw 10.100.1.254"))
    assert any(line.startswith(f"route {gw} type normal src 0.0.0.0/0 dst 0.0.0.0/0")
               and "gw 10.100.1.254" in line for line in cli(f"router {router} route list")
               .splitlines())
    # a second link to an already-linked port is refused with the API's message
    other = _new(cli(f"router {router} add port address 10.100.2.1 net 10.100.2.0/24"))
    out = cli_fails(f"router {router} port {other} set peer {bport}")
    assert "already linked" in out
    cli(f"router {router} port {port} clear peer")
    assert "peer" not in cli(f"bridge {bridge} port list")
    cli(f"delete router {router}")
    assert cli("router list") == ""


def test_chains_and_rules(cli: Callable[[str], str], cli_fails: Callable[[str], str]) -> None:
    chain = _new(cli("chain create name drop_not_src_mynetwork_INBOUND"))
    first = _new(cli(f"chain {chain} add rule ethertype 2048 src !10.0.0.0/16 type drop"))
    second = _new(cli(f"chain {chain} add rule ethertype 2048 dst 10.0.5.0/24 pos 2 "
                      "type accept"))
    web = _new(cli(f"chain {chain} add rule proto 6 dst-port 80 pos 1 type accept"))
    lines = cli(f"chain {chain} list rule").splitlines()
    assert [line.split()[1] for line in lines] == [web, first, second]
    assert "ethertype 2048 src !10.0.0.0/16" in lines[1] and lines[1].endswith("pos 2 type drop")
    assert "dst-port 80 fragment-policy header" in lines[0]
    out = cli_fails(f"chain {chain} add rule proto 6 dst-port 80 fragment-policy any type "
                    "accept")
    assert "FRAG_POLICY_INVALID_FOR_L4_RULE" in out
    router = _new(cli("router create name r"))
    cli(f"router {router} set infilter {chain}")
    assert f"infilter {chain}" in cli("router list")
    cli(f"router {router} clear infilter")
    assert "infilter" not in cli("router list")


def test_hosts_tunnel_zones_bindings_and_groups(cli: Callable[[str], str], redis_url: str
                                                ) -> None:
    topo = Topology(Store.from_url(redis_url))
    topo.register_host(HOST_ID, "controller", interfaces=[
        {"name": "eth1", "mac": "12:6e:b7:d0:4f:f1", "mtu": 1500, "type": "Virtual",
         "endpoint": "DATAPATH", "addresses": [], "status": 0}])
    topo.heartbeat(HOST_ID, ttl_ms=60_000)
    assert cli("host list").startswith(f"host {HOST_ID} name controller alive true")
    assert cli(f"host {HOST_ID} list interface") == (
        f"iface eth1 host_id {HOST_ID} status 0 addresses [] mac 12:6e:b7:d0:4f:f1 mtu 1500 "
        "type Virtual endpoint DATAPATH")
    zone = _new(cli("create tunnel-zone name new-tz type vxlan"))
    assert cli("list tunnel-zone") == f"tzone {zone} name new-tz type vxlan"
    member = cli(f"tunnel-zone {zone} add member host {HOST_ID} address 10.1.2.200")
    assert member == f"zone {zone} host {HOST_ID} address 10.1.2.200"
    bridge = _new(cli("bridge create name b"))
    port = _new(cli(f"bridge {bridge} add port"))
    binding = cli(f"host {HOST_ID} add binding port {port} interface eth1")
    assert binding == f"host {HOST_ID} interface eth1 port {port}"
    cli(f"host {HOST_ID} delete binding interface eth1")
    assert cli(f"host {HOST_ID} list binding") == ""

    group = _new(cli("port-group create name SPG stateful true"))
    assert cli(f"port-group {group} add member port {port}") == (
        f"port-group {group} port {port}")
    ipg = _new(cli("ip-address-group create name vtep-hosts"))
    assert cli(f"ip-address-group {ipg} add ip address 172.16.0.3") == "address 172.16.0.3"
    cli(f"tunnel-zone {zone} delete member host {HOST_ID}")
    assert cli(f"tunnel-zone {zone} list member") == ""


def test_system_state_readonly(cli: Callable[[str], str], cli_fails: Callable[[str], str]
                               ) -> None:
    cli("set system-state availability READONLY")
    assert cli("show system-state availability") == "READONLY"
    cli_fails("bridge create name refused")
    cli("set system-state availability READWRITE")
    _new(cli("bridge create name accepted"))
