"""Proactive flows through a VLAN-aware bridge: a VM's flow toward a physical host behind a
trunk is compiled again when the host's MAC moves to the other trunk."""

from __future__ import annotations

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.proactive import Compiler
from ryu_midonet.sim.state import State, mac_tag
from tests.support.topology import MemoryTopology

VM5, PH5 = "02:00:00:00:05:01", "0a:00:00:00:05:02"
HOSTS = {"hostA": "10.99.0.1", "hostB": "10.99.0.2"}


def test_a_vm_port_is_compiled_again_when_a_mac_moves_between_trunks() -> None:
    b = MemoryTopology()
    vab, vub = b.bridge("vab"), b.bridge("vub5")
    for trunk in ("t1", "t2"):
        b.bridge_port(vab, host="hostB", port_id=trunk, interfaceName=f"tap-{trunk}")
    b.link(b.bridge_port(vab, host=None, port_id="v5", vlanId=5),
           b.bridge_port(vub, host=None, port_id="u5"))
    b.bridge_port(vub, host="hostA", port_id="vm5", interfaceName="tap-vm5")
    b._put("tunnelZone", "tz", name="tz", type="vxlan", hostIds=list(HOSTS),
           tzHosts=[{"hostId": h, "ipAddress": ip} for h, ip in HOSTS.items()])
    for n, port in enumerate(b.objects["port"].values(), start=1):
        port["tunnelKey"] = n
    state = State.in_memory()
    state.macs.learn("vub5", VM5, None, "vm5")
    state.macs.learn("vub5", PH5, None, "u5")
    state.macs.learn("vab", VM5, 5, "v5")
    state.macs.learn("vab", PH5, 5, "t1")
    compiler = Compiler(b.view(), state, FlowIndex(), "hostA", {"vm5": 1}, {"vxlan": 100})
    compiler.ports_plugged(["vm5"])
    assert compiler.wait(0) and compiler.compile()  # vm5 -> PH5, tagged 5, to t1's host
    assert not compiler.wait(0)
    state.macs.learn("vab", PH5, 5, "t2")
    compiler.state_changed(mac_tag("vab", PH5))
    assert compiler.wait(0)  # vm5 is due again, though the VAB has no port on hostA
