"""python-midonetclient 5.2.0 (unmodified but for the 2to3 conversion) against our API.

Every object of the topology model is created, read, changed and deleted through the client
library, against a real API process on a real redis-server.
"""

from __future__ import annotations

from typing import Any

import pytest
import webob.exc

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology

HOST_ID = "0f2b6a3e-52c8-4e7a-9a55-4f8a3c1d0001"


@pytest.fixture
def host(redis_url: str) -> str:
    topo = Topology(Store.from_url(redis_url))
    topo.register_host(HOST_ID, "compute1", addresses=["192.168.0.3"], interfaces=[
        {"name": "eth1", "mac": "12:6e:b7:d0:4f:f1", "mtu": 1500, "type": "Physical",
         "endpoint": "PHYSICAL", "addresses": ["192.168.0.3"], "status": 3}])
    topo.heartbeat(HOST_ID, ttl_ms=60_000)
    return HOST_ID


def test_bridges_and_ports(api: Any) -> None:
    bridge = api.add_bridge().name("Internal").tenant_id("tenant-a").create()
    assert bridge.get_name() == "Internal" and bridge.get_tenant_id() == "tenant-a"
    api.add_bridge().name("other").tenant_id("tenant-b").create()
    assert [b.get_name() for b in api.get_bridges({"tenant_id": "tenant-a"})] == ["Internal"]
    port = bridge.add_port().vlan_id(5).create()
    assert port.get_type() == "Bridge" and port.get_vlan_id() == 5
    assert port.get_device_id() == bridge.get_id()
    assert [p.get_id() for p in bridge.get_ports()] == [port.get_id()]
    bridge.name("renamed").update()
    assert api.get_bridge(bridge.get_id()).get_name() == "renamed"
    assert {t.get_id() for t in api.get_tenants()} == {"tenant-a", "tenant-b"}
    api.delete_bridge(bridge.get_id())
    with pytest.raises(webob.exc.HTTPNotFound):
        api.get_port(port.get_id())


def test_routers_ports_links_and_routes(api: Any) -> None:
    router = api.add_router().name("Edge Router").create()
    uplink = (router.add_port().port_address("172.19.0.2").network_address("172.19.0.0")
              .network_length(30).create())
    assert uplink.get_type() == "Router" and uplink.get_port_mac().startswith("02:")
    dsts = sorted((r.get_dst_network_addr(), r.get_dst_network_length(), r.get_weight())
                  for r in router.get_routes())
    assert dsts == [("172.19.0.0", 30, 0), ("172.19.0.2", 32, 0)]
    route = api.add_router_route(router, src_network_addr="0.0.0.0", src_network_length=0,
                                 dst_network_addr="0.0.0.0", dst_network_length=0,
                                 next_hop_port=uplink.get_id(), next_hop_gateway="172.19.0.1")
    assert route.get_type() == "Normal" and route.get_weight() == 100
    blackhole = (router.add_route().type("BlackHole").src_network_addr("0.0.0.0")
                 .src_network_length(0).dst_network_addr("192.0.2.0").dst_network_length(24)
                 .weight(100).create())
    assert api.get_route(blackhole.get_id()).get_type() == "BlackHole"
    api.delete_route(route.get_id())
    assert route.get_id() not in {r.get_id() for r in router.get_routes()}

    bridge = api.add_bridge().name("tenant").create()
    bport = bridge.add_port().create()
    rport = (router.add_port().port_address("10.0.0.1").network_address("10.0.0.0")
             .network_length(24).create())
    rport.link(bport.get_id())
    assert api.get_port(bport.get_id()).get_peer_id() == rport.get_id()
    assert [p.get_id() for p in bridge.get_peer_ports()] == [rport.get_id()]
    with pytest.raises(webob.exc.HTTPConflict):
        uplink.link(bport.get_id())
    api.get_port(rport.get_id()).unlink()
    assert api.get_port(bport.get_id()).get_peer_id() is None


def test_chains_rules_and_filters(api: Any) -> None:
    chain = api.add_chain().name("drop_not_src_mynetwork_INBOUND").tenant_id("t").create()
    target = api.add_chain().name("sg").tenant_id("t").create()
    drop = api.add_chain_rule(chain, action="drop", dl_type=2048, nw_src_addr="10.0.0.0",
                              nw_src_length=16, inv_nw_src=True)
    accept = api.add_chain_rule(chain, action="accept", nw_proto=6,
                                tp_dst={"start": 80, "end": 80}, position=1)
    jump = api.add_chain_rule(chain, action="jump", jump_chain_id=target.get_id(), position=3)
    assert [r.get_id() for r in chain.get_rules()] == [accept.get_id(), drop.get_id(),
                                                       jump.get_id()]
    assert [r.get_position() for r in chain.get_rules()] == [1, 2, 3]
    # the library's condition getters read the dict an object was built from, which only
    # listings fill in
    listed = {r.get_id(): r for r in chain.get_rules()}
    drop, accept, jump = (listed[r.get_id()] for r in (drop, accept, jump))
    assert drop.is_inv_nw_src() and drop.get_fragment_policy() == "any"
    assert accept.get_fragment_policy() == "header"
    assert jump.get_jump_chain_name() == "sg"
    nat = (chain.add_rule().type("snat").flow_action("accept").nw_src_address("192.168.11.11")
           .nw_src_length(32).nat_targets([{"addressFrom": "200.200.200.11",
                                            "addressTo": "200.200.200.11",
                                            "portFrom": 10000, "portTo": 60000}])
           .position(1).create())
    nat = {r.get_id(): r for r in chain.get_rules()}[nat.get_id()]
    assert nat.get_fragment_policy() == "unfragmented" and nat.get_flow_action() == "accept"
    with pytest.raises(webob.exc.HTTPBadRequest):
        api.add_chain_rule(chain, action="jump",
                           jump_chain_id="0b0e1f6e-0000-4000-8000-00000000dead")
    with pytest.raises(webob.exc.HTTPBadRequest):
        (chain.add_rule().type("accept").tp_dst({"start": 80, "end": 80})
         .fragment_policy("nonheader").create())

    router = api.add_router().name("r").create()
    router.inbound_filter_id(chain.get_id()).outbound_filter_id(target.get_id()).update()
    got = api.get_router(router.get_id())
    assert (got.get_inbound_filter_id(), got.get_outbound_filter_id()) == (
        chain.get_id(), target.get_id())
    api.delete_chain(target.get_id())
    assert api.get_router(router.get_id()).get_outbound_filter_id() is None
    assert jump.get_id() not in {r.get_id() for r in chain.get_rules()}
    api.delete_rule(drop.get_id())
    assert len(list(chain.get_rules())) == 2


def test_rules_are_updated_in_place(api: Any) -> None:
    chain = api.add_chain().name("c").create()
    first = chain.add_rule().type("accept").nw_proto(6).tp_dst({"start": 22, "end": 22}).create()
    rule = chain.add_rule().type("drop").position(2).create()
    rule = {r.get_id(): r for r in chain.get_rules()}[rule.get_id()]
    rule.type("accept").nw_proto(17).tp_dst({"start": 53, "end": 53}).update()
    assert (rule.get_type(), rule.get_position()) == ("accept", 2)
    listed = {r.get_id(): r for r in chain.get_rules()}
    assert [r.get_id() for r in chain.get_rules()] == [first.get_id(), rule.get_id()]
    assert (listed[rule.get_id()].get_nw_proto(), listed[rule.get_id()].get_tp_dst()) == (
        17, {"start": 53, "end": 53})
    with pytest.raises(webob.exc.HTTPBadRequest):
        rule.type("dnat").update()  # a NAT rule needs NAT targets
    assert api.get_rule(rule.get_id()).get_type() == "accept"


def test_write_version_in_the_root(api: Any) -> None:
    api._ensure_application()
    assert api.app.get_write_version_uri().endswith("/write_version")


def test_hosts_bindings_and_tunnel_zones(api: Any, host: str) -> None:
    hosts = list(api.get_hosts())
    assert [(h.get_id(), h.get_name(), h.is_alive()) for h in hosts] == [
        (host, "compute1", True)]
    h = api.get_host(host)
    assert [i.get_name() for i in h.get_interfaces()] == ["eth1"]
    zone = api.add_vxlan_tunnel_zone().name("overlay").create()
    zone.add_tunnel_zone_host().host_id(host).ip_address("192.168.0.3").create()
    bridge = api.add_bridge().name("b").create()
    port = bridge.add_port().create()
    binding = api.add_host_interface_port(h, port.get_id(), "eth1")
    assert (binding.get_port_id(), binding.get_interface_name()) == (port.get_id(), "eth1")
    assert [b.get_port_id() for b in h.get_ports()] == [port.get_id()]
    assert api.get_port(port.get_id()).get_host_id() == host
    binding.delete()
    assert list(h.get_ports()) == []

    zone.delete()
    for factory, kind in ((api.add_gre_tunnel_zone, "gre"), (api.add_vxlan_tunnel_zone, "vxlan")):
        tz = factory().name(f"{kind}-tz").create()
        assert tz.get_type() == kind
        member = tz.add_tunnel_zone_host().host_id(host).ip_address("192.168.0.3").create()
        assert member.get_ip_address() == "192.168.0.3"
        assert [m.get_host_id() for m in tz.get_hosts()] == [host]
        member.delete()
        assert list(tz.get_hosts()) == []
    assert [tz.get_name() for tz in api.get_tunnel_zones()] == ["gre-tz", "vxlan-tz"]


def test_port_groups_and_ip_address_groups(api: Any) -> None:
    router = api.add_router().name("Edge Router").create()
    ports = [router.add_port().port_address(f"100.100.{i}.1").network_address(f"100.100.{i}.0")
             .network_length(30).create() for i in range(2)]
    pg = api.add_port_group().name("SPG").tenant_id("t").stateful(True).create()
    assert pg.is_stateful()
    for p in ports:
        pg.add_port_group_port().port_id(p.get_id()).create()
    assert [m.get_port_id() for m in pg.get_ports()] == [p.get_id() for p in ports]
    ipg = api.add_ip_addr_group().name("vtep-hosts").create()
    ipg.add_ipv4_addr().addr("172.16.0.3").create()
    assert [a.get_addr() for a in ipg.get_addrs()] == ["172.16.0.3"]
    api.delete_port_group(pg.get_id())
    api.delete_ip_addr_group(ipg.get_id())
    assert list(api.get_port_groups()) == [] and list(api.get_ip_addr_groups()) == []


def test_system_state_readonly(api: Any) -> None:
    state = api.get_system_state()
    assert state.get_availability() == "READWRITE"
    state.availability("READONLY").update()
    with pytest.raises(webob.exc.HTTPServiceUnavailable):
        api.add_bridge().name("refused").create()
    api.get_system_state().availability("READWRITE").update()
    api.add_bridge().name("accepted").create()
    assert [b.get_name() for b in api.get_bridges()] == ["accepted"]
