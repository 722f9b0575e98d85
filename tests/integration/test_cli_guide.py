"""The midonet-cli examples of the Operations Guide (chapters 3-7), run as written.

Every example runs through the installed ``midonet-cli`` console script against the REST API
as a real process on a real redis-server: one-shot with ``-A --midonet-url URL -e "..."``, or
interactively with the commands piped to the ``midonet> `` prompt when the example relies on
aliases that an earlier command of the same session handed out. Each test first builds, through
the API, the objects the example assumes (five chains before a new chain can be ``chain5``).

Where the guide is garbled or contradicts itself, the tests assert the consistent behaviour and
say why in a comment. The discrepancies found:

1. Alias numbers that a fresh session cannot produce: ``list host`` prints host0, host2, host3,
   host1; ``list router`` prints router3 before router1; ``list chain`` prints chain5, chain0,
   chain1, chain6, ...; a listing prints in alias order, and the pairs alias/name agree.
2. Rule aliases in a new chain: ``chain5 add rule`` -> ``chain5:rule0`` then ``chain5:rule2``,
   listed as rule3 and rule2; ``chain10`` (just created) gets ``chain10:rule2`` and
   ``chain10:rule3``. The rules of a new chain are rule0, rule1, ...
3. ``router0 route add ... port router0:port0`` prints ``router0:route0``, yet adding a port
   creates two routes (the guide's own route listing shows them), so a router with ports
   numbers a new route after its ports' routes.
4. ``host host0 add binding port router router0 port port0 interface veth1`` prints
   ``... port router0:port`` (cut short): the port is router0:port0.
5. ``host host0 add binding`` with no attributes "prints" ``host interface port``: that is the
   prompt's completion of the attribute names; the command itself lacks two required
   attributes and says so.
6. ``set infiltrer chain8`` / ``clear infiltrer``: the keyword is ``infilter``.
7. ``type dn timer`` and ``rev_sn timer`` in the floating-IP rule listing: ``dnat`` and
   ``rev_snat``.
8. ``chain chain0 add rule fragment-policy header pos 2 header type drop`` has a stray
   ``header``.
9. ``port-group pgroup0 list member`` lists port1 before port0; members list in the order they
   were added.
10. ``midonet-cli> sett ...`` / ``midonet-cli> port-group create ...``: the prompt is
    ``midonet> `` everywhere else.
11. ``list host`` shows host0 ``precise64 alive true`` and the next step deletes it, while the
    text says only inactive hosts may be deleted: deleting an alive host is refused.
12. Interface addresses print ``[u'127.0.0.1', ...]`` (a Python 2 repr); they print
    ``['127.0.0.1', ...]``.
13. The SNAT lab greps ``router $ROUTER port list`` for ``address 192.168.11.1`` and
    ``net 192.168.11.0/24`` (an older port format), while the guide's port listings print
    ``addresses 192.168.11.1/24``; the lab also takes ``$2`` of nested port listings, which
    in -e mode the old CLI printed as a UUID, as a reference usable anywhere: with aliases the
    reference is the path ``$BRIDGE:port0`` (``port $RPORT set peer $ROUTER_PORT`` then works).
14. ``delete tunnel-zone tzone0`` then ``list tunnel-zone`` shows ``tzone1``: true within one
    session; a new ``-e`` process numbers the remaining zone tzone0 (likewise routes after
    ``delete route route2``).
15. The fake uplink's ``router router0 add route ... gw 172.19.0.1`` shows no output; a create
    prints the new alias (``router0:route2``).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_guide_helpers import SNAT_CHAIN, SNAT_LAB, Cli, Seed, host_id, iface

from tests.support import credentials

pytestmark = pytest.mark.integration

TENANT_ADMIN = "7a4937fa604a425e867f085427cc351e"
TENANT_RULES = "10a83af63f9342118433c3a43a329528"


# -- 1.7 system state -------------------------------------------------------------------------

def test_system_state_readonly_and_back(cli: Cli) -> None:
    assert cli.ok("set system-state availability READONLY") == []
    assert cli.ok("show system-state availability") == ["READONLY"]
    err = cli.fails("create bridge name during-backup")
    assert "503" in err and "READONLY" in err
    assert cli.ok("set system-state availability READWRITE") == []
    assert cli.ok("create bridge name after-backup") == ["bridge0"]
    assert cli.ok("show system-state") == ["system_state state ACTIVE availability READWRITE"]


# -- 2.1 hosts --------------------------------------------------------------------------------

def test_list_hosts_and_interfaces(cli: Cli, seed: Seed) -> None:
    seed.host(host_id(0), "controller", interfaces=[
        iface("midonet", "12:6e:b7:d0:4f:f1", 1500, "Virtual", "DATAPATH", 0, [])])
    seed.host(host_id(1), "compute2", alive=False)
    seed.host(host_id(2), "compute1")
    seed.host(host_id(3), "compute3", alive=False)
    # Guide order is host0, host2, host3, host1 (aliases of an earlier session); the
    # alias/name pairs are the guide's.
    assert cli.ok("list host") == [
        "host host0 name controller alive true",
        "host host1 name compute2 alive false",
        "host host2 name compute1 alive true",
        "host host3 name compute3 alive false",
    ]
    assert cli.ok("host host0 list interface") == [
        "iface midonet host_id host0 status 0 addresses [] mac 12:6e:b7:d0:4f:f1 mtu 1500 "
        "type Virtual endpoint DATAPATH"]
    assert cli.ok("host host2 show") == ["host host2 name compute1 alive true"]
    assert cli.ok("host list name compute3") == ["host host3 name compute3 alive false"]


def test_host_interfaces_of_chapter_4(cli: Cli, seed: Seed) -> None:
    seed.host(host_id(0), "controller", interfaces=[
        iface("lo", "00:00:00:00:00:00", 65536, "Virtual", "LOCALHOST", 3,
              ["127.0.0.1", "0:0:0:0:0:0:1"]),
        iface("midonet", "8e:4d:60:c1:70:d7", 1500, "Virtual", "DATAPATH", 0, []),
        iface("eth1", "00:50:56:93:7c:35", 1500, "Physical", "PHYSICAL", 3,
              ["fe80:0:0:0:250:56ff:fe93:7c35"]),
        iface("eth0", "00:50:56:93:c9:a4", 1500, "Physical", "PHYSICAL", 3,
              ["10.1.2.200", "fe80:0:0:0:250:56ff:fe93:c9a4"]),
    ])
    # The guide prints [u'127.0.0.1', ...], a Python 2 repr.
    assert cli.ok("host host0 list interface") == [
        "iface lo host_id host0 status 3 addresses ['127.0.0.1', '0:0:0:0:0:0:1'] "
        "mac 00:00:00:00:00:00 mtu 65536 type Virtual endpoint LOCALHOST",
        "iface midonet host_id host0 status 0 addresses [] mac 8e:4d:60:c1:70:d7 mtu 1500 "
        "type Virtual endpoint DATAPATH",
        "iface eth1 host_id host0 status 3 addresses ['fe80:0:0:0:250:56ff:fe93:7c35'] "
        "mac 00:50:56:93:7c:35 mtu 1500 type Physical endpoint PHYSICAL",
        "iface eth0 host_id host0 status 3 addresses ['10.1.2.200', "
        "'fe80:0:0:0:250:56ff:fe93:c9a4'] mac 00:50:56:93:c9:a4 mtu 1500 type Physical "
        "endpoint PHYSICAL",
    ]


def test_remove_a_host(cli: Cli, seed: Seed) -> None:
    seed.host(host_id(0), "precise64")
    assert cli.ok("list host") == ["host host0 name precise64 alive true"]
    # The guide deletes host0 while it shows "alive true"; only inactive hosts may go.
    err = cli.fails("host host0 delete")
    assert "409" in err and "alive" in err
    seed.topo.host_down(host_id(0))
    assert cli.ok("host host0 delete") == []
    assert cli.ok("list host") == []


# -- 2.2 tunnel zones -------------------------------------------------------------------------

def test_create_list_and_delete_tunnel_zones(cli: Cli) -> None:
    outputs, err, rc = cli.session([
        "create tunnel-zone name new-tz type vxlan",
        "tunnel-zone create name vxlan type vxlan",
        "list tunnel-zone",
        "delete tunnel-zone tzone0",
        "list tunnel-zone",
    ])
    assert (err, rc) == ("", 0)
    assert outputs == [
        ["tzone0"],
        ["tzone1"],
        ["tzone tzone0 name new-tz type vxlan", "tzone tzone1 name vxlan type vxlan"],
        [],
        ["tzone tzone1 name vxlan type vxlan"],
    ]
    # A new process numbers the remaining zone from 0.
    assert cli.ok("list tunnel-zone") == ["tzone tzone0 name vxlan type vxlan"]


def test_view_tunnel_zone_members(cli: Cli, seed: Seed) -> None:
    zone = seed.tunnel_zone("tz", "vxlan")
    for n, addr in enumerate(("192.168.0.3", "192.168.0.5", "192.168.0.4", "192.168.0.6")):
        seed.member(zone, seed.host(host_id(n), f"h{n}"), addr)
    assert cli.ok("tunnel-zone tzone0 list member") == [
        "zone tzone0 host host0 address 192.168.0.3",
        "zone tzone0 host host1 address 192.168.0.5",
        "zone tzone0 host host2 address 192.168.0.4",
        "zone tzone0 host host3 address 192.168.0.6",
    ]


def test_add_a_member_to_a_tunnel_zone(cli: Cli, seed: Seed) -> None:
    seed.host(host_id(0), "controller")
    assert cli.ok("create tunnel-zone name new-tz type vxlan") == ["tzone0"]
    assert cli.ok("tunnel-zone tzone0 add member host host0 address 10.1.2.200") == [
        "zone tzone0 host host0 address 10.1.2.200"]


def test_remove_and_re_add_a_tunnel_zone_member(cli: Cli, seed: Seed) -> None:
    zone = seed.tunnel_zone("default_tz", "gre")
    seed.member(zone, seed.host(host_id(0), "controller"), "172.19.0.2")
    assert cli.ok("list tunnel-zone") == ["tzone tzone0 name default_tz type gre"]
    assert cli.ok("tunnel-zone tzone0 list member") == [
        "zone tzone0 host host0 address 172.19.0.2"]
    assert cli.ok("tunnel-zone tzone0 member host host0 show") == [
        "tunnel-zone-host zone tzone0 host host0 address 172.19.0.2"]
    assert cli.ok("tunnel-zone tzone0 member host host0 delete") == []
    assert cli.ok("tunnel-zone tzone0 list member") == []
    assert cli.ok("tunnel-zone tzone0 member add host host0 address 172.19.0.2") == [
        "zone tzone0 host host0 address 172.19.0.2"]
    assert cli.ok("tunnel-zone tzone0 list member") == [
        "zone tzone0 host host0 address 172.19.0.2"]


# -- 2.3 bindings -----------------------------------------------------------------------------

def test_bind_exterior_ports_to_host_interfaces(cli: Cli, seed: Seed) -> None:
    zone = seed.tunnel_zone("tz")
    seed.member(zone, seed.host(host_id(0), "controller"), "10.0.0.1")
    seed.member(zone, seed.host(host_id(1), "compute1"), "10.0.0.2")
    bridge = seed.bridge("External")
    for _ in range(4):
        seed.bridge_port(bridge)
    router = seed.router("Edge Router")
    seed.router_port(router, "172.19.0.2/30")
    # The guide shows "host interface port" here: the prompt completing attribute names.
    err = cli.fails("host host0 add binding")
    assert "missing required attributes for binding: interface, port" in err
    assert cli.ok("host host0 add binding port bridge0:port0 interface eth1") == [
        "host host0 interface eth1 port bridge0:port0"]
    # The guide prints "port router0:port", cut short.
    assert cli.ok("host host0 add binding port router router0 port port0 interface veth1") == [
        "host host0 interface veth1 port router0:port0"]
    assert cli.ok("host host1 binding add interface eth1 port bridge0:port3") == [
        "host host1 interface eth1 port bridge0:port3"]
    assert cli.ok("host host0 list binding") == [
        "host host0 interface eth1 port bridge0:port0",
        "host host0 interface veth1 port router0:port0"]
    assert cli.ok("host host0 delete binding port bridge0:port0") == []
    assert cli.ok("host host0 binding interface veth1 delete") == []
    assert cli.ok("host host0 list binding") == []
    assert cli.ok("host host1 list binding") == ["host host1 interface eth1 port bridge0:port3"]


# -- 3 bridges and bridge ports ---------------------------------------------------------------

def test_list_bridges_and_their_ports(cli: Cli, seed: Seed) -> None:
    external = seed.bridge("External")
    seed.bridge("Management")
    seed.bridge("Internal")
    for _ in range(3):
        seed.bridge_port(external)
    assert cli.ok("list bridge") == [
        "bridge bridge0 name External state up",
        "bridge bridge1 name Management state up",
        "bridge bridge2 name Internal state up",
    ]
    assert cli.ok("bridge bridge0 list port") == [
        "port port0 device bridge0 state up",
        "port port1 device bridge0 state up",
        "port port2 device bridge0 state up",
    ]


def test_create_change_and_delete_bridges(cli: Cli, seed: Seed) -> None:
    seed.bridge("existing")
    seed.chains(2)
    assert cli.ok("bridge create name test-bridge") == ["bridge1"]
    assert cli.ok("bridge bridge1 add port") == ["bridge1:port0"]
    assert cli.ok("create bridge name other") == ["bridge2"]
    assert cli.ok("list bridge name test-bridge") == ["bridge bridge1 name test-bridge state up"]
    assert cli.ok("bridge list name other") == ["bridge bridge2 name other state up"]
    res = cli.run("bridge list name missing")
    assert (res.out, res.err, res.rc) == ([], "", 1)  # like grep: no match, exit 1
    assert cli.ok("bridge bridge1 set name renamed state down infilter chain0") == []
    assert cli.ok("bridge bridge1 set outfilter chain1") == []
    assert cli.ok("bridge bridge1 show") == [
        "bridge bridge1 name renamed state down infilter chain0 outfilter chain1"]
    assert cli.ok("bridge bridge1 clear infilter outfilter") == []
    assert cli.ok("show bridge bridge1") == ["bridge bridge1 name renamed state down"]
    assert cli.ok("bridge bridge1 show name") == ["renamed"]
    assert cli.ok("delete bridge bridge2") == []
    assert cli.ok("list bridge") == ["bridge bridge0 name existing state up",
                                     "bridge bridge1 name renamed state down"]


def test_bridge_ports_vlan_filters_and_delete(cli: Cli, seed: Seed) -> None:
    bridge = seed.bridge("bridge0")
    seed.bridge_port(bridge)
    seed.bridge_port(bridge)
    seed.chains(9)
    assert cli.ok("bridge bridge0 add port vlan 10") == ["bridge0:port2"]
    assert cli.ok("bridge bridge0 port create") == ["bridge0:port3"]
    # 5.1 "Setting and clearing Rule Chains"; the guide spells the keyword "infiltrer".
    err = cli.fails("bridge bridge0 port port1 set infiltrer chain8")
    assert "port has no attribute 'infiltrer'" in err
    assert cli.ok("bridge bridge0 port port1 set infilter chain8") == []
    assert cli.ok("bridge bridge0 port list") == [
        "port port0 device bridge0 state up",
        "port port1 device bridge0 state up infilter chain8",
        "port port2 device bridge0 state up vlan 10",
        "port port3 device bridge0 state up",
    ]
    assert cli.fails("bridge bridge0 port port1 clear infiltrer").endswith(
        "port has no attribute 'infiltrer' (attributes: device, state, infilter, outfilter, "
        "vlan, peer, vtep, vni)")
    assert cli.ok("bridge bridge0 port port1 clear infilter") == []
    assert cli.ok("bridge bridge0 port port1 show") == ["port port1 device bridge0 state up"]
    assert cli.ok("bridge bridge0 delete port port3") == []
    assert cli.ok("bridge bridge0 port port2 delete") == []
    assert cli.ok("bridge bridge0 list port") == ["port port0 device bridge0 state up",
                                                  "port port1 device bridge0 state up"]


# -- 4.1 routers and router ports -------------------------------------------------------------

def test_connect_two_routers(cli: Cli, seed: Seed) -> None:
    seed.bridge("b0", TENANT_ADMIN)
    bridge1 = seed.bridge("b1", TENANT_ADMIN)
    bport = seed.bridge_port(bridge1)
    seed.router("other-a")
    test_router = seed.router("test-router", TENANT_ADMIN)
    seed.router("other-b")
    test_router2 = seed.router("test-router2", TENANT_ADMIN)
    port0 = seed.router_port(test_router, "10.100.1.1/24", "02:a6:81:08:ab:5d")
    seed.router_port(test_router, "10.100.1.2/24", "02:fa:5f:87:bb:d2")
    seed.router_port(test_router2, "10.100.1.128/24", "02:df:24:5b:19:9b")
    seed.link(port0, bport)
    outputs, err, rc = cli.session([
        "list router",
        f"sett {TENANT_ADMIN}",
        "list router",
        "router router1 list port",
        "router router3 list port",
        "router router1 port port1 set peer router3:port0",
        "router router1 list port",
    ])
    assert (err, rc) == ("", 0)
    assert outputs[0] == [
        "router router0 name other-a state up",
        "router router1 name test-router state up",
        "router router2 name other-b state up",
        "router router3 name test-router2 state up",
    ]
    assert outputs[1] == [f"tenant_id: {TENANT_ADMIN}"]
    # The guide lists router3 before router1; routers list in creation order.
    assert outputs[2] == ["router router1 name test-router state up",
                          "router router3 name test-router2 state up"]
    assert outputs[3] == [
        "port port0 device router1 state up mac 02:a6:81:08:ab:5d addresses 10.100.1.1/24 "
        "peer bridge1:port0",
        "port port1 device router1 state up mac 02:fa:5f:87:bb:d2 addresses 10.100.1.2/24",
    ]
    assert outputs[4] == [
        "port port0 device router3 state up mac 02:df:24:5b:19:9b addresses 10.100.1.128/24"]
    assert outputs[5] == []
    assert outputs[6] == [
        "port port0 device router1 state up mac 02:a6:81:08:ab:5d addresses 10.100.1.1/24 "
        "peer bridge1:port0",
        "port port1 device router1 state up mac 02:fa:5f:87:bb:d2 addresses 10.100.1.2/24 "
        "peer router3:port0",
    ]


def test_create_a_router_and_link_it_to_a_bridge(cli: Cli, seed: Seed) -> None:
    seed.router("existing")
    bridge0 = seed.bridge("b0")
    bridge1 = seed.bridge("b1")
    seed.bridge_port(bridge0)
    seed.bridge_port(bridge1)
    assert cli.ok("router create name test-router") == ["router1"]
    assert cli.ok("router router1 add port addresses 10.100.1.1/24") == ["router1:port0"]
    assert cli.ok("router router1 port port0 set peer bridge1:port0") == []
    assert cli.ok("bridge bridge1 list port") == [
        "port port0 device bridge1 state up peer router1:port0"]
    assert cli.ok("router router1 port port0 show peer") == ["bridge1:port0"]
    assert cli.ok("router router1 port port0 clear peer") == []
    assert cli.ok("bridge bridge1 list port") == ["port port0 device bridge1 state up"]
    assert cli.ok("router router1 set name renamed state down") == []
    assert cli.ok("router list name renamed") == ["router router1 name renamed state down"]
    assert cli.ok("delete router router1") == []
    assert cli.ok("list router") == ["router router0 name existing state up"]


# -- 4.2 routes -------------------------------------------------------------------------------

def test_add_list_and_delete_routes(cli: Cli, seed: Seed) -> None:
    seed.router("r0")
    seed.router("r1")
    router2 = seed.router("r2")
    # The listing shows only host routes for port0 and port1: /32 ports (a /24 port would
    # also get its subnet route).
    seed.router_port(router2, "10.100.1.1/32")
    seed.router_port(router2, "10.100.1.2/32")
    before = [
        "route route0 type normal src 0.0.0.0/0 dst 10.100.1.1 port router2:port0 weight 0",
        "route route1 type normal src 0.0.0.0/0 dst 10.100.1.2 port router2:port1 weight 0",
    ]
    added = [
        "route route2 type normal src 0.0.0.0/0 dst 169.254.255.3 port router2:port2 weight 0",
        "route route3 type normal src 0.0.0.0/0 dst 169.254.255.0/30 port router2:port2 "
        "weight 0",
    ]
    outputs, err, rc = cli.session([
        "router router2 add port addresses 169.254.255.3/30",
        "router router2 list route",
        "router router2 delete route route2",
        "router router2 delete route route3",
        "router router2 list route",
    ])
    assert (err, rc) == ("", 0)
    assert outputs == [["router2:port2"], before + added, [], [], before]


def test_routes_deleted_by_separate_processes_renumber(cli: Cli, seed: Seed) -> None:
    router = seed.router("r0")
    seed.router_port(router, "169.254.255.3/30")
    seed.router_port(router, "10.0.0.1/24")
    assert cli.ok("router router0 delete route route0") == []
    # A new process numbers the remaining routes from 0 again.
    assert [line.split()[1] for line in cli.ok("router router0 route list")] == [
        "route0", "route1", "route2"]
    assert "no route route3 in router router0" in cli.fails("router router0 delete route route3")


def test_route_add_forms(cli: Cli, seed: Seed) -> None:
    router = seed.router("Edge Router")
    seed.router_port(router, "198.51.100.1/30")
    seed.router_port(router, "203.0.113.1/30")
    # The guide prints router0:route0: the ports' own routes are route0 to route3.
    assert cli.ok("router router0 route add src 0.0.0.0/0 dst 198.51.100.0/30 "
                  "port router0:port0 type normal") == ["router0:route4"]
    assert cli.ok("router router0 route add src 0.0.0.0/0 dst 203.0.113.0/30 "
                  "port router0:port1 type normal") == ["router0:route5"]
    assert cli.ok("router router0 add route dst 10.9.0.0/16 type blackhole weight 5") == [
        "router0:route6"]
    assert cli.ok("router router0 list route")[4:] == [
        "route route4 type normal src 0.0.0.0/0 dst 198.51.100.0/30 port router0:port0 "
        "weight 100",
        "route route5 type normal src 0.0.0.0/0 dst 203.0.113.0/30 port router0:port1 "
        "weight 100",
        "route route6 type blackhole src 0.0.0.0/0 dst 10.9.0.0/16 weight 5",
    ]


# -- 4.5 static ("fake") uplink ---------------------------------------------------------------

def test_fake_uplink_setup(cli: Cli, seed: Seed) -> None:
    seed.router("Edge Router")
    seed.member(seed.tunnel_zone("tz"), seed.host(host_id(0), "controller"), "10.0.0.1")
    assert cli.ok("router list") == ["router router0 name Edge Router state up"]
    assert cli.ok("router router0 add port addresses 172.19.0.2/30") == ["router0:port0"]
    # The guide shows no output for the route; a create prints the new alias.
    assert cli.ok("router router0 add route src 0.0.0.0/0 dst 0.0.0.0/0 type normal "
                  "port router router0 port port0 gw 172.19.0.1") == ["router0:route2"]
    assert cli.ok("host list") == ["host host0 name controller alive true"]
    # The guide prints "port router0:port", cut short.
    assert cli.ok("host host0 add binding port router router0 port port0 interface veth1") == [
        "host host0 interface veth1 port router0:port0"]
    assert cli.ok("router router0 list route")[2] == (
        "route route2 type normal src 0.0.0.0/0 dst 0.0.0.0/0 gw 172.19.0.1 port router0:port0 "
        "weight 100")


# -- 5.1 / 6.4 router chains ------------------------------------------------------------------

def test_set_and_clear_router_filters(cli: Cli, seed: Seed) -> None:
    seed.router("tenant-router")
    seed.chains(2)
    assert cli.ok("router router0 set infilter chain0") == []
    assert cli.ok("router router0 set outfilter chain1") == []
    assert cli.ok("list router") == [
        "router router0 name tenant-router state up infilter chain0 outfilter chain1"]
    assert cli.ok("router router0 clear infilter") == []
    assert cli.ok("router router0 show") == [
        "router router0 name tenant-router state up outfilter chain1"]


# -- 5.4 fragment policy ----------------------------------------------------------------------

def test_fragment_example_1(cli: Cli, seed: Seed) -> None:
    seed.router("r0")
    seed.router("r1")
    seed.router_port(seed.router("r2"), "10.0.0.1/24")
    assert cli.ok("create chain name chain0") == ["chain0"]
    # A stray "header" word in the guide's line.
    err = cli.fails("chain chain0 add rule fragment-policy header pos 2 header type drop")
    assert "rule has no attribute 'header'" in err
    assert cli.ok("chain chain0 add rule ethertype 2048 src 0.0.0.0/0 proto 6 "
                  "in-ports router2:port0 dst-port 80 pos 1 type accept") == ["chain0:rule0"]
    assert cli.ok("chain chain0 add rule ethertype 2048 src 0.0.0.0/0 dst 0.0.0.0/0 "
                  "in-ports router2:port0 pos 2 type drop") == ["chain0:rule1"]
    assert cli.ok("chain chain0 list rule") == [
        "rule rule0 ethertype 2048 src 0.0.0.0/0 proto 6 tos 0 dst-port 80 "
        "in-ports router2:port0 pos 1 type accept",
        "rule rule1 ethertype 2048 src 0.0.0.0/0 dst 0.0.0.0/0 proto 0 tos 0 "
        "in-ports router2:port0 pos 2 type drop",
    ]
    assert cli.ok("chain chain0 add rule fragment-policy header pos 3 type drop") == [
        "chain0:rule2"]
    assert cli.ok("chain chain0 list rule")[2] == \
        "rule rule2 proto 0 tos 0 fragment-policy header pos 3 type drop"


def test_fragment_example_2(cli: Cli, seed: Seed) -> None:
    seed.chains(18)
    seed.router("r0")
    seed.router("r1")
    seed.router_port(seed.router("r2"), "10.0.0.1/24")
    assert cli.ok("create chain name example2") == ["chain18"]
    assert cli.ok("chain chain18 add rule ethertype 2048 src 0.0.0.0/0 proto 6 "
                  "in-ports router2:port0 dst-port 80 pos 1 type accept") == ["chain18:rule0"]
    assert cli.ok("chain chain18 add rule ethertype 2048 src 0.0.0.0/0 in-ports router2:port0 "
                  "fragment-policy header pos 2 type drop") == ["chain18:rule1"]
    assert cli.ok("chain chain18 add rule ethertype 2048 src 0.0.0.0/0 in-ports router2:port0 "
                  "dst 0.0.0.0/0 pos 3 type accept") == ["chain18:rule2"]
    assert cli.ok("chain chain18 list rule") == [
        "rule rule0 ethertype 2048 src 0.0.0.0/0 proto 6 tos 0 dst-port 80 "
        "in-ports router2:port0 pos 1 type accept",
        "rule rule1 ethertype 2048 src 0.0.0.0/0 proto 0 tos 0 in-ports router2:port0 "
        "fragment-policy header pos 2 type drop",
        "rule rule2 ethertype 2048 src 0.0.0.0/0 dst 0.0.0.0/0 proto 0 tos 0 "
        "in-ports router2:port0 pos 3 type accept",
    ]
    err = cli.fails("chain chain18 add rule proto 6 dst-port 80 fragment-policy any type drop")
    assert "FRAG_POLICY_INVALID_FOR_L4_RULE" in err and "(attribute fragment-policy)" in err


# -- 5.5 L2 address masking -------------------------------------------------------------------

def test_l2_masking(cli: Cli) -> None:
    assert cli.ok('create chain name "l2-mask"') == ["chain0"]
    assert cli.ok("chain chain0 create rule hw-src !12:34:56:78:90:ab "
                  "hw-src-mask ffff.ff00.0000 type drop") == ["chain0:rule0"]
    assert cli.ok("chain chain0 add rule hw-dst ff:ff:ff:ff:ff:ff type accept") == [
        "chain0:rule1"]
    assert cli.ok("chain chain0 add rule hw-dst 01:00:00:00:00:00 hw-dst-mask 0100.0000.0000 "
                  "pos 2 type drop") == ["chain0:rule2"]
    # A rule added without pos goes to the head; a new process numbers by position.
    assert cli.ok("chain chain0 list rule") == [
        "rule rule0 hw-dst ff:ff:ff:ff:ff:ff proto 0 tos 0 pos 1 type accept",
        "rule rule1 hw-dst 01:00:00:00:00:00 hw-dst-mask 0100.0000.0000 proto 0 tos 0 pos 2 "
        "type drop",
        "rule rule2 hw-src !12:34:56:78:90:ab hw-src-mask ffff.ff00.0000 proto 0 tos 0 pos 3 "
        "type drop",
    ]


# -- 5.6 rule-chain examples ------------------------------------------------------------------

def test_example_condition_1(cli: Cli, seed: Seed) -> None:
    seed.chains(5, TENANT_RULES)
    seed.chains(2)  # other tenants' chains do not count
    outputs, err, rc = cli.session([
        f"sett {TENANT_RULES}",
        'chain create name "drop_not_src_mynetwork_INBOUND"',
        "chain chain5 add rule ethertype 2048 src !10.0.0.0/16 type drop",
        "chain chain5 add rule ethertype 2048 dst 10.0.5.0/24 pos 2 type accept",
        "chain chain5 list rule",
    ])
    assert (err, rc) == ("", 0)
    assert outputs[0] == [f"tenant_id: {TENANT_RULES}"]
    assert outputs[1] == ["chain5"]
    assert outputs[2] == ["chain5:rule0"]
    # The guide prints chain5:rule2, and lists rule3 and rule2, for a chain's first two rules.
    assert outputs[3] == ["chain5:rule1"]
    assert outputs[4] == [
        "rule rule0 ethertype 2048 src !10.0.0.0/16 proto 0 tos 0 pos 1 type drop",
        "rule rule1 ethertype 2048 dst 10.0.5.0/24 proto 0 tos 0 pos 2 type accept",
    ]
    assert cli.ok("list chain name drop_not_src_mynetwork_INBOUND", "-t", TENANT_RULES) == [
        "chain chain5 name drop_not_src_mynetwork_INBOUND"]


def test_example_condition_2(cli: Cli, seed: Seed) -> None:
    seed.chains(11, TENANT_RULES)
    outputs, err, rc = cli.session([
        f"sett {TENANT_RULES}",
        'chain create name "accept_src_dst_mynetwork_INBOUND"',
        "chain chain11 add rule ethertype 2048 src 10.0.0.0/16 type accept",
        "chain chain11 add rule ethertype 2048 dst 10.0.5.0/24 type accept",
        "chain chain11 add rule ethertype 2048 pos 3 type drop",
        "chain chain11 list rule",
    ])
    assert (err, rc) == ("", 0)
    assert outputs[:5] == [[f"tenant_id: {TENANT_RULES}"], ["chain11"], ["chain11:rule0"],
                           ["chain11:rule1"], ["chain11:rule2"]]
    # A rule without pos goes to the head, so rule1 comes first.
    assert outputs[5] == [
        "rule rule1 ethertype 2048 dst 10.0.5.0/24 proto 0 tos 0 pos 1 type accept",
        "rule rule0 ethertype 2048 src 10.0.0.0/16 proto 0 tos 0 pos 2 type accept",
        "rule rule2 ethertype 2048 proto 0 tos 0 pos 3 type drop",
    ]


def test_example_condition_2_one_shot(cli: Cli, seed: Seed) -> None:
    seed.chains(11, TENANT_RULES)
    t = ("-t", TENANT_RULES)
    assert cli.ok('chain create name "accept_src_dst_mynetwork_INBOUND"', *t) == ["chain11"]
    assert cli.ok("chain chain11 add rule ethertype 2048 src 10.0.0.0/16 type accept", *t) == [
        "chain11:rule0"]
    assert cli.ok("chain chain11 add rule ethertype 2048 dst 10.0.5.0/24 type accept", *t) == [
        "chain11:rule1"]
    assert cli.ok("chain chain11 add rule ethertype 2048 pos 3 type drop", *t) == [
        "chain11:rule2"]
    assert cli.ok("chain chain11 list rule", *t) == [
        "rule rule0 ethertype 2048 dst 10.0.5.0/24 proto 0 tos 0 pos 1 type accept",
        "rule rule1 ethertype 2048 src 10.0.0.0/16 proto 0 tos 0 pos 2 type accept",
        "rule rule2 ethertype 2048 proto 0 tos 0 pos 3 type drop",
    ]


SG_CHAINS = [
    "OS_PRE_ROUTING_5a151b0b-dea7-4918-bd17-876c1f7f5c64",
    "OS_POST_ROUTING_5a151b0b-dea7-4918-bd17-876c1f7f5c64",
    "OS_PORT_6f72342b-4947-432f-8d01-0cf4e4b8d049_INBOUND",
    "OS_PORT_6f72342b-4947-432f-8d01-0cf4e4b8d049_OUTBOUND",
    "OS_SG_050593ed-56ad-44ef-8489-4052d02d99ff_EGRESS",
    "OS_SG_050593ed-56ad-44ef-8489-4052d02d99ff_INGRESS",
    "OS_SG_01fcelb8-c277-4a37-a8cc-86732eea186d_INGRESS",
    "OS_SG_01fcelb8-c277-4a37-a8cc-86732eea186d_EGRESS",
]


def test_security_group_chains(cli: Cli, seed: Seed) -> None:
    chains = [seed.chain(name) for name in SG_CHAINS]
    port_in, sg_egress, sg_ingress = chains[2], chains[4], chains[5]
    seed.rule(port_in, 1, type="drop", dlType=2048, nwSrcAddress="172.16.3.3", nwSrcLength=32,
              invNwSrc=True)
    seed.rule(port_in, 2, type="drop", dlSrc="fa:16:3e:fb:19:07", invDlSrc=True)
    seed.rule(port_in, 3, type="accept", matchReturnFlow=True)
    seed.rule(port_in, 4, type="jump", jumpChainId=sg_egress["id"])
    seed.rule(port_in, 5, type="drop", dlType=2054, invDlType=True)
    for pos, (proto, port) in enumerate([(6, 5900), (1, None), (6, 22), (6, 80)], start=1):
        tp = {"tpDst": {"start": port, "end": port}} if port else {}
        seed.rule(sg_ingress, pos, type="accept", dlType=2048, nwSrcAddress="0.0.0.0",
                  nwSrcLength=0, nwProto=proto, **tp)
    assert cli.ok("chain chain2 list rule") == [
        "rule rule0 ethertype 2048 src !172.16.3.3 proto 0 tos 0 pos 1 type drop",
        "rule rule1 hw-src !fa:16:3e:fb:19:07 proto 0 tos 0 pos 2 type drop",
        "rule rule2 proto 0 tos 0 flow return-flow pos 3 type accept",
        "rule rule3 proto 0 tos 0 pos 4 type jump jump-to chain4",
        "rule rule4 ethertype !2054 proto 0 tos 0 pos 5 type drop",
    ]
    # The guide lists chain5, chain0, chain1, chain6, chain4, chain7, chain2, chain3 (aliases
    # of an earlier session); the alias/name pairs are the guide's.
    assert cli.ok("list chain") == [f"chain chain{n} name {name}"
                                    for n, name in enumerate(SG_CHAINS)]
    assert cli.ok("chain chain5 list rule") == [
        "rule rule0 ethertype 2048 src 0.0.0.0/0 proto 6 tos 0 dst-port 5900 pos 1 type accept",
        "rule rule1 ethertype 2048 src 0.0.0.0/0 proto 1 tos 0 pos 2 type accept",
        "rule rule2 ethertype 2048 src 0.0.0.0/0 proto 6 tos 0 dst-port 22 pos 3 type accept",
        "rule rule3 ethertype 2048 src 0.0.0.0/0 proto 6 tos 0 dst-port 80 pos 4 type accept",
    ]


def test_rule_condition_attributes_and_inversion(cli: Cli, seed: Seed) -> None:
    router = seed.router("r0")
    seed.router_port(router, "10.0.0.1/24")
    seed.router_port(router, "10.0.1.1/24")
    assert cli.ok("create chain name all") == ["chain0"]
    assert cli.ok("create chain name target") == ["chain1"]
    assert cli.ok("port-group create name pg") == ["pgroup0"]
    assert cli.ok("ip-address-group create name ipg") == ["ip-address-group0"]
    lines = [
        ("hw-src !aa:bb:cc:dd:ee:ff hw-dst 01:00:00:00:00:00 hw-dst-mask 0100.0000.0000 "
         "ethertype !2054 pos 1 type drop",
         "hw-src !aa:bb:cc:dd:ee:ff hw-dst 01:00:00:00:00:00 hw-dst-mask 0100.0000.0000 "
         "ethertype !2054 proto 0 tos 0 pos 1 type drop"),
        ("src !10.0.0.0/8 dst !192.168.0.1 proto !17 tos !4 src-port !1024-2048 "
         "dst-port !53 pos 2 type reject",
         "src !10.0.0.0/8 dst !192.168.0.1 proto !17 tos !4 src-port !1024-2048 dst-port !53 "
         "pos 2 type reject"),
        ("flow fwd-flow port-group !pgroup0 ip-address-group-src ip-address-group0 "
         "ip-address-group-dst !ip-address-group0 in-ports !router0:port0,router0:port1 "
         "out-ports router0:port1 pos 3 type continue",
         "proto 0 tos 0 flow fwd-flow port-group !pgroup0 ip-address-group-src "
         "ip-address-group0 ip-address-group-dst !ip-address-group0 "
         "in-ports !router0:port0,router0:port1 out-ports router0:port1 pos 3 type continue"),
        ("fragment-policy nonheader no-vlan true pos 4 type return",
         "proto 0 tos 0 fragment-policy nonheader no-vlan true pos 4 type return"),
        ("vlan 10 pos 5 type jump jump-to chain1",
         "proto 0 tos 0 vlan 10 pos 5 type jump jump-to chain1"),
        ("dst 198.51.100.10 pos 6 type dnat action continue target 10.0.0.5-10.0.0.9:80-88",
         "dst 198.51.100.10 proto 0 tos 0 pos 6 type dnat action continue "
         "target 10.0.0.5-10.0.0.9:80-88"),
        ("pos 7 type rev_dnat action return", "proto 0 tos 0 pos 7 type rev_dnat action return"),
        ("pos 8 type snat action accept target 198.51.100.2:1--1",
         "proto 0 tos 0 pos 8 type snat action accept target 198.51.100.2:1--1"),
    ]
    for n, (args, _) in enumerate(lines):
        assert cli.ok(f"chain chain0 add rule {args}") == [f"chain0:rule{n}"]
    assert cli.ok("chain chain0 list rule") == [
        f"rule rule{n} {shown}" for n, (_, shown) in enumerate(lines)]
    assert cli.ok("chain chain0 delete rule rule7") == []
    assert cli.ok("chain chain0 rule rule6 delete") == []
    assert len(cli.ok("chain chain0 list rule")) == 6
    assert "type: 'dn' is not one of" in cli.fails("chain chain0 add rule type dn")
    assert "rule has no attribute 'timer'" in cli.fails("chain chain0 add rule type dn timer")
    err = cli.fails("chain chain0 add rule type accept target 1.2.3.4")
    assert "400" in err and "natTargets" in err and "(attribute target)" in err


# -- 5.7 IP address groups and port groups in rules -------------------------------------------

def test_ip_address_groups(cli: Cli, seed: Seed) -> None:
    group = seed.post("ip_addr_groups", {"name": "sg-addresses"})
    chain = seed.chain("vtep-ingress")
    for pos, ethertype in ((1, 2048), (2, 0x86DD)):
        seed.rule(chain, pos, type="accept", dlType=ethertype, ipAddrGroupSrc=group["id"],
                  fragmentPolicy="unfragmented")
    assert cli.ok("chain chain0 list rule") == [
        "rule rule0 ethertype 2048 proto 0 tos 0 ip-address-group-src ip-address-group0 "
        "fragment-policy unfragmented pos 1 type accept",
        "rule rule1 ethertype -31011 proto 0 tos 0 ip-address-group-src ip-address-group0 "
        "fragment-policy unfragmented pos 2 type accept",
    ]
    assert cli.ok("ip-address-group ip-address-group0 add ip address 172.16.0.3") == [
        "address 172.16.0.3"]
    assert cli.ok("ip-address-group create name other") == ["ip-address-group1"]
    assert cli.ok("list ip-address-group") == [
        "ip-address-group ip-address-group0 name sg-addresses",
        "ip-address-group ip-address-group1 name other"]
    assert cli.ok("ip-address-group ip-address-group0 list ip") == ["address 172.16.0.3"]
    assert cli.ok("ip-address-group ip-address-group0 delete ip address 172.16.0.3") == []
    assert cli.ok("ip-address-group ip-address-group0 list ip") == []


# -- 6.2 / 6.3 NAT ----------------------------------------------------------------------------

def test_floating_ip_nat_chains(cli: Cli, seed: Seed) -> None:
    pre, post = seed.chain("pre"), seed.chain("post")
    router0 = seed.router("tenant-router", inboundFilterId=pre["id"],
                          outboundFilterId=post["id"])
    router1 = seed.router("edge")
    r0p0 = seed.router_port(router0, "198.51.100.2/24")
    r1p0 = seed.router_port(router1, "198.51.100.1/24")

    def host(addr: str) -> list[dict[str, object]]:
        return [{"addressFrom": addr, "addressTo": addr, "portFrom": 0, "portTo": 0}]

    seed.rule(pre, 1, type="dnat", flowAction="accept", nwDstAddress="198.51.100.3",
              nwDstLength=32, inPorts=[r0p0["id"]], natTargets=host("172.16.3.3"))
    seed.rule(pre, 2, type="rev_snat", flowAction="accept", nwDstAddress="198.51.100.2",
              nwDstLength=32, inPorts=[r0p0["id"]])
    seed.rule(post, 1, type="snat", flowAction="accept", nwSrcAddress="172.16.3.3",
              nwSrcLength=32, outPorts=[r1p0["id"]], natTargets=host("198.51.100.3"))
    seed.rule(post, 2, type="snat", flowAction="accept", outPorts=[r1p0["id"]],
              natTargets=[{"addressFrom": "198.51.100.2", "addressTo": "198.51.100.2",
                           "portFrom": 1, "portTo": 65535}])
    assert cli.ok("list router") == [
        "router router0 name tenant-router state up infilter chain0 outfilter chain1",
        "router router1 name edge state up",
    ]
    # The guide prints "type dn timer" and "type rev_sn timer".
    assert cli.ok("chain chain0 list rule") == [
        "rule rule0 dst 198.51.100.3 proto 0 tos 0 in-ports router0:port0 pos 1 type dnat "
        "action accept target 172.16.3.3",
        "rule rule1 dst 198.51.100.2 proto 0 tos 0 in-ports router0:port0 pos 2 type rev_snat "
        "action accept",
    ]
    assert cli.ok("chain chain1 list rule") == [
        "rule rule0 src 172.16.3.3 proto 0 tos 0 out-ports router1:port0 pos 1 type snat "
        "action accept target 198.51.100.3",
        "rule rule1 proto 0 tos 0 out-ports router1:port0 pos 2 type snat action accept "
        "target 198.51.100.2:1--1",
    ]


def test_dnat_rev_dnat_example(cli: Cli, seed: Seed) -> None:
    seed.chains(10)
    seed.router_port(seed.router("r0"), "198.51.100.2/24")
    seed.router_port(seed.router("r1"), "10.100.1.1/24")
    assert cli.ok('chain create name "dnat-test"') == ["chain10"]
    # The guide prints chain10:rule2 and chain10:rule3 for the first rules of a new chain.
    assert cli.ok("chain chain10 add rule dst 198.51.100.4 in-ports router1:port0 pos 1 "
                  "type dnat action accept target 10.100.1.150") == ["chain10:rule0"]
    assert cli.ok("chain chain10 add rule dst 198.51.100.2 in-ports router0:port0 pos 2 "
                  "type rev_snat action accept") == ["chain10:rule1"]
    assert cli.ok("chain chain10 list rule") == [
        "rule rule0 dst 198.51.100.4 proto 0 tos 0 in-ports router1:port0 pos 1 type dnat "
        "action accept target 10.100.1.150",
        "rule rule1 dst 198.51.100.2 proto 0 tos 0 in-ports router0:port0 pos 2 type rev_snat "
        "action accept",
    ]


def test_snat_lab_script(cli: Cli, seed: Seed) -> None:
    zone = seed.tunnel_zone("tz")
    seed.host(host_id(0), "controller")
    seed.member(zone, seed.host(host_id(4), "os004"), "192.168.7.189")
    seed.bridge("unrelated")
    seed.router("other")
    edge = seed.router("edge")
    seed.router_port(edge, "192.168.7.2/24")
    done = cli.script(SNAT_LAB)
    assert (done.returncode, done.stderr) == (0, ""), done.stdout + done.stderr
    # Run again: the guarded steps find what they look for, the binding is made again, and
    # the unguarded peer step is refused as already done; nothing else changes.
    again = cli.script(SNAT_LAB, strict=False)
    assert again.stderr.startswith("midonet-cli: error: 409 Conflict: port "), again.stderr
    assert "is already linked" in again.stderr and len(again.stderr.splitlines()) == 1
    assert "host host1 interface veth0-snat port bridge1:port0" in again.stdout.splitlines()
    assert "bridge1:port2" not in again.stdout and "router1:port2" not in again.stdout
    done = cli.script(SNAT_CHAIN)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["chain0:rule0", "chain0:rule1"]
    assert cli.ok("bridge list") == ["bridge bridge0 name unrelated state up",
                                     "bridge bridge1 name snat-example-bridge state up"]
    assert cli.ok("bridge bridge1 port list") == [
        "port port0 device bridge1 state up",
        "port port1 device bridge1 state up peer router1:port1"]
    assert cli.ok("host host1 list binding") == [
        "host host1 interface veth0-snat port bridge1:port0"]
    assert cli.ok("router list name edge") == [
        "router router1 name edge state up infilter chain0"]
    ports = cli.ok("router router1 port list")
    assert len(ports) == 2 and ports[1].startswith("port port1 device router1 state up mac ")
    assert ports[1].endswith(" addresses 192.168.11.1/24 peer bridge1:port1")
    assert [line for line in cli.ok("router router1 route list") if "192.168.11.0/24" in line] \
        == ["route route3 type normal src 0.0.0.0/0 dst 192.168.11.0/24 port router1:port1 "
            "weight 0"]
    assert cli.ok("chain chain0 list rule") == [
        "rule rule0 dst 200.200.200.11 proto 0 tos 0 in-ports router1:port0 pos 1 "
        "type rev_snat action accept",
        "rule rule1 src 192.168.11.11 proto 0 tos 0 in-ports router1:port1 pos 2 type snat "
        "action accept target 200.200.200.11:10000-60000",
    ]


# -- 7 stateful port groups -------------------------------------------------------------------

def test_stateful_port_group(cli: Cli, seed: Seed) -> None:
    edge = seed.router("Edge Router")
    seed.router("TenantRouter")
    bridge = seed.bridge("ext")
    seed.router_port(edge, "100.100.100.1/30", "02:c2:0f:b0:f2:68")
    seed.router_port(edge, "172.168.0.1/16", "02:cb:3d:85:89:2a")
    port2 = seed.router_port(edge, "200.200.200.1/24", "02:46:87:89:49:41")
    seed.router_port(edge, "169.254.255.1/30", "02:6b:9f:0d:c4:a8")
    seed.link(port2, seed.bridge_port(bridge))
    # The guide's prompt is "midonet-cli>" for two of these commands.
    outputs, err, rc = cli.session([
        "list router",
        "router router0 list port",
        f"sett {TENANT_ADMIN}",
        "port-group create name SPG stateful true",
        "port-group pgroup0 add member port router0:port0",
        "port-group pgroup0 add member port router0:port1",
        "port-group pgroup0 list member",
        "list port-group",
    ])
    assert (err, rc) == ("", 0)
    assert outputs[0] == ["router router0 name Edge Router state up",
                          "router router1 name TenantRouter state up"]
    assert outputs[1] == [
        "port port0 device router0 state up mac 02:c2:0f:b0:f2:68 addresses 100.100.100.1/30",
        "port port1 device router0 state up mac 02:cb:3d:85:89:2a addresses 172.168.0.1/16",
        "port port2 device router0 state up mac 02:46:87:89:49:41 addresses 200.200.200.1/24 "
        "peer bridge0:port0",
        "port port3 device router0 state up mac 02:6b:9f:0d:c4:a8 addresses 169.254.255.1/30",
    ]
    assert outputs[2:6] == [[f"tenant_id: {TENANT_ADMIN}"], ["pgroup0"],
                            ["port-group pgroup0 port router0:port0"],
                            ["port-group pgroup0 port router0:port1"]]
    # The guide lists port1 before port0; members list in the order they were added.
    assert outputs[6] == ["port-group pgroup0 port router0:port0",
                          "port-group pgroup0 port router0:port1"]
    assert outputs[7] == ["pgroup pgroup0 name SPG stateful true"]
    # The group belongs to the tenant: listings of another tenant do not show it.
    assert cli.ok("list port-group", "-t", "someone-else") == []
    assert cli.ok("list port-group", "-t", TENANT_ADMIN) == [
        "pgroup pgroup0 name SPG stateful true"]
    assert cli.ok("port-group pgroup0 delete member port router0:port0") == []
    assert cli.ok("port-group pgroup0 list member") == ["port-group pgroup0 port router0:port1"]


# -- the command line itself ------------------------------------------------------------------

def test_top_level_port_paths(cli: Cli, seed: Seed) -> None:
    bridge = seed.bridge("b")
    seed.bridge_port(bridge)
    seed.router_port(seed.router("r"), "10.0.0.1/24")
    assert cli.ok("port router0:port0 set peer bridge0:port0") == []
    assert cli.ok("list port") == [
        "port bridge0:port0 device bridge0 state up peer router0:port0",
        "port router0:port0 device router0 state up mac "
        + cli.ok("router router0 port port0 show mac")[0]
        + " addresses 10.0.0.1/24 peer bridge0:port0",
    ]
    assert cli.ok("port bridge0:port0 show") == [
        "port port0 device bridge0 state up peer router0:port0"]
    assert cli.ok("port bridge0:port0 clear peer") == []
    assert cli.ok("bridge bridge0 port port0 show") == ["port port0 device bridge0 state up"]


def test_errors_are_one_line_and_exit_non_zero(cli: Cli, seed: Seed) -> None:
    seed.router("r")
    assert "unknown command or object type 'rooter'" in cli.fails("rooter list")
    assert "no router router5 (known: router0)" in cli.fails("router router5 show")
    assert "missing required attribute for route: dst" in cli.fails(
        "router router0 add route src 0.0.0.0/0")
    assert "syntax error" in cli.fails('router create name "unbalanced')
    err = cli.fails("create tunnel-zone name tz type geneve")
    assert "type: 'geneve' is not one of gre, vxlan, vtep" in err
    err = cli.fails("router router0 add port addresses 10.0.0.1")
    assert "needs a prefix length" in err
    err = cli.fails("router router0 add port address 10.0.0.1 net 10.1.0.0/24")
    assert err.startswith("midonet-cli: error: 400 Bad Request: networkAddress: ")
    assert "(attribute net)" in err
    err = cli.fails("router router0 add route dst 10.0.0.0/8 type normal")
    assert "400" in err and "nextHopPort" in err and "(attribute port)" in err


def test_interactive_prompt_keeps_going_after_errors(cli: Cli) -> None:
    outputs, err, rc = cli.session(["bridge create name a", "bridge bridge7 show",
                                    "help", "bridge bridge0 show"])
    assert outputs[0] == ["bridge0"] and outputs[1] == []
    assert outputs[2][0].startswith("Commands")
    assert outputs[3] == ["bridge bridge0 name a state up"]
    assert err == "midonet-cli: error: no bridge bridge7 (known: bridge0)\n"
    assert rc == 0


def test_unreachable_api(tmp_path: Path) -> None:
    cli = Cli("http://127.0.0.1:9/midonet-api", tmp_path)
    err = cli.fails("list router")
    assert "cannot reach the MidoNet API at http://127.0.0.1:9/midonet-api" in err


def test_login_sends_the_token(api_url: str, tmp_path: Path) -> None:
    cli = Cli(api_url, tmp_path)
    assert cli.ok("create bridge name authed") == ["bridge0"]
    # Needs POST /login to accept a request without a body or Content-Type, as MidoNet's does.
    login = credentials.login_of(api_url)
    assert login is not None
    res = cli.run("list bridge", "-u", login.user, "-p", login.password, login=True)
    assert (res.out, res.err, res.rc) == (["bridge bridge0 name authed state up"], "", 0)
    res = cli.run("list bridge", "-u", login.user, "-p", "wrong", login=True)
    assert res.rc == 2 and res.out == [] and "wrong" not in res.err.replace("wrong user", "")
    assert "cannot log in" in res.err and "authentication failed" in res.err


class _FakeApi(http.server.BaseHTTPRequestHandler):
    """A stand-in API: POST /login answers ``login_status`` (200 with a token, or 404);
    every GET answers an empty list and records the X-Auth-Token it carried."""

    login_status = 404
    tokens: list[str | None] = []
    basic: list[str | None] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self.basic.append(self.headers.get("Authorization"))
        ok = self.login_status == 200
        self.send_response(self.login_status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"key": "tok-123"}' if ok else b'{"message": "no login", "code": 404}')

    def do_GET(self) -> None:  # noqa: N802
        self.tokens.append(self.headers.get("X-Auth-Token"))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(params=[200, 404], ids=["login", "no-login"])
def fake_api(request: pytest.FixtureRequest) -> Iterator[tuple[str, type[_FakeApi]]]:
    handler = type("Handler", (_FakeApi,), {"login_status": request.param, "tokens": [],
                                            "basic": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/midonet-api", handler
    finally:
        server.shutdown()
        server.server_close()


def test_login_token_or_none(fake_api: tuple[str, type[_FakeApi]], tmp_path: Path) -> None:
    url, handler = fake_api
    res = Cli(url, tmp_path).run("list router", "-u", "admin", "-p", "pw", login=True)
    assert (res.out, res.err, res.rc) == ([], "", 0)
    assert handler.basic == ["Basic YWRtaW46cHc="]  # admin:pw
    assert handler.tokens == (["tok-123"] if handler.login_status == 200 else [None])
    res = Cli(url, tmp_path).run("list router")  # -A: no login at all
    assert res.rc == 0 and handler.basic == ["Basic YWRtaW46cHc="]
