"""midonet-cli's VTEP commands as the guide's chapter 15 prints them: a vtep tunnel zone, a
VTEP added to it and listed with what the switch reports, a binding of its port and VLAN to a
bridge (whose VXLAN port then shows the VTEP), bindings listed and deleted, the VTEP deleted,
and the flooding proxy weight of a host. The installed console script against a real API
process on a real redis-server; the switch's report is written as the VTEP app does."""

from __future__ import annotations

import pytest
from cli_guide_helpers import Cli, Seed, host_id

pytestmark = pytest.mark.integration


def test_the_guides_vtep_session(cli: Cli, seed: Seed) -> None:
    assert cli.ok("tunnel-zone create name vtep_zone type vtep") == ["tzone0"]
    assert cli.ok("vtep add management-ip 192.168.2.10 management-port 6632 "
                  "tunnel-zone tzone0") == ["vtep0"]
    vtep = seed.call("GET", "vteps")[0]
    assert cli.ok("vtep list") == [
        "vtep vtep0 management-ip 192.168.2.10 management-port 6632 tunnel-zone tzone0 "
        "connection-state disconnected"]
    seed.topo.set_vtep_switch_state(vtep["id"], name="VTEP-NAME",
                                    description="OVS VTEP Emulator",
                                    connectionState="CONNECTED",
                                    physicalPorts=[{"name": "swp1", "description": ""}])
    assert cli.ok("vtep list") == [
        "vtep vtep0 name VTEP-NAME description OVS VTEP Emulator management-ip 192.168.2.10 "
        "management-port 6632 tunnel-zone tzone0 connection-state connected"]
    assert cli.ok("vtep vtep0 show id") == [vtep["id"]]
    assert cli.ok("vtep vtep0 show management-ip") == ["192.168.2.10"]
    assert cli.ok("vtep vtep0 show connection-state") == ["connected"]

    bridge = seed.bridge("public")
    assert cli.ok("list bridge") == ["bridge bridge0 name public state up"]
    assert cli.ok("show bridge bridge0 id") == [bridge["id"]]
    assert cli.ok(f"vtep vtep0 add binding network-id {bridge['id']} physical-port swp1 "
                  "vlan 10") == [f"physical-port swp1 vlan 10 network-id {bridge['id']}"]
    assert cli.ok("vtep vtep0 list binding") == [
        f"physical-port swp1 vlan 10 network-id {bridge['id']}"]
    [port] = cli.ok("bridge bridge0 list port")
    assert port.startswith("port port0 device bridge0 state up vtep vtep0 vni ")
    assert "binding" in cli.fails("vtep vtep0 delete")
    assert cli.ok("vtep vtep0 binding physical-port swp1 vlan 10 delete") == []
    assert cli.ok("vtep vtep0 list binding") == []
    assert cli.ok("bridge bridge0 list port") == []
    assert cli.ok("vtep vtep0 delete") == []
    assert cli.ok("vtep list") == []


def test_a_vtep_needs_a_tunnel_zone(cli: Cli) -> None:
    assert "tunnelZoneId" in cli.fails("vtep add management-ip 192.168.2.10 "
                                       "management-port 6633")


def test_flooding_proxy_weight(cli: Cli, seed: Seed) -> None:
    seed.host(host_id(1), "compute1")
    assert cli.ok("host host0 set flooding-proxy-weight 5") == []
    assert cli.ok("host host0 show flooding-proxy-weight") == ["5"]
    assert cli.ok("list host") == ["host host0 name compute1 alive true "
                                   "flooding-proxy-weight 5"]
