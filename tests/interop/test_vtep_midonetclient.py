"""python-midonetclient 5.2.0 drives VTEPs against our API: its ``Vtep`` and ``VtepBinding``
resources through create, list, get and delete, and a host's flooding proxy weight."""

from __future__ import annotations

from typing import Any

import pytest

from ryu_midonet.nsdb.topology import Topology

pytestmark = pytest.mark.interop


def test_vteps_and_bindings_through_the_client(api: Any, topo: Topology) -> None:
    zone = api.add_vtep_tunnel_zone().name("vtep_zone").create()
    vtep = (api.add_vtep().management_ip("192.168.2.10").management_port(6632)
            .tunnel_zone_id(zone.get_id()).create())
    assert (vtep.get_management_ip(), vtep.get_management_port(),
            vtep.get_tunnel_zone_id()) == ("192.168.2.10", 6632, zone.get_id())
    topo.set_vtep_switch_state(vtep.get_id(), name="VTEP-NAME",
                               description="OVS VTEP Emulator", connectionState="CONNECTED",
                               tunnelIpAddrs=["10.78.0.30"],
                               physicalPorts=[{"name": "swp1", "description": ""}])
    got = api.get_vtep(vtep.get_id())
    assert (got.get_name(), got.get_description(), got.get_connection_state(),
            got.get_tunnel_ip_addresses()) == ("VTEP-NAME", "OVS VTEP Emulator", "CONNECTED",
                                               ["10.78.0.30"])
    assert [p.get_name() for p in got.get_ports()] == ["swp1"]
    assert [v.get_id() for v in api.get_vteps()] == [vtep.get_id()]

    bridge = api.add_bridge().name("public").create()
    got.add_binding().port_name("swp1").vlan_id(10).network_id(bridge.get_id()).create()
    [binding] = got.get_bindings()
    assert (binding.get_port_name(), binding.get_vlan_id(), binding.get_network_id()) == \
        ("swp1", 10, bridge.get_id())
    [port] = [p for p in bridge.get_ports() if p.get_type() == "Vxlan"]
    assert port.get_vtep() == vtep.get_id() and port.get_vni() > 0
    binding.delete()
    assert got.get_bindings() == []
    api.delete_vtep(vtep.get_id())
    assert api.get_vteps() == []


def test_flooding_proxy_weight_through_the_client(api: Any, topo: Topology) -> None:
    topo.register_host("3f1c1a4e-7d0e-4c8e-9a51-6d2f0c1b2a11", "compute1")
    host = api.get_host("3f1c1a4e-7d0e-4c8e-9a51-6d2f0c1b2a11")
    host.flooding_proxy_weight(7).update()
    assert api.get_host(host.get_id()).get_flooding_proxy_weight() == 7
