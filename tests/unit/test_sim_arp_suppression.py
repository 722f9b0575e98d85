"""ARP suppression on bridges: given a bridge whose addresses the topology knows, when a VM
asks for one, then the bridge answers it from the asker's port and nothing floods.

The topology::

    vm1 (host1), vm2 (host2), vm3 (host2) --[bridge br]-- br:up ~ r:br 10.0.0.1/24  router r

A DHCP subnet 10.0.0.0/24 on br (server 10.0.0.2) has host entries for vm2 and vm3.
"""

from __future__ import annotations

from typing import Any

from ryu_midonet.datapath.translator import match_for
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import ArpAnswer, Output, Packet, Rewrite, RewriteOp
from ryu_midonet.sim.devices import dhcp
from ryu_midonet.sim.state import State, arp_tag
from tests.support import packets
from tests.support.flowcheck import rewritten
from tests.support.topology import MemoryTopology

VM1, VM2, VM3, VM4 = (f"02:00:00:00:00:0{n}" for n in (1, 2, 3, 4))
RMAC = "02:aa:00:00:00:01"
BCAST = "ff:ff:ff:ff:ff:ff"


def topology(enabled: bool = True) -> MemoryTopology:
    b = MemoryTopology()
    br = b.bridge("br")
    b.bridge_port(br, host="host1", port_id="vm1")
    b.bridge_port(br, host="host2", port_id="vm2")
    b.bridge_port(br, host="host2", port_id="vm3")
    up = b.bridge_port(br, port_id="br:up")
    r = b.router("r")
    b.link(b.router_port(r, "10.0.0.1/24", RMAC, port_id="r:br"), up)
    b.objects["dhcpSubnet"] = {"s1": subnet(enabled=enabled)}
    b.objects["dhcpHost"] = {"h2": host("h2", VM2, "10.0.0.12"),
                             "h3": host("h3", VM3, "10.0.0.13")}
    return b


def subnet(**fields: Any) -> dict[str, Any]:
    return {"id": "s1", "bridgeId": "br", "subnetPrefix": "10.0.0.0", "subnetLength": 24,
            "defaultGateway": "10.0.0.1", "serverAddr": "10.0.0.2", "dnsServerAddrs": [],
            "interfaceMTU": None, "opt121Routes": [], "enabled": True, **fields}


def host(host_id: str, mac: str, ip: str) -> dict[str, Any]:
    return {"id": host_id, "bridgeId": "br", "subnetId": "s1", "macAddr": mac, "ipAddr": ip,
            "name": None, "extraDhcpOpts": []}


def who_has(tpa: str, src_mac: str = VM1, spa: str = "10.0.0.11") -> Packet:
    return packets.arp(1, src_mac, spa, tpa)


def test_request_for_a_dhcp_host_is_answered_on_the_askers_port() -> None:
    request = who_has("10.0.0.12")
    result = simulate(topology().view(), State.in_memory(), "vm1", request)
    # no flood: vm2's host never sees the request; the request becomes its answer, in place
    assert result.outputs == [Output("vm1", (Rewrite(RewriteOp.ARP_REPLY, value=ArpAnswer(
        VM2, "10.0.0.12", VM1, "10.0.0.11")),))]
    assert result.emits == []
    assert rewritten(request, result.outputs[0].rewrites) == packets.arp(
        2, VM2, "10.0.0.12", "10.0.0.11", VM1, VM1)
    assert result.cacheable  # an ARP responder flow
    assert {"in_port", "eth_src", "arp_sha", "arp_spa", "arp_tpa", "arp_op"} <= set(
        match_for(request, 1, result.fields_read))
    assert "br" in result.tags  # its host entries are the bridge's children


def test_router_answers_a_vm_the_bridge_knows_in_place_and_learns_nothing() -> None:
    state = State.in_memory()
    state.macs.learn("br", VM2, None, "vm2")
    request = who_has("10.0.0.1", VM2, "10.0.0.12")
    result = simulate(topology().view(), state, "vm2", request)
    assert [o.port_id for o in result.outputs] == ["vm2"]
    assert rewritten(request, result.outputs[0].rewrites) == packets.arp(
        2, RMAC, "10.0.0.1", "10.0.0.12", VM2, VM2)
    assert result.cacheable and result.emits == []
    assert state.arps.get("r", "10.0.0.12") is None
    assert {"br", "r:br", f"mac:br:{VM2}"} <= result.tags


def test_request_for_the_dhcp_server_is_answered_with_its_mac() -> None:
    topo = topology()
    server_mac = dhcp.of_bridge(topo.view(), "br").addresses["10.0.0.2"]
    result = simulate(topo.view(), State.in_memory(), "vm1", who_has("10.0.0.2"))
    assert [o.rewrites[0].value.mac for o in result.outputs] == [server_mac]


def test_request_for_a_router_port_goes_to_the_router_only() -> None:
    state = State.in_memory()
    result = simulate(topology().view(), state, "vm1", who_has("10.0.0.1"))
    assert result.outputs == []
    assert [e.packet.arp_sha for e in result.emits] == [RMAC]
    assert state.arps.get("r", "10.0.0.11") == VM1  # the router still learns the asker


def test_unknown_address_floods_and_its_flow_goes_when_it_becomes_known() -> None:
    result = simulate(topology().view(), State.in_memory(), "vm1", who_has("10.0.0.99"))
    assert result.outputs == [Output("vm2"), Output("vm3")]
    assert result.cacheable
    assert {"eth_type", "arp_op", "arp_tpa"} <= result.fields_read
    # a host entry is a child of the bridge (its flows go with it), a learned address is
    # the router's ARP entry
    assert {"br", arp_tag("r", "10.0.0.99")} <= result.tags


def test_disabled_subnet_hosts_are_not_known() -> None:
    result = simulate(topology(enabled=False).view(), State.in_memory(), "vm1",
                      who_has("10.0.0.12"))
    assert result.outputs == [Output("vm2"), Output("vm3")]
    assert result.emits == []


def test_removed_host_entry_is_no_longer_answered() -> None:
    topo = topology()
    del topo.objects["dhcpHost"]["h2"]
    result = simulate(topo.view(), State.in_memory(), "vm1", who_has("10.0.0.12"))
    assert result.emits == []
    assert Output("vm2") in result.outputs


def test_address_learned_from_a_vms_own_traffic_is_answered() -> None:
    topo = topology()
    state = State.in_memory()
    # vm4 (no DHCP entry) on vm3's port asks the router: the router learns it, the bridge its MAC
    simulate(topo.view(), state, "vm3", who_has("10.0.0.1", VM4, "10.0.0.14"))
    result = simulate(topo.view(), state, "vm1", who_has("10.0.0.14"))
    assert [o.rewrites[0].value.mac for o in result.outputs] == [VM4]
    assert result.emits == []


def test_a_learned_address_whose_mac_left_the_bridge_floods() -> None:
    topo = topology()
    state = State.in_memory()
    state.arps.put("r", "10.0.0.14", VM4)  # the router knows it, the bridge never saw VM4
    result = simulate(topo.view(), state, "vm1", who_has("10.0.0.14"))
    assert result.emits == []
    assert f"mac:br:{VM4}" in result.tags


def test_owner_probing_its_own_address_floods() -> None:
    result = simulate(topology().view(), State.in_memory(), "vm2",
                      who_has("10.0.0.12", VM2, "0.0.0.0"))
    assert result.emits == []
    assert Output("vm1") in result.outputs


def test_gratuitous_arp_floods() -> None:
    result = simulate(topology().view(), State.in_memory(), "vm2",
                      who_has("10.0.0.12", VM2, "10.0.0.12"))
    assert result.emits == []
    assert Output("vm1") in result.outputs


def test_router_resolving_a_known_vm_goes_on_without_holding() -> None:
    topo = topology()
    r = topo.objects["router"]["r"]
    outside = topo.router_port(r, "192.168.1.1/24", "02:aa:00:00:00:02", host="host1",
                               port_id="r:out")
    state = State.in_memory()
    state.macs.learn("br", VM2, None, "vm2")
    result = simulate(topo.view(), state, outside["id"],
                      packets.icmp("02:00:00:00:00:99", "02:aa:00:00:00:02", "192.168.1.5",
                                   "10.0.0.12"))
    assert [o.port_id for o in result.outputs] == ["vm2"]
    assert not result.waiting and result.cacheable  # the bridge knows it: no ARP at all
    assert state.arps.get("r", "10.0.0.12") is None
    assert {"br", arp_tag("r", "10.0.0.12")} <= result.tags  # the ARP table would win
