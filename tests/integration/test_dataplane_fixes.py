"""Data-plane behaviours seen by VMs, on a two-host sandbox of its own (``dpf``).

- a packet to a next hop a router has not resolved is held and delivered once the ARP reply
  comes (the first ping is answered; an ICMP error back to an unresolved sender, translated
  back by NAT, arrives);
- a first fragment a router's inbound chain drops is answered with ICMP fragmentation needed,
  once;
- ECMP keeps every fragment of a datagram on one path;
- tunnel packets leave with outer TTL 255.

Hosts h1 and h2 (VXLAN). The VMs:

=====  ====  =================  ============================================================
vm     host  address            use
=====  ====  =================  ============================================================
a      h1    10.1.0.11/24       the sender of the router tests
b      h2    10.1.1.12/24       behind the router from a
v8a    h1    10.8.0.1/24        the tunnel test's sender
v8b    h2    10.8.0.2/24        the tunnel test's receiver
c      h1    10.2.0.10/24       the ECMP sender (and sources 10.2.0.20-31)
d1     h2    192.168.1.2/30     ECMP path 1; also owns 10.9.0.9
d2     h1    192.168.2.2/30     ECMP path 2; also owns 10.9.0.9
=====  ====  =================  ============================================================
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
from tests.support.waiting import wait_until


def _vm(name: str, host: str, ip: str, gateway: str | None, mac: str) -> dict[str, str]:
    spec = {"name": name, "host": host, "interface": f"rm-{name}-tap", "ip": ip, "mac": mac}
    if gateway:
        spec["gateway"] = gateway
    return spec


SANDBOX: dict[str, Any] = {
    "name": "dpf",
    "tunnel": "vxlan",
    "underlay": {"cidr": "10.96.0.0/24"},
    "hosts": [{"name": "h1", "underlay_ip": "10.96.0.1"},
              {"name": "h2", "underlay_ip": "10.96.0.2"}],
    "vms": [
        _vm("a", "h1", "10.1.0.11/24", "10.1.0.1", "02:00:00:00:0f:01"),
        _vm("b", "h2", "10.1.1.12/24", "10.1.1.1", "02:00:00:00:0f:02"),
        _vm("v8a", "h1", "10.8.0.1/24", None, "02:00:00:00:0f:81"),
        _vm("v8b", "h2", "10.8.0.2/24", None, "02:00:00:00:0f:82"),
        _vm("c", "h1", "10.2.0.10/24", "10.2.0.1", "02:00:00:00:0f:0c"),
        _vm("d1", "h2", "192.168.1.2/30", "192.168.1.1", "02:00:00:00:0f:d1"),
        _vm("d2", "h1", "192.168.2.2/30", "192.168.2.1", "02:00:00:00:0f:d2"),
    ],
    "api": False,
    "agent": "default",
}

# Sends each hex-encoded Ethernet frame given as an argument out of eth0, as it is.
SEND_FRAMES = r"""
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
for hexed in sys.argv[1:]:
    s.send(bytes.fromhex(hexed))
"""
# Sends each hex-encoded IPv4 packet given as an argument as it is (the kernel routes it and
# adds the Ethernet header, but neither fragments it nor touches its addresses).
SEND_IP = r"""
import socket, sys
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for hexed in sys.argv[1:]:
    packet = bytes.fromhex(hexed)
    raw.sendto(packet, (socket.inet_ntoa(packet[16:20]), 0))
"""


def checksum(data: bytes) -> int:
    data += b"\0" * (len(data) % 2)
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(src: str, dst: str, proto: int, body: bytes, ident: int = 1, frag: int = 0) -> bytes:
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, frag, 64, proto, 0,
                       socket.inet_aton(src), socket.inet_aton(dst))
    return head[:10] + struct.pack("!H", checksum(head)) + head[12:] + body


def udp_datagram(src: str, dst: str, sport: int, dport: int, size: int, ident: int,
                 mtu: int = 1500) -> list[bytes]:
    """A UDP datagram of ``size`` payload bytes as IPv4 packets of at most ``mtu`` bytes."""
    payload = (bytes(range(256)) * (size // 256 + 1))[:size]
    data = struct.pack("!HHHH", sport, dport, 8 + size, 0) + payload  # no UDP checksum
    step = (mtu - 20) // 8 * 8
    packets = []
    for off in range(0, len(data), step):
        more = 0x2000 if off + step < len(data) else 0
        packets.append(ipv4(src, dst, 17, data[off:off + step], ident, more | off // 8))
    return packets


def ethernet(src: str, dst: str, eth_type: int, body: bytes) -> bytes:
    return bytes.fromhex(dst.replace(":", "") + src.replace(":", "")) + struct.pack(
        "!H", eth_type) + body


@pytest.fixture(scope="module")
def lab_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    run_dir: Path = tmp_path_factory.mktemp("dpf")
    with Sandbox.from_yaml(SANDBOX, run_dir) as sb:
        yield Lab(sb, run_dir)


@pytest.fixture
def lab(lab_module: Lab) -> Iterator[Lab]:
    lab_module.wipe()
    lab_module.openflow_errors()
    yield lab_module
    lab_module.wipe()
    assert lab_module.openflow_errors() == []


def send_frames(lab: Lab, vm: str, frames: list[bytes]) -> None:
    done = lab.exec(vm, ["python3", "-c", SEND_FRAMES, *(f.hex() for f in frames)])
    assert done.returncode == 0, done


def send_ip(lab: Lab, vm: str, packets: list[bytes]) -> None:
    done = lab.exec(vm, ["python3", "-c", SEND_IP, *(p.hex() for p in packets)])
    assert done.returncode == 0, done


def router_between_a_and_b(lab: Lab) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new router (an empty ARP table) with a on one port and b on another."""
    router = lab.router("r")
    a_side = lab.router_port(router, "10.1.0.1/24", "a")
    lab.router_port(router, "10.1.1.1/24", "b")
    return router, lab.topo.get("port", a_side["id"])


def plugged(lab: Lab, *vms: str) -> None:
    """Wait until the agents plugged these VMs' ports, and give the others a moment to see
    the bindings."""
    def done() -> bool:
        for vm in vms:
            spec = lab.sb.vm(vm)
            if spec.interface not in spec.host.vsctl("list-ports", spec.host.bridge):
                return False
        return True
    assert wait_until(done, timeout=10), lab.report()
    time.sleep(1.0)


def chain_with(lab: Lab, *rules: dict[str, Any]) -> dict[str, Any]:
    chain = lab.build.chain("c")
    for position, rule in enumerate(rules, start=1):
        lab.build.rule(chain, pos=position, **rule)
    return chain


# -- next hops being resolved ----------------------------------------------------------------

def test_first_ping_to_an_unresolved_host_is_answered(lab: Lab) -> None:
    router_between_a_and_b(lab)
    plugged(lab, "a", "b")
    out = lab.ping("a", "10.1.1.12", count=1, timeout=3.0)
    assert "1 received" in out, out + lab.report()


def test_ttl_expiring_on_a_cached_flow_gets_time_exceeded(lab: Lab) -> None:
    """Once a routed flow is on the switch, a packet whose TTL its dec_ttl would expire is
    handed to the agent (the switch is asked for such packet-ins), which answers time
    exceeded from the router."""
    router_between_a_and_b(lab)
    plugged(lab, "a", "b")
    assert "1 received" in lab.ping("a", "10.1.1.12", count=1, timeout=3.0), lab.report()
    # the same flow (ICMP echo a -> b) now comes with TTL 1
    done = lab.exec("a", ["ping", "-n", "-c", "1", "-t", "1", "-W", "2", "10.1.1.12"])
    assert "Time to live exceeded" in done.stdout and "10.1.0.1" in done.stdout, (
        done.stdout + lab.report())


def test_icmp_error_back_to_an_unresolved_sender_arrives_translated(lab: Lab) -> None:
    """a sends one UDP datagram as a raw frame (so the router never hears of a) to
    10.1.5.5:5000, DNATed to b's closed port 5999; b's port unreachable comes back to a,
    which the router must resolve first, translated back to 10.1.5.5:5000."""
    router, a_side = router_between_a_and_b(lab)
    inbound = chain_with(lab, {"type": "dnat", "nwDstAddress": "10.1.5.5", "nwDstLength": 32,
                               "nwProto": 17, "flowAction": "accept",
                               "natTargets": [{"addressFrom": "10.1.1.12",
                                               "addressTo": "10.1.1.12",
                                               "portFrom": 5999, "portTo": 5999}]})
    outbound = chain_with(lab, {"type": "rev_dnat", "flowAction": "accept"})
    lab.topo.update("router", router["id"], {"inboundFilterId": inbound["id"],
                                            "outboundFilterId": outbound["id"]})
    plugged(lab, "a", "b")
    datagram = udp_datagram("10.1.0.11", "10.1.5.5", 4321, 5000, 16, ident=7)[0]
    frame = ethernet(lab.sb.vm("a").mac, a_side["portMac"], 0x0800, datagram)
    with lab.sniff("a", "icmp or arp", verbose=False) as cap:
        send_frames(lab, "a", [frame])
        time.sleep(2.5)  # within the time a packet may wait for ARP
    text = "\n".join(cap.lines)
    assert "10.1.5.5 > 10.1.0.11: ICMP 10.1.5.5 udp port 5000 unreachable" in text, (
        text + lab.report())
    assert "Request who-has 10.1.0.11 tell 10.1.0.1" in text  # a was resolved first


# -- fragments --------------------------------------------------------------------------------

def test_dropped_first_fragment_gets_fragmentation_needed_once(lab: Lab) -> None:
    router, _ = router_between_a_and_b(lab)
    assert lab.pings("a", "10.1.1.12"), lab.report()
    infilter = chain_with(lab, {"type": "drop", "nwProto": 17,
                                "tpDst": {"start": 7777, "end": 7777},
                                "fragmentPolicy": "header"})
    lab.topo.update("router", router["id"], {"inboundFilterId": infilter["id"]})
    time.sleep(1.0)  # the agents have the chain
    fragments = udp_datagram("10.1.0.11", "10.1.1.12", 4000, 7777, 3000, ident=4242)
    assert len(fragments) == 3
    with lab.sniff("a", "icmp", verbose=False) as cap, \
            lab.sniff("b", "udp or (ip[6:2] & 0x1fff != 0)", verbose=False) as at_b:
        send_ip(lab, "a", fragments)
        time.sleep(1.5)
    answers = [line for line in cap.lines if "need to frag" in line]
    assert len(answers) == 1, "\n".join(cap.lines) + lab.report()
    assert "10.1.0.1 > 10.1.0.11: ICMP 10.1.1.12 unreachable - need to frag" in answers[0]
    # the later fragments were let through (they do not match a port rule), the first not
    assert len(at_b.lines) == 2, at_b.lines


def test_ecmp_delivers_fragmented_datagrams_whole(lab: Lab) -> None:
    """Two equal routes to 10.9.0.9, through d1 and d2 (both own it): each datagram is
    reassembled by one of them only if all its fragments took the same path."""
    router = lab.router("ecmp")
    lab.router_port(router, "10.2.0.1/24", "c")
    up1 = lab.router_port(router, "192.168.1.1/30", "d1")
    up2 = lab.router_port(router, "192.168.2.1/30", "d2")
    lab.route(router, "10.9.0.9/32", up1, gw="192.168.1.2")
    lab.route(router, "10.9.0.9/32", up2, gw="192.168.2.2")
    sources = [f"10.2.0.{n}" for n in range(20, 32)]
    for vm in ("d1", "d2"):
        lab.exec(vm, ["ip", "addr", "replace", "10.9.0.9/32", "dev", "lo"])
    for src in sources:
        lab.exec("c", ["ip", "addr", "replace", f"{src}/24", "dev", "eth0"])
    try:
        for vm, gw in (("d1", "192.168.1.1"), ("d2", "192.168.2.1"), ("c", "10.2.0.1")):
            assert lab.pings(vm, gw), lab.report()
        before = {vm: lab.snmp(vm, "Ip", "ReasmOKs") for vm in ("d1", "d2")}
        packets = []
        for n, src in enumerate(sources):
            for sport in (5000, 6000):
                packets += udp_datagram(src, "10.9.0.9", sport + n, 9999, 4000,
                                        ident=1000 + 2 * n + sport // 1000)
        send_ip(lab, "c", packets)
        whole = len(sources) * 2

        def reassembled() -> dict[str, int]:
            return {vm: lab.snmp(vm, "Ip", "ReasmOKs") - before[vm] for vm in before}

        wait_until(lambda: sum(reassembled().values()) >= whole, timeout=5)
        got = reassembled()
        assert sum(got.values()) == whole, (got, lab.report())
        assert all(got.values()), got  # both paths were used
    finally:
        for src in sources:
            lab.exec("c", ["ip", "addr", "del", f"{src}/24", "dev", "eth0"])
        for vm in ("d1", "d2"):
            lab.exec(vm, ["ip", "addr", "del", "10.9.0.9/32", "dev", "lo"])


# -- tunnels ----------------------------------------------------------------------------------

def test_tunnel_packets_leave_with_outer_ttl_255(lab: Lab) -> None:
    bridge = lab.bridge("plain")
    lab.plug(bridge, "v8a")
    lab.plug(bridge, "v8b")
    assert lab.pings("v8a", "10.8.0.2"), lab.report()
    with lab.sb.capture("-v udp port 6677") as cap:
        assert "2 received" in lab.ping("v8a", "10.8.0.2", count=2)
    outer = [line for line in cap.lines if "proto UDP (17)" in line]
    assert len(outer) >= 4, cap.lines
    assert all("ttl 255" in line for line in outer), outer
