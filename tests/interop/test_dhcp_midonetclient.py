"""python-midonetclient 5.2.0 drives DHCP subnets and hosts of bridges against our API.

The client library as OpenStack's MidoNet plugin used it (``add_bridge_dhcp``,
``update_bridge_dhcp``) and through its resource objects: create, list, get, update, delete.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webob.exc

pytestmark = pytest.mark.interop


def test_dhcp_subnets_through_the_plugin_calls(api: Any) -> None:
    bridge = api.add_bridge().name("tenant-net").create()
    subnet = api.add_bridge_dhcp(
        bridge, "10.0.0.1", "10.0.0.0/24",
        host_rts=[{"destination": "169.254.169.254/32", "nexthop": "10.0.0.2"}],
        dns_nservers=["8.8.8.8"])
    assert (subnet.get_subnet_prefix(), subnet.get_subnet_length()) == ("10.0.0.0", 24)
    assert subnet.get_default_gateway() == "10.0.0.1" and subnet.is_enabled()
    assert subnet.get_dns_server_addrs() == ["8.8.8.8"]
    assert subnet.get_opt121_routes() == [{"destinationPrefix": "169.254.169.254",
                                           "destinationLength": 32,
                                           "gatewayAddr": "10.0.0.2"}]
    api.update_bridge_dhcp(bridge, "10.0.0.0/24", "10.0.0.254", dns_nservers=["1.1.1.1"],
                           enabled=False)
    got = bridge.get_dhcp_subnet("10.0.0.0_24")
    assert (got.get_default_gateway(), got.get_dns_server_addrs(), got.is_enabled()) == \
        ("10.0.0.254", ["1.1.1.1"], False)
    assert bridge.get_dhcp_subnet("10.9.0.0_24") is None


def test_dhcp_subnets_and_hosts_as_resources(api: Any) -> None:
    bridge = api.add_bridge().name("net").create()
    subnet = (bridge.add_dhcp_subnet().subnet_prefix("10.1.0.0").subnet_length(24)
              .default_gateway("10.1.0.1").interface_mtu(1400).create())
    other = bridge.add_dhcp_subnet().subnet_prefix("10.2.0.0").subnet_length(16).create()
    assert [(s.get_subnet_prefix(), s.get_subnet_length()) for s in bridge.get_dhcp_subnets()] \
        == [("10.1.0.0", 24), ("10.2.0.0", 16)]
    assert subnet.get_interface_mtu() == 1400 and subnet.get_server_addr() == "10.1.0.1"

    vm1 = subnet.add_dhcp_host().name("vm1").ip_addr("10.1.0.11") \
        .mac_addr("02:00:00:00:00:11").create()
    subnet.add_dhcp_host().name("vm2").ip_addr("10.1.0.12").mac_addr("02:00:00:00:00:12") \
        .create()
    assert [(h.get_name(), h.get_ip_addr(), h.get_mac_addr()) for h in subnet.get_dhcp_hosts()] \
        == [("vm1", "10.1.0.11", "02:00:00:00:00:11"), ("vm2", "10.1.0.12", "02:00:00:00:00:12")]
    assert subnet.get_dhcp_host("10.1.0.12", "02:00:00:00:00:12").get_name() == "vm2"

    vm1.name("web").ip_addr("10.1.0.21").update()
    assert (vm1.get_name(), vm1.get_ip_addr()) == ("web", "10.1.0.21")
    with pytest.raises(webob.exc.HTTPBadRequest):
        vm1.ip_addr("10.9.0.1").update()  # outside the subnet
    with pytest.raises(webob.exc.HTTPBadRequest):
        subnet.add_dhcp_host().ip_addr("10.1.0.13").mac_addr("02:00:00:00:00:12").create()
    vm1.delete()
    assert [h.get_name() for h in subnet.get_dhcp_hosts()] == ["vm2"]

    subnet.interface_mtu(9000).dns_server_addrs(["10.1.0.2"]).update()
    assert subnet.get_interface_mtu() == 9000 and subnet.get_dns_server_addrs() == ["10.1.0.2"]
    with pytest.raises(webob.exc.HTTPBadRequest):
        bridge.add_dhcp_subnet().subnet_prefix("10.2.3.0").subnet_length(24).create()
    other.delete()
    subnet.delete()
    assert bridge.get_dhcp_subnets() == []


def test_the_client_midonet_cli_manages_dhcp(midonet_cli_script: Callable[..., Any],
                                             api_url: str) -> None:
    """The script shipped with the client names a subnet and a host by their attributes."""

    def cli(command: str) -> str:
        done = midonet_cli_script(api_url, command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        return str(done.stdout.strip())

    bridge = cli("bridge create name net")
    subnet = cli(f"bridge {bridge} add dhcp subnet 10.0.0.0/24 gw 10.0.0.1")
    assert subnet == "gw 10.0.0.1 server 10.0.0.1 subnet 10.0.0.0/24 opt121-routes []"
    assert cli(f"bridge {bridge} list dhcp") == subnet
    host = cli(f"bridge {bridge} dhcp subnet 10.0.0.0/24 add host name vm1 address 10.0.0.2 "
               "mac 02:00:00:00:00:02")
    assert host == "name vm1 address 10.0.0.2 mac 02:00:00:00:00:02"
    assert cli(f"bridge {bridge} dhcp subnet 10.0.0.0/24 list host") == host
    cli(f"bridge {bridge} dhcp subnet 10.0.0.0/24 host name vm1 delete")
    assert cli(f"bridge {bridge} dhcp subnet 10.0.0.0/24 list host") == ""
    cli(f"bridge {bridge} dhcp subnet 10.0.0.0/24 delete")
    assert cli(f"bridge {bridge} list dhcp") == ""
