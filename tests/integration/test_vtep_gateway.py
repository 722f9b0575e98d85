"""The VXLAN gateway to a hardware VTEP, on a sandbox of its own (``vtp``, underlay 10.78.0.0/24)
with Open vSwitch's VTEP emulator as the switch (:mod:`vteplab`) and agents running the vtep app.

- the guide's chapter 15 midonet-cli session: a vtep tunnel zone, the VTEP added to it and
  listed connected with the name and description the switch reports, its port swp1 VLAN 10
  bound to the VMs' bridge;
- the switch's remote MAC table (``vtep-ctl list-remote-macs``) shows each VM's MAC at its
  host's tunnel IP and unknown destinations at the flooding proxy, one of the zone's hosts;
  the server's MAC the switch learns on swp1 enters the bridge's MAC table;
- a VM's port bound on another host: its remote MAC moves to that host;
- the flooding proxy: a host of weight 0 is never it, and when its agent dies another host
  is elected;
- the switch's database restarted: the app reconnects, the VTEP is connected again and what
  was lost is written again;
- the binding deleted: the logical switch, its MACs and the bridge's VXLAN port go.

Hosts h1 and h2 (VXLAN); VMs a (h1, 10.50.0.11) and b (h2, 10.50.0.12) on one bridge; the
VTEP at 10.78.0.30 (management port 6632) with the server 10.50.0.100 on VLAN 10 of swp1.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chainlab import Lab
from rest_call import call
from vteplab import HardwareVtep

from ryu_midonet.sandbox import Sandbox
from ryu_midonet.sandbox.config import DEFAULT_AGENT
from ryu_midonet.sandbox.shell import run
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

VTEP_IP = "10.78.0.30"
MAC_A, MAC_B, MAC_SERVER = "02:00:00:00:78:0a", "02:00:00:00:78:0b", "02:00:00:00:78:99"
SANDBOX: dict[str, Any] = {
    "name": "vtp",
    "tunnel": "vxlan",
    "underlay": {"cidr": "10.78.0.0/24"},
    "hosts": [{"name": "h1", "underlay_ip": "10.78.0.1"},
              {"name": "h2", "underlay_ip": "10.78.0.2"}],
    "vms": [
        {"name": "a", "host": "h1", "interface": "rm-vtpa-tap", "ip": "10.50.0.11/24",
         "mac": MAC_A},
        {"name": "b", "host": "h2", "interface": "rm-vtpb-tap", "ip": "10.50.0.12/24",
         "mac": MAC_B},
        # where VM a "migrates": its port is bound here instead
        {"name": "c", "host": "h2", "interface": "rm-vtpc-tap", "ip": "10.50.0.13/24",
         "mac": "02:00:00:00:78:0c"},
    ],
    "api": True,
    "agent": {"command": DEFAULT_AGENT + " ryu_midonet.apps.vtep"},
}


class Gateway:
    """The lab, the emulated VTEP and the VTEP's objects in the topology."""

    def __init__(self, lab: Lab, vtep: HardwareVtep) -> None:
        self.lab = lab
        self.hw = vtep
        self.api = str(lab.sb.api_url)
        self.bridge = lab.bridge("public")
        self.port_a = lab.plug(self.bridge, "a")
        lab.plug(self.bridge, "b")
        self.hosts = {name: lab.sb.host(name) for name in ("h1", "h2")}

    def vtep(self) -> dict[str, Any]:
        [vtep] = self.lab.topo.list("vtep")
        return vtep

    def state(self) -> str:
        return str(self.vtep()["connectionState"])

    def vxlan_ports(self) -> list[str]:
        status, bridge = call("GET", f"{self.api}/bridges/{self.bridge['id']}")
        assert status == 200, bridge
        return list(bridge["vxLanPortIds"])


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    run_dir = tmp_path_factory.mktemp("vtp")
    with Sandbox.from_yaml(SANDBOX, run_dir / "sb") as sb:
        hw = HardwareVtep(sb, run_dir / "hw", f"{VTEP_IP}/24", "10.50.0.100/24", MAC_SERVER)
        try:
            hw.up()
            yield Gateway(Lab(sb, run_dir), hw)
        finally:
            hw.down()


def test_the_guides_vtep_session_programs_the_switch(gw: Gateway) -> None:
    cli, lab = gw.lab.cli, gw.lab
    assert cli.ok("tunnel-zone create name vtep_zone type vtep") == ["tzone1"]
    [zone] = [z for z in lab.topo.list("tunnelZone") if z["type"] == "vtep"]
    for host in gw.hosts.values():  # each host at its VXLAN endpoint address
        lab.topo.add_tunnel_zone_member(zone["id"], host.host_id, host.underlay_ip)
    assert cli.ok(f"vtep add management-ip {VTEP_IP} management-port 6632 "
                  "tunnel-zone tzone1") == ["vtep0"]
    assert wait_until(lambda: gw.state() == "CONNECTED", timeout=30), gw.vtep()
    assert cli.ok("vtep list") == [
        f"vtep vtep0 name br0 description OVS VTEP Emulator management-ip {VTEP_IP} "
        "management-port 6632 tunnel-zone tzone1 connection-state connected"]
    assert cli.ok("list bridge") == ["bridge bridge0 name public state up"]
    assert cli.ok("show bridge bridge0 id") == [gw.bridge["id"]]
    cli.ok(f"vtep vtep0 add binding network-id {gw.bridge['id']} physical-port swp1 vlan 10")
    assert cli.ok("vtep vtep0 list binding") == [
        f"physical-port swp1 vlan 10 network-id {gw.bridge['id']}"]
    assert len(gw.vxlan_ports()) == 1

    # the VMs speak: the switch gets their MACs at their hosts' tunnel IPs
    assert lab.pings("a", "10.50.0.12")
    wanted = {MAC_A: "10.78.0.1", MAC_B: "10.78.0.2"}
    assert wait_until(lambda: gw.hw.remote_macs() == wanted, timeout=20), gw.hw.remote_macs()
    assert gw.hw.flood_locators()[0] in ("10.78.0.1", "10.78.0.2")
    assert gw.hw.vtep_ctl("list-bindings", "br0", "swp1").split()[0] == "0010"

    # the server speaks: the switch learns its MAC on swp1, the bridge's MAC table gets it
    _server(gw, ["ping", "-n", "-c", "1", "-W", "1", "10.50.0.11"])
    entries = f"{gw.api}/bridges/{gw.bridge['id']}/mac_table"
    assert wait_until(lambda: any(e["macAddr"] == MAC_SERVER and e["portId"] in
                                  gw.vxlan_ports() for e in call("GET", entries)[1]),
                      timeout=20), call("GET", entries)[1]


def _server(gw: Gateway, argv: list[str]) -> str:
    """Run ``argv`` on the bare-metal server; its output."""
    done = run(argv, netns=gw.hw.server_ns, check=False)
    return str(done.stdout) + str(done.stderr)


def test_the_flooding_proxy_follows_weights_and_live_hosts(gw: Gateway) -> None:
    ips = {name: host.underlay_ip for name, host in gw.hosts.items()}
    [proxy] = gw.hw.flood_locators()
    name = next(n for n, ip in ips.items() if ip == proxy)
    other = next(n for n in ips if n != name)
    # weight 0 excludes a host
    gw.lab.topo.update("host", gw.hosts[name].host_id, {"floodingProxyWeight": 0})
    assert wait_until(lambda: gw.hw.flood_locators() == [ips[other]], timeout=20)
    gw.lab.topo.update("host", gw.hosts[name].host_id, {"floodingProxyWeight": 1})
    assert wait_until(lambda: gw.hw.flood_locators() == [proxy], timeout=20)
    # the proxy's agent dies (and with it, maybe, the VTEP's owner): another is elected
    gw.lab.sb.stop_agent(name, kill=True)
    try:
        assert wait_until(lambda: gw.hw.flood_locators() == [ips[other]], timeout=30), \
            gw.hw.flood_locators()
        assert gw.state() == "CONNECTED"
    finally:
        gw.lab.sb.start_agent(name)
    assert wait_until(lambda: gw.hw.flood_locators() == [proxy], timeout=30)


def test_a_vm_that_moves_moves_its_remote_mac(gw: Gateway) -> None:
    lab = gw.lab
    lab.topo.unbind(gw.hosts["h1"].host_id, gw.port_a["id"])
    lab.bind(gw.port_a, "c")
    try:
        assert wait_until(lambda: gw.hw.remote_macs().get(MAC_A) == "10.78.0.2", timeout=20), \
            gw.hw.remote_macs()
    finally:
        lab.topo.unbind(gw.hosts["h2"].host_id, gw.port_a["id"])
        lab.bind(gw.port_a, "a")
    assert wait_until(lambda: gw.hw.remote_macs().get(MAC_A) == "10.78.0.1", timeout=20)


def test_the_switchs_database_restarted_is_written_again(gw: Gateway) -> None:
    gw.hw.restart_database()
    for ls in gw.hw.vtep_ctl("list-ls").split():
        gw.hw.vtep_ctl("clear-remote-macs", ls)
    assert wait_until(lambda: gw.state() == "CONNECTED", timeout=30), gw.vtep()
    wanted = {MAC_A: "10.78.0.1", MAC_B: "10.78.0.2"}
    assert wait_until(lambda: gw.hw.remote_macs() == wanted, timeout=30), gw.hw.remote_macs()


def test_deleting_the_binding_takes_the_logical_switch_and_the_vxlan_port(gw: Gateway
                                                                         ) -> None:
    assert gw.lab.cli.ok("vtep vtep0 binding physical-port swp1 vlan 10 delete") == []
    assert wait_until(lambda: gw.hw.vtep_ctl("list-ls").split() == [], timeout=20)
    assert gw.vxlan_ports() == []
    assert gw.lab.cli.ok("vtep vtep0 delete") == []
    assert gw.lab.topo.list("vtep") == []
