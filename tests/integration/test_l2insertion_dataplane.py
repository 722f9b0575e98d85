"""L2 insertion with real traffic, on a two-host sandbox of its own (``l2i``).

Bridge0 holds the protected VM ``vm1`` (host h1) and ``vm2`` (host h2); bridge1 holds the
service ports of two service functions, ``sf1`` (h2) and ``sf2`` (h1): namespaces whose only
interface is enslaved to a Linux bridge in hairpin mode, a bump in the wire that sends every
frame back out as it came, VLAN tag included. Two insertions (vlan 10 then vlan 20) protect
vm1's MAC on its port; pings and TCP between vm1 and vm2 pass sf1 then sf2 both ways, and
each function sees them tagged with its VLAN and the direction's priority (PCP 1 from vm1,
2 to it); other frames sent into a service port are dropped. Removing the insertions makes
traffic go direct. With sf1's link down, a fail-open
insertion is skipped (traffic passes sf2 alone) and a fail-closed one stops the traffic.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chainlab import Lab

from ryu_midonet.sandbox import Sandbox
from ryu_midonet.sandbox.config import DEFAULT_AGENT
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

VM1_MAC = "fa:16:3e:a4:dd:58"


def _vm(name: str, host: str, ip: str, mac: str) -> dict[str, str]:
    return {"name": name, "host": host, "interface": f"rm-{name}-tap", "ip": ip, "mac": mac}


SANDBOX: dict[str, Any] = {
    "name": "l2i",
    "tunnel": "vxlan",
    "underlay": {"cidr": "10.80.0.0/24"},
    "hosts": [{"name": "h1", "underlay_ip": "10.80.0.1"},
              {"name": "h2", "underlay_ip": "10.80.0.2"}],
    "vms": [
        _vm("vm1", "h1", "10.50.0.1/24", VM1_MAC),
        _vm("vm2", "h2", "10.50.0.2/24", "02:00:00:00:50:02"),
        _vm("sf1", "h2", "10.51.0.1/24", "02:00:00:00:51:01"),
        _vm("sf2", "h1", "10.51.0.2/24", "02:00:00:00:51:02"),
    ],
    "api": True,
    "agent": {"command": DEFAULT_AGENT + " ryu_midonet.apps.service_insertion"},
}
# The service function: eth0 in a bridge that hands every frame back out of eth0.
BUMP = ("ip addr flush dev eth0 && ip link add br0 type bridge && "
        "ip link set eth0 master br0 && bridge link set dev eth0 hairpin on && "
        "ip link set br0 up")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    run_dir: Path = tmp_path_factory.mktemp("l2i")
    with Sandbox.from_yaml(SANDBOX, run_dir) as sb:
        lab = Lab(sb, run_dir)
        for sf in ("sf1", "sf2"):
            done = lab.exec(sf, ["sh", "-c", BUMP])
            assert done.returncode == 0, done
        yield lab


def plugged(lab: Lab, *vms: str) -> None:
    """Wait until the agents plugged these VMs' ports, and give the others a moment."""
    def done() -> bool:
        return all(lab.sb.vm(vm).interface in lab.sb.vm(vm).host.vsctl(
            "list-ports", lab.sb.vm(vm).host.bridge) for vm in vms)
    assert wait_until(done, timeout=10), lab.report()
    time.sleep(1.0)


def _insertions(lab: Lab) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    bridge0, bridge1 = lab.bridge("bridge0"), lab.bridge("bridge1")
    port1 = lab.plug(bridge0, "vm1")
    lab.plug(bridge0, "vm2")
    made = []
    for pos, (sf, vlan) in enumerate((("sf1", 10), ("sf2", 20))):
        srv = lab.plug(bridge1, sf)
        made.append(lab.topo.create("l2Insertion", {
            "portId": port1["id"], "srvPortId": srv["id"], "mac": VM1_MAC, "vlan": vlan,
            "position": pos, "failOpen": True}))
    plugged(lab, "vm1", "vm2", "sf1", "sf2")
    return made, port1


def _seen(lines: list[str], vlan: int, pcp: int) -> int:
    return sum(1 for line in lines if f"vlan {vlan}, p {pcp}," in line)


def test_traffic_passes_both_functions_in_order_both_ways(lab: Lab) -> None:
    made, _ = _insertions(lab)
    try:
        with lab.sniff("sf1", "icmp or vlan", verbose=False) as c1, \
                lab.sniff("sf2", "icmp or vlan", verbose=False) as c2:
            assert lab.pings("vm1", "10.50.0.2"), lab.report()
            out = lab.ping("vm1", "10.50.0.2", count=3, timeout=3.0)
            assert "3 received" in out, out + lab.report()
        seen1, seen2 = c1.lines, c2.lines
        # each echo request (from vm1) and reply (to vm1) passes each function, tagged
        for seen, vlan in ((seen1, 10), (seen2, 20)):
            assert _seen(seen, vlan, 1) >= 3 and _seen(seen, vlan, 2) >= 3, (seen, lab.report())
            assert all("vlan" in line for line in seen if "ICMP" in line), seen
        server = lab.server("vm2", 8080)
        try:
            with lab.sniff("sf2", "vlan and tcp", verbose=False) as c:
                assert lab.eventually_connects("vm1", "10.50.0.2", 8080), lab.report()
            tcp = c.lines
            assert _seen(tcp, 20, 1) and _seen(tcp, 20, 2), tcp
        finally:
            server.stop()

        # without the insertions, straight from vm1 to vm2
        for ins in made:
            lab.topo.delete("l2Insertion", ins["id"])
        with lab.sniff("sf1", "", verbose=False) as c1:
            out = lab.ping("vm1", "10.50.0.2", count=2, timeout=3.0)
            assert "2 received" in out, out + lab.report()
        assert not [line for line in c1.lines if "ICMP" in line]
    finally:
        lab.wipe()


def _link(lab: Lab, sf: str, port: dict[str, Any], up: bool) -> None:
    """Take ``sf``'s link up or down and wait until its agent reported it."""
    done = lab.exec(sf, ["ip", "link", "set", "eth0", "up" if up else "down"])
    assert done.returncode == 0, done
    assert wait_until(lambda: lab.topo.get("port", port["id"]).get("linkUp") is up,
                      timeout=10), lab.report()
    time.sleep(0.5)  # the other agents' caches


def test_a_down_function_is_skipped_when_fail_open_and_stops_traffic_otherwise(
        lab: Lab) -> None:
    made, _ = _insertions(lab)
    srv1 = lab.topo.get("port", made[0]["srvPortId"])
    try:
        assert lab.pings("vm1", "10.50.0.2"), lab.report()
        _link(lab, "sf1", srv1, up=False)
        with lab.sniff("sf2", "vlan", verbose=False) as c2:
            out = lab.ping("vm1", "10.50.0.2", count=2, timeout=3.0)
            assert "2 received" in out, out + lab.report()
        assert _seen(c2.lines, 20, 1) >= 2 and _seen(c2.lines, 20, 2) >= 2, c2.lines
        lab.topo.update("l2Insertion", made[0]["id"], {"failOpen": False})
        assert lab.no_reply("vm1", "10.50.0.2"), lab.report()
        _link(lab, "sf1", srv1, up=True)
        assert lab.pings("vm1", "10.50.0.2"), lab.report()
    finally:
        lab.exec("sf1", ["ip", "link", "set", "eth0", "up"])
        lab.wipe()


# Sends one UDP frame (hex-encoded, argv[1]) out of eth0, as it is.
SEND_FRAME = r"""
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
s.send(bytes.fromhex(sys.argv[1]))
"""


def _udp_frame(src: str, dst: str, vlan: int | None = None) -> bytes:
    """A UDP datagram 10.51.0.1:7 -> 10.50.0.2:9 (no checksums) in an Ethernet frame."""
    udp = struct.pack("!HHHH", 7, 9, 12, 0) + b"sfsf"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton("10.51.0.1"), socket.inet_aton("10.50.0.2"))
    tag = b"" if vlan is None else struct.pack("!HH", 0x8100, (1 << 13) | vlan)
    return (bytes.fromhex(dst.replace(":", "") + src.replace(":", "")) + tag
            + struct.pack("!H", 0x0800) + ip + udp)


def test_other_traffic_into_a_service_port_is_dropped(lab: Lab) -> None:
    _insertions(lab)
    vm2_mac = "02:00:00:00:50:02"
    try:
        assert lab.pings("vm1", "10.50.0.2"), lab.report()  # every path is known
        with lab.sniff("vm2", "udp port 9", verbose=False) as cap:
            for frame in (_udp_frame("02:00:00:00:51:01", vm2_mac),  # the SF's own
                          _udp_frame(VM1_MAC, vm2_mac, vlan=11),  # not its VLAN
                          _udp_frame(VM1_MAC, vm2_mac)):  # untagged
                done = lab.exec("sf1", ["python3", "-c", SEND_FRAME, frame.hex()])
                assert done.returncode == 0, done
            time.sleep(1.0)
        assert cap.lines == [], cap.lines
        with lab.sniff("vm2", "udp port 9", verbose=False) as cap:
            done = lab.exec("vm1", ["python3", "-c", SEND_FRAME,
                                    _udp_frame(VM1_MAC, vm2_mac).hex()])
            assert done.returncode == 0, done
            time.sleep(1.0)
        assert len(cap.lines) == 1, (cap.lines, lab.report())  # the same frame, inserted
    finally:
        lab.wipe()
