"""VLAN-aware bridges (the native L2 gateway, guide chapter 16).

API (a real API process, real Redis): a VLAN id is unique within a bridge and in 1..4094;
anything else is refused with 400 naming ``vlanId`` and nothing written.

Data plane, on a sandbox of its own (``vab``, hosts h1 and h2, VXLAN): the guide's chapter 16
sequence builds the VAB (trunks bound to the cables of two "physical switches") and its two
VUBs; VMs of both VUBs on both hosts. The physical switches are standalone Open vSwitch
bridges (this kernel has no VLAN filtering in its bridge): each trunk carries VLANs 5 and 8
tagged, access ports put the physical hosts on them. Every address is on one subnet, so that
a VLAN that leaked would show.

=====  ====  ===============  ============================================================
name   host  address          what
=====  ====  ===============  ============================================================
sw1    h1    (none)           the physical network's namespace; the cable of switch sw1
                              is bound to trunk bridge0:port2
sw2    h2    (none)           the cable of switch sw2, bound to trunk bridge0:port3
p5     --    10.77.5.105/16   physical host on VLAN 5, an access port of sw1 (later sw2)
p8     --    10.77.8.108/16   physical host on VLAN 8, an access port of sw1
a5     h1    10.77.5.11/16    VM of VUB vub-5
b5     h2    10.77.5.12/16    VM of VUB vub-5
a8     h1    10.77.8.21/16    VM of VUB vub-8
b8     h2    10.77.8.22/16    VM of VUB vub-8
=====  ====  ===============  ============================================================
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chainlab import Lab
from rest_call import call, ok

from ryu_midonet.nsdb.store import Store
from ryu_midonet.sandbox import Sandbox, procs
from ryu_midonet.sandbox.ovs import OvsSwitch
from ryu_midonet.sandbox.shell import run
from ryu_midonet.statestore.tables import RedisMacTable

pytestmark = pytest.mark.integration


def _vm(name: str, host: str, ip: str) -> dict[str, str]:
    return {"name": name, "host": host, "interface": f"rm-{name}-tap", "ip": ip}


SANDBOX: dict[str, Any] = {
    "name": "vab",
    "tunnel": "vxlan",
    "underlay": {"cidr": "10.77.0.0/24"},
    "hosts": [{"name": "h1", "underlay_ip": "10.77.0.1"},
              {"name": "h2", "underlay_ip": "10.77.0.2"}],
    "vms": [_vm("sw1", "h1", "192.0.2.1/32"), _vm("sw2", "h2", "192.0.2.2/32"),
            _vm("p5", "h1", "10.77.5.105/16"), _vm("p8", "h1", "10.77.8.108/16"),
            _vm("a5", "h1", "10.77.5.11/16"), _vm("b5", "h2", "10.77.5.12/16"),
            _vm("a8", "h1", "10.77.8.21/16"), _vm("b8", "h2", "10.77.8.22/16")],
    "api": True,
    "agent": "default",
}
VLANS = (5, 8)
BPDU = "01:80:c2:00:00:00"
# Sends one hex-encoded Ethernet frame out of an interface, as it is.
SEND_FRAME = r"""
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
s.send(bytes.fromhex(sys.argv[2]))
"""


def _refused(reply: tuple[int, Any]) -> None:
    status, body = reply
    assert status == 400, body
    assert [v["property"] for v in body["violations"]] == ["vlanId"], body


def test_vlan_ids_are_unique_within_a_bridge_and_in_range(api_url: str) -> None:
    vab = ok("POST", api_url + "/bridges", {"name": "vab"}, 201)
    other = ok("POST", api_url + "/bridges", {"name": "other"}, 201)
    port8 = ok("POST", vab["ports"], {"type": "Bridge", "vlanId": 8}, 201)
    assert port8["vlanId"] == 8
    _refused(call("POST", vab["ports"], {"type": "Bridge", "vlanId": 8}))
    for bad in (0, 4095, 5000, -1):
        _refused(call("POST", vab["ports"], {"type": "Bridge", "vlanId": bad}))
    assert [p["id"] for p in ok("GET", vab["ports"])] == [port8["id"]]  # nothing written
    # the same VLAN on another bridge, and trunks without one, are fine
    ok("POST", other["ports"], {"type": "Bridge", "vlanId": 8}, 201)
    trunk = ok("POST", vab["ports"], {"type": "Bridge"}, 201)
    port5 = ok("POST", vab["ports"], {"type": "Bridge", "vlanId": 5}, 201)
    # an update may not take a VLAN another port has
    _refused(call("PUT", port5["uri"], {**port5, "vlanId": 8}))
    assert ok("GET", port5["uri"])["vlanId"] == 5
    assert ok("PUT", trunk["uri"], {**trunk, "vlanId": 9})["vlanId"] == 9


def test_a_vlan_port_links_to_one_port_of_a_bridge_without_vlans(api_url: str) -> None:
    vab = ok("POST", api_url + "/bridges", {"name": "vab"}, 201)
    vub = ok("POST", api_url + "/bridges", {"name": "vub-5"}, 201)
    port5, port8, trunk = (ok("POST", vab["ports"], body, 201) for body in (
        {"type": "Bridge", "vlanId": 5}, {"type": "Bridge", "vlanId": 8}, {"type": "Bridge"}))
    first, second = (ok("POST", vub["ports"], {"type": "Bridge"}, 201) for _ in range(2))
    status, body = call("POST", f"{api_url}/ports/{trunk['id']}/link", {"peerId": first["id"]})
    assert status == 400 and "peerId" in str(body), body  # no VLAN on either side
    ok("POST", f"{api_url}/ports/{port5['id']}/link", {"peerId": first["id"]}, 201)
    status, body = call("POST", f"{api_url}/ports/{port8['id']}/link", {"peerId": second["id"]})
    assert status == 400 and "peerId" in str(body), body  # one link per VUB


# -- the data plane ----------------------------------------------------------------------------

class Physical:
    """The physical network: one Open vSwitch of its own (standalone bridges, normal MAC
    learning switches) in ``sw1``'s namespace, with two bridges, the physical switches: each
    trunks VLANs 5 and 8 to its cable to the VAB (sw2's cable is moved in as ``trunk2``), and
    the physical hosts' cables are access ports of one of them."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.netns = lab.sb.vm("sw1").netns
        self.switch = OvsSwitch(self.netns, lab.workdir / "phys")
        self.records = self.switch.start()
        for n in (1, 2):
            ns = lab.sb.vm(f"sw{n}").netns
            run(["ip", "-n", ns, "link", "set", "eth0", "down"])
            run(["ip", "-n", ns, "link", "set", "eth0", "name", f"trunk{n}"])
        run(["ip", "-n", lab.sb.vm("sw2").netns, "link", "set", "trunk2", "netns", self.netns])
        for host in ("p5", "p8"):
            run(["ip", "-n", lab.sb.vm(host).host.netns, "link", "set",
                 lab.sb.vm(host).interface, "netns", self.netns])
        for n in (1, 2):
            self.switch.vsctl("add-br", f"sw{n}", "--", "set", "bridge", f"sw{n}",
                              "datapath_type=netdev", "fail_mode=standalone")
            run(["ip", "-n", self.netns, "link", "set", f"trunk{n}", "up"])
            self.switch.vsctl("add-port", f"sw{n}", f"trunk{n}", "trunks=5,8")
        self.plug("p5", "sw1", 5)
        self.plug("p8", "sw1", 8)

    def plug(self, host: str, sw: str, vlan: int, unplug: str | None = None) -> None:
        """Cable physical host ``host`` to an access port of switch ``sw`` on ``vlan``."""
        tap = self.lab.sb.vm(host).interface
        run(["ip", "-n", self.netns, "link", "set", tap, "up"])
        move = ["del-port", unplug, tap, "--"] if unplug else []
        self.switch.vsctl(*move, "add-port", sw, tap, f"tag={vlan}")

    def stop(self) -> None:
        procs.stop_all(self.records)


# The guide's sequence; the guide's eth0/eth1 are the switches' cables here.
CHAPTER_16 = [
    ("bridge create name vab", ["bridge0"]),
    ("bridge bridge0 port add vlan 8", ["bridge0:port0"]),
    ("bridge bridge0 port add vlan 5", ["bridge0:port1"]),
    ("bridge add name vub-8", ["bridge1"]),
    ("bridge add name vub-5", ["bridge2"]),
    ("bridge bridge1 port add", ["bridge1:port0"]),
    ("bridge bridge2 port add", ["bridge2:port0"]),
    ("bridge bridge0 port port0 set peer bridge1:port0", []),
    ("bridge bridge0 port port1 set peer bridge2:port0", []),
    ("bridge bridge0 port add", ["bridge0:port2"]),
    ("bridge bridge0 port add", ["bridge0:port3"]),
    ("host {h1} binding add interface rm-sw1-tap port bridge0:port2", []),
    ("host {h2} binding add interface rm-sw2-tap port bridge0:port3", []),
]


@pytest.fixture(scope="module")
def vab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The sandbox with the chapter 16 topology built through midonet-cli, the VMs bound to
    their VUBs and the physical switches cabled: the lab and what the CLI printed."""
    run_dir: Path = tmp_path_factory.mktemp("vab")
    with Sandbox.from_yaml(SANDBOX, run_dir) as sb:
        lab = Lab(sb, run_dir)
        physical = Physical(lab)
        try:
            printed = [(command, lab.cli.ok(command.format(**host_aliases(lab))))
                       for command, _ in CHAPTER_16]
            vubs = {b["name"]: b for b in lab.topo.list("bridge")}
            for vm in ("a5", "b5", "a8", "b8"):
                lab.plug(vubs[f"vub-{vm[1]}"], vm)
            yield {"lab": lab, "printed": printed, "physical": physical}
        finally:
            lab.wipe()  # stops the servers the tests started
            physical.stop()


def host_aliases(lab: Lab) -> dict[str, str]:
    """The CLI's alias of each sandbox host (``h1`` -> ``host0``), from ``list host``."""
    names = {}
    for line in lab.cli.ok("list host"):
        words = line.split()
        names[words[words.index("name") + 1]] = words[1]
    return {h: next(alias for name, alias in names.items() if name == h or name.endswith(h))
            for h in ("h1", "h2")}


def test_chapter_16_hosts_reach_their_own_vlan_only(vab: dict[str, Any]) -> None:
    lab: Lab = vab["lab"]
    for (command, out), (_, expected) in zip(vab["printed"], CHAPTER_16, strict=True):
        if "binding" in command:  # the CLI confirms a binding (the guide shows none)
            assert len(out) == 1 and out[0].endswith(command.split()[-1]), (command, out)
        else:
            assert out == expected, (command, out)
    listing = lab.cli.ok("bridge bridge0 list port")
    assert sum("vlan 8" in line for line in listing) == 1, listing
    assert sum("vlan 5" in line for line in listing) == 1, listing
    for phys, vms in (("p5", ("a5", "b5")), ("p8", ("a8", "b8"))):
        for vm in vms:
            ip = lab.sb.vm(vm).ip
            assert lab.pings(phys, ip), f"{phys} -> {vm}\n" + lab.report()
            lab.server(vm, 7000)
            assert lab.eventually_connects(phys, ip, 7000), f"{phys} -> {vm} TCP"
    # VLANs never leak: not to the other VLAN's VMs, nor to its physical host
    for src, dst in (("p5", "a8"), ("p5", "b8"), ("p8", "a5"), ("p5", "p8"), ("a5", "b8")):
        assert lab.no_reply(src, lab.sb.vm(dst).ip), f"{src} reached {dst}"
    # a BPDU from one switch crosses to the other one's trunk
    frame = bytes.fromhex(BPDU.replace(":", "")) + bytes.fromhex("020000000a01") + \
        (38).to_bytes(2, "big") + bytes.fromhex("424203") + bytes(35)
    with lab.sb.capture(f"-e ether dst {BPDU}", netns=vab["physical"].netns,
                        iface="trunk2") as cap:
        done = lab.exec("sw1", ["python3", "-c", SEND_FRAME, "trunk1", frame.hex()])
        assert done.returncode == 0, done
        time.sleep(1.0)
    assert any("02:00:00:00:0a:01" in line for line in cap.lines), cap.lines
    assert lab.openflow_errors() == []  # the switches took every flow


def test_a_mac_that_moves_to_the_other_trunk_is_relearned(vab: dict[str, Any]) -> None:
    lab: Lab = vab["lab"]
    bridge = next(b["id"] for b in lab.topo.list("bridge") if b["name"] == "vab")
    trunks = {p["interfaceName"]: p["id"] for p in lab.topo.list("port")
              if p.get("deviceId") == bridge and p.get("interfaceName")}
    macs = RedisMacTable(Store.from_url(lab.sb.redis_url))
    p5 = lab.sb.vm("p5").mac
    assert lab.pings("p5", lab.sb.vm("b5").ip), lab.report()
    assert macs.get(bridge, p5, 5) == trunks["rm-sw1-tap"]
    vab["physical"].plug("p5", "sw2", 5, unplug="sw1")  # the host is now behind switch 2
    for vm in ("b5", "a5"):
        assert lab.pings("p5", lab.sb.vm(vm).ip), lab.report()
    assert macs.get(bridge, p5, 5) == trunks["rm-sw2-tap"]
    assert lab.openflow_errors() == []
