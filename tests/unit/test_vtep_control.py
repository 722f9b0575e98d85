"""The VTEP control plane's pure parts: the flooding proxy election and what a VTEP's
database should hold for the bridges bound to it."""

from __future__ import annotations

from collections import Counter

from ryu_midonet.vtep import desired, proxy

VTEP = "7c71c9b9-9e2d-4953-92db-72fb5c9eec52"
BRIDGE = "63798b09-b8a3-4363-9ffc-20f1afc32bc6"


def test_the_proxy_is_a_live_host_with_weight_and_heavier_hosts_win_more() -> None:
    assert proxy.elect(VTEP, {}) is None
    assert proxy.elect(VTEP, {"h1": 0, "h2": 0}) is None
    assert proxy.elect(VTEP, {"h1": 0, "h2": 1}) == "h2"
    # every owner computes the same proxy
    assert proxy.elect(VTEP, {"h1": 1, "h2": 1}) == proxy.elect(VTEP, {"h2": 1, "h1": 1})
    wins = Counter(proxy.elect(f"vtep-{n}", {"light": 1, "heavy": 9}) for n in range(400))
    assert wins["heavy"] > 3 * wins["light"] > 0


def test_a_binding_gives_a_logical_switch_remote_macs_and_the_flood_locator() -> None:
    ports = {
        "vx": {"id": "vx", "deviceId": BRIDGE, "vtepId": VTEP, "vni": 10001},
        "vm1": {"id": "vm1", "deviceId": BRIDGE, "hostId": "h1"},
        "vm2": {"id": "vm2", "deviceId": BRIDGE, "hostId": "h2"},
        "out": {"id": "out", "deviceId": BRIDGE, "hostId": "h9"},  # not in the zone
    }
    vtep = {"id": VTEP, "portVlanBindings": [
        {"portName": "swp1", "vlanId": 10, "networkId": BRIDGE}]}
    macs = {BRIDGE: [("02:00:00:00:00:01", None, "vm1", False),
                     ("02:00:00:00:00:02", None, "vm2", True),
                     ("02:00:00:00:00:09", None, "out", False),
                     ("02:00:00:00:00:99", None, "vx", True)]}
    zone = {"tzHosts": [{"hostId": "h1", "ipAddress": "10.78.0.11"},
                        {"hostId": "h2", "ipAddress": "10.78.0.12"}]}
    wanted = desired.compute(vtep, ports, desired.zone_addresses(zone),
                             lambda b: macs.get(b, []), "10.78.0.12")
    name = desired.switch_name(BRIDGE)
    assert wanted.switches == {name: 10001}
    assert wanted.bindings == {"swp1": {10: name}}
    assert wanted.ucast == {name: {"02:00:00:00:00:01": "10.78.0.11",
                                   "02:00:00:00:00:02": "10.78.0.12"}}
    assert wanted.flood == {name: "10.78.0.12"}
    assert desired.bridge_of(name) == BRIDGE


def test_nothing_is_wanted_without_bindings() -> None:
    wanted = desired.compute({"id": VTEP, "portVlanBindings": []}, {}, {}, lambda b: [], None)
    assert (wanted.switches, wanted.bindings, wanted.ucast, wanted.flood) == ({}, {}, {}, {})
