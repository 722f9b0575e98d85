"""midonet-cli's DHCP commands: subnets of a bridge and their hosts, as an operator types them.

The installed console script against a real API process on a real redis-server.
"""

from __future__ import annotations

import pytest
from cli_guide_helpers import Cli, Seed

pytestmark = pytest.mark.integration


def test_subnets_and_hosts(cli: Cli, seed: Seed) -> None:
    seed.bridge("bridge0")
    assert cli.ok("bridge bridge0 add dhcp subnet 10.0.0.0/24 routers 10.0.0.1 "
                  "dns_server 8.8.8.8") == ["bridge0:subnet0"]
    assert cli.ok("bridge bridge0 add dhcp subnet 10.1.0.0/16 gw 10.1.0.1 "
                  "dns-servers 8.8.8.8,8.8.4.4 interface-mtu 1400") == ["bridge0:subnet1"]
    assert cli.ok("bridge bridge0 list dhcp") == [
        "dhcp subnet0 gw 10.0.0.1 server 10.0.0.1 dns-servers 8.8.8.8 subnet 10.0.0.0/24",
        "dhcp subnet1 gw 10.1.0.1 server 10.1.0.1 dns-servers 8.8.8.8,8.8.4.4 "
        "subnet 10.1.0.0/16 interface-mtu 1400",
    ]
    assert cli.ok("bridge bridge0 dhcp subnet0 add host name vm1 mac 02:00:00:00:00:01 "
                  "address 10.0.0.11") == ["bridge0:subnet0:dhcp-host0"]
    assert cli.ok("bridge bridge0 dhcp subnet0 add host mac 02:00:00:00:00:02 "
                  "address 10.0.0.12") == ["bridge0:subnet0:dhcp-host1"]
    assert cli.ok("bridge bridge0 dhcp subnet0 list host") == [
        "dhcp-host dhcp-host0 name vm1 address 10.0.0.11 mac 02:00:00:00:00:01",
        "dhcp-host dhcp-host1 address 10.0.0.12 mac 02:00:00:00:00:02",
    ]
    # the man page's form: a subnet named by its attribute
    assert cli.ok("bridge bridge0 dhcp subnet 10.0.0.0/24 list host mac 02:00:00:00:00:02") \
        == ["dhcp-host dhcp-host1 address 10.0.0.12 mac 02:00:00:00:00:02"]
    assert cli.ok("bridge bridge0 dhcp subnet0 host dhcp-host1 set name vm2 "
                  "address 10.0.0.22") == []
    assert cli.ok("bridge bridge0 dhcp subnet0 host dhcp-host1 show") == [
        "dhcp-host dhcp-host1 name vm2 address 10.0.0.22 mac 02:00:00:00:00:02"]

    assert cli.ok("bridge bridge0 dhcp subnet0 set interface-mtu 9000 "
                  "opt121-routes 169.254.169.254/32:10.0.0.2,10.9.0.0/16:10.0.0.254 "
                  "enabled false") == []
    assert cli.ok("bridge bridge0 dhcp subnet0 show") == [
        "dhcp subnet0 gw 10.0.0.1 server 10.0.0.1 dns-servers 8.8.8.8 subnet 10.0.0.0/24 "
        "interface-mtu 9000 opt121-routes 169.254.169.254/32:10.0.0.2,10.9.0.0/16:10.0.0.254 "
        "enabled false"]
    assert cli.ok("bridge bridge0 dhcp subnet0 clear opt121-routes interface-mtu") == []
    assert cli.ok("bridge bridge0 dhcp subnet0 show opt121-routes interface-mtu") == []

    assert cli.ok("bridge bridge0 dhcp subnet0 delete host dhcp-host0") == []
    assert cli.ok("bridge bridge0 dhcp subnet0 list host") == [
        "dhcp-host dhcp-host0 name vm2 address 10.0.0.22 mac 02:00:00:00:00:02"]
    assert cli.ok("bridge bridge0 delete dhcp subnet1") == []
    assert cli.ok("bridge bridge0 list dhcp") == [
        "dhcp subnet0 gw 10.0.0.1 server 10.0.0.1 dns-servers 8.8.8.8 subnet 10.0.0.0/24 "
        "enabled false"]


def test_refused_input_names_the_attribute(cli: Cli, seed: Seed) -> None:
    seed.bridge("bridge0")
    assert cli.ok("bridge bridge0 add dhcp subnet 10.0.0.0/24") == ["bridge0:subnet0"]
    err = cli.fails("bridge bridge0 dhcp subnet0 add host mac 02:00:00:00:00:01 "
                    "address 10.0.1.5")
    assert "10.0.1.5 is not in the subnet 10.0.0.0/24 (attribute address)" in err
    err = cli.fails("bridge bridge0 add dhcp subnet 10.0.0.128/25")
    assert "overlaps" in err and "(attribute subnet)" in err
    assert "interface-mtu: 20 is not between 68 and 65535" in cli.fails(
        "bridge bridge0 dhcp subnet0 set interface-mtu 20")
    assert "is not DEST/LEN:GATEWAY" in cli.fails(
        "bridge bridge0 dhcp subnet0 set opt121-routes 10.9.0.0/16")
    assert "mac: '02:00' is not a MAC address" in cli.fails(
        "bridge bridge0 dhcp subnet0 add host mac 02:00 address 10.0.0.5")
    assert cli.ok("bridge bridge0 dhcp subnet0 list host") == []
