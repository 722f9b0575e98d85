"""Source NAT in a real Open vSwitch's connection tracker, from flow specs, and the fake
switch's model of it on the same flows and packets.

One userspace switch (sandbox ``ct``, no agent) routes between VM ``a`` (10.1.0.11, also
10.1.0.21) and VM ``b`` (10.2.0.12), with the pipeline of :mod:`tests.support.ctflows`: TCP
to b's port 8080 is translated to 10.2.0.100, ports 40000-40003; TCP to 8081 and UDP to 5353
to 10.2.0.100 with no port range; TCP to 10.2.0.200 port 80 goes to b's port 8081. The
flows reach the switch as the agent's messages do: the
os-ken flow-mods of :mod:`ryu_midonet.datapath.ofmsgs`, as bytes, over the bridge's OpenFlow
management socket. b answers every connection with the address and port it saw.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as parser

from ryu_midonet.datapath import ofmsgs
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath.fakeswitch import FakeSwitch
from ryu_midonet.datapath.flows import FlowSpec, Nat, ct_state, output, set_field
from ryu_midonet.datapath.translator import snat_actions
from ryu_midonet.sandbox import Sandbox
from ryu_midonet.sandbox.capture import Capture
from ryu_midonet.sandbox.host import Host
from ryu_midonet.sim.core.model import DatapathSnat
from tests.support.ctflows import CT_TABLES, GATEWAY_MAC, IP, Side, snat_flows, tcp

SANDBOX: dict[str, Any] = {
    "name": "ct",
    "underlay": {"cidr": "10.93.0.0/24"},
    "tunnel_port": False,
    "hosts": [{"name": "h1"}],
    "vms": [
        {"name": "a", "host": "h1", "interface": "rm-cta-tap", "ip": "10.1.0.11/24",
         "gateway": "10.1.0.1", "mac": "02:00:00:00:93:0a"},
        {"name": "b", "host": "h1", "interface": "rm-ctb-tap", "ip": "10.2.0.12/24",
         "gateway": "10.2.0.1", "mac": "02:00:00:00:93:0b"},
    ],
    "api": False,
    "agent": "none",
}
NAT_IP = "10.2.0.100"
A_SECOND = "10.1.0.21"
VIRTUAL = "10.2.0.200"
RANGE = Nat("src", (NAT_IP, NAT_IP), (40000, 40003))
PLAIN = Nat("src", (NAT_IP, NAT_IP))
TO_B = Nat("dst", ("10.2.0.12", "10.2.0.12"), (8081, 8081))
SERVICES = [(6, 8080, RANGE), (6, 8081, PLAIN), (17, 5353, PLAIN), (6, 80, TO_B)]
SYN = 0x02

# b: answer each TCP connection on 8080 and 8081 with the peer's "address:port", then close.
SERVER = r"""
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in (8080, 8081):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    sel.register(s, selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        conn, peer = key.fileobj.accept()
        conn.sendall(f"{peer[0]}:{peer[1]}".encode())
        conn.close()
"""
# a: one TCP connection per (source address, source port, port[, address]) argument (to b
# by default); prints what b saw (or the error) for each, as JSON.
CLIENT = r"""
import json, socket, sys
seen = []
for arg in sys.argv[2:]:
    src, sport, dport, dst = (arg + ",10.2.0.12").split(",")[:4]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(float(sys.argv[1]))
    try:
        s.bind((src, int(sport)))
        s.connect((dst, int(dport)))
        seen.append(s.recv(100).decode())
    except OSError as exc:
        seen.append(type(exc).__name__)
    s.close()
print(json.dumps(seen))
"""
# a: one UDP datagram to b's port 5353 (nobody listens) on a connected socket; prints what the
# next receive says (the ICMP port unreachable, when it arrives and names this socket).
UDP_PROBE = r"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.bind(("10.1.0.11", 5000))
s.connect(("10.2.0.12", 5353))
s.send(b"?")
try:
    s.recv(100)
    print("answered")
except OSError as exc:
    print(type(exc).__name__)
"""


class _Wire:
    """What :mod:`ofmsgs` needs of a datapath, to serialise messages."""

    ofproto = ofp
    ofproto_parser = parser
    id = 1


def send_flows(host: Host, flows: list[FlowSpec]) -> None:
    """Send ``flows`` to br-int as the agent sends them (the same os-ken messages, as bytes)
    over its OpenFlow management socket; fail on any OpenFlow error."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(host.run_dir / f"{host.bridge}.mgmt"))
        sock.sendall(struct.pack("!BBHI", ofp.OFP_VERSION, ofp.OFPT_HELLO, 8, 1))
        wire: list[bytes] = []
        for xid, flow in enumerate(flows, start=2):
            msg = ofmsgs.to_ofp(_Wire(), flow)
            msg.set_xid(xid)
            msg.serialize()
            wire.append(bytes(msg.buf))
        barrier = len(flows) + 2
        sock.sendall(b"".join(wire) + struct.pack("!BBHI", ofp.OFP_VERSION,
                                                  ofp.OFPT_BARRIER_REQUEST, 8, barrier))
        errors = []
        while True:
            version, kind, length, xid = struct.unpack("!BBHI", _read(sock, 8))
            body = _read(sock, length - 8)
            if kind == ofp.OFPT_ERROR:
                errors.append(_ofp_print(struct.pack("!BBHI", version, kind, length, xid)
                                         + body))
            if kind == ofp.OFPT_BARRIER_REPLY and xid == barrier:
                break
        assert errors == []


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the switch closed the OpenFlow connection")
        data += chunk
    return data


def _ofp_print(data: bytes) -> str:
    return subprocess.run(["ovs-ofctl", "ofp-print", data.hex()], capture_output=True,
                          text=True, check=False).stdout


class Setup:
    """The sandbox with its flows, and the switch sides of a and b."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.host = sb.host("h1")
        a, b = sb.vm("a"), sb.vm("b")
        self.a = Side(self.host.plug(a.interface), a.mac, a.ip)
        self.b = Side(self.host.plug(b.interface), b.mac, b.ip)
        self.flows = snat_flows(self.a, self.b, SERVICES, virtual=VIRTUAL)

    def client(self, *connections: tuple[str, int, int] | tuple[str, int, int, str],
               timeout: float = 3.0) -> list[str]:
        args = [",".join(map(str, conn)) for conn in connections]
        done = self.sb.vm("a").exec(["python3", "-c", CLIENT, str(timeout), *args],
                                    timeout=len(args) * timeout + 10)
        assert done.returncode == 0, done.stderr
        seen: list[str] = json.loads(done.stdout)
        return seen

    def fake(self) -> FakeSwitch:
        switch = FakeSwitch(tables=CT_TABLES)
        switch.apply(self.flows)
        return switch

    def fake_translation(self, switch: FakeSwitch, src: str, sport: int, port: int) -> str:
        """What b sees of a connection's SYN through the fake switch ("" when dropped)."""
        side = Side(self.a.port, self.a.mac, src)
        outputs = switch.process(tcp(side, self.b.ip, sport, port, SYN)).outputs
        return "".join(f"{pkt['ipv4_src']}:{pkt['tcp_src']}" for _, pkt in outputs)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    run_dir: Path = tmp_path_factory.mktemp("ct")
    with Sandbox.from_yaml(SANDBOX, run_dir) as sb:
        a, b = sb.vm("a"), sb.vm("b")
        a.exec(["ip", "addr", "add", f"{A_SECOND}/24", "dev", a.nic], check=True)
        a.exec(["ip", "neigh", "replace", "10.1.0.1", "lladdr", GATEWAY_MAC, "dev", a.nic],
               check=True)
        for ip in ("10.2.0.1", NAT_IP):
            b.exec(["ip", "neigh", "replace", ip, "lladdr", GATEWAY_MAC, "dev", b.nic],
                   check=True)
        lab = Setup(sb)
        send_flows(lab.host, lab.flows)
        server = subprocess.Popen(["ip", "netns", "exec", b.netns, "python3", "-c", SERVER],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None and server.stdout.readline().strip() == "ready"
            yield lab
        finally:
            server.kill()
            server.wait(timeout=10)


def test_connections_through_a_port_range_take_every_port_then_fail(setup: Setup) -> None:
    """Four connections get the four ports of the range (b sees the NAT address), the fifth
    none; the fake switch gives the same four translations and drops the fifth."""
    wanted = [("10.1.0.11", 33000 + n, 8080) for n in range(1, 6)]
    seen = setup.client(*wanted[:4])
    assert sorted(seen) == [f"{NAT_IP}:{port}" for port in range(40000, 40004)]
    assert setup.client(wanted[4], timeout=1.0) == ["TimeoutError"]
    switch = setup.fake()
    modelled = [setup.fake_translation(switch, *conn) for conn in wanted]
    assert sorted(modelled[:4]) == sorted(seen) and modelled[4] == ""


def test_connections_without_a_port_range_keep_their_port_unless_taken(setup: Setup) -> None:
    """The same source port from two addresses of a: the first keeps it, the second gets the
    next one, on the real switch and in the fake one alike."""
    wanted = [("10.1.0.11", 34567, 8081), (A_SECOND, 34567, 8081), ("10.1.0.11", 34600, 8081)]
    seen = setup.client(*wanted)
    assert seen == [f"{NAT_IP}:34567", f"{NAT_IP}:34568", f"{NAT_IP}:34600"]
    switch = setup.fake()
    assert [setup.fake_translation(switch, *conn) for conn in wanted] == seen


def test_connections_to_a_virtual_address_reach_b_and_replies_come_from_it(
        setup: Setup) -> None:
    """Destination NAT: b sees a's own address and port; a's connection (to the virtual
    address) completes, so replies came back from it; the fake switch sends the SYN to b's
    port 8081 and the SYN+ACK back from the virtual address."""
    seen = setup.client(("10.1.0.11", 35001, 80, VIRTUAL))
    assert seen == ["10.1.0.11:35001"]
    switch = setup.fake()
    (port, syn), = switch.process(tcp(setup.a, VIRTUAL, 35002, 80, SYN)).outputs
    assert port == setup.b.port
    assert (syn["ipv4_src"], syn["tcp_src"], syn["ipv4_dst"], syn["tcp_dst"]) == (
        "10.1.0.11", 35002, "10.2.0.12", 8081)
    reply = tcp(setup.b, "10.1.0.11", 8081, 35002, SYN | 0x10)
    (port, back), = switch.process(reply).outputs
    assert (port, back["ipv4_src"], back["tcp_src"]) == (setup.a.port, VIRTUAL, 80)


def test_an_icmp_error_about_a_translated_datagram_reaches_its_sender(setup: Setup) -> None:
    """b's port unreachable quotes the translated datagram; the switch translates the quote
    back, so a's socket learns of the refusal. The fake switch, given the same datagram and
    then the error b sent, gives a the same error, quote and checksums included."""
    a, b = setup.sb.vm("a"), setup.sb.vm("b")
    with Capture(b.netns, b.nic, "-xx icmp", setup.sb.run_dir) as sent, \
            Capture(a.netns, a.nic, "-xx icmp", setup.sb.run_dir) as received:
        done = a.exec(["python3", "-c", UDP_PROBE], timeout=15)
    assert done.stdout.strip() == "ConnectionRefusedError", done.stdout + done.stderr
    (error,), (arrived,) = frames(sent.lines), frames(received.lines)
    switch = setup.fake()
    datagram = {"in_port": setup.a.port, "eth_src": setup.a.mac, "eth_dst": GATEWAY_MAC,
                "eth_type": 0x0800, "ipv4_src": setup.a.ip, "ipv4_dst": setup.b.ip,
                "ip_proto": 17, "udp_src": 5000, "udp_dst": 5353}
    (_, out), = switch.process(datagram).outputs
    assert (out["ipv4_src"], out["udp_src"]) == (NAT_IP, 5000)
    error_in = {"in_port": setup.b.port, "eth_src": setup.b.mac, "eth_dst": GATEWAY_MAC,
                "eth_type": 0x0800, "ipv4_src": _ip(error[26:30]),
                "ipv4_dst": _ip(error[30:34]), "ip_proto": 1, "icmpv4_type": error[34],
                "icmpv4_code": error[35], "payload": error[42:]}
    (port, modelled), = switch.process(error_in).outputs
    assert port == setup.a.port
    assert (modelled["ipv4_src"], modelled["ipv4_dst"]) == (_ip(arrived[26:30]),
                                                            _ip(arrived[30:34]))
    assert modelled["payload"] == arrived[42:]
    assert arrived[42 + 26:42 + 28] != b"\0\0"  # the quote's UDP checksum was updated too


def test_a_connection_the_tracker_cannot_translate_still_leaves_with_the_nat_address(
        setup: Setup) -> None:
    """The translator's source NAT on a range of one port: the second connection finds no
    free port and the tracker passes it on untranslated, but the NAT address is set again
    after the ``ct``, so b sees only the NAT address, never a's own."""
    snat = DatapathSnat("exhausted", NAT_IP, 40010, 40010)
    match = {"in_port": setup.a.port, **IP, "ip_proto": 6, "ipv4_dst": setup.b.ip,
             "tcp_dst": 8090, "ct_state": ct_state(trk=True)}
    actions = (set_field("eth_src", GATEWAY_MAC), set_field("eth_dst", setup.b.mac),
               *snat_actions(snat), output(setup.b.port))
    send_flows(setup.host, [FlowSpec(p.TABLE_FLOWS, 250, match, actions)])
    b = setup.sb.vm("b")
    with Capture(b.netns, b.nic, "tcp dst port 8090", setup.sb.run_dir) as arrived:
        setup.client(("10.1.0.11", 36001, 8090), ("10.1.0.11", 36002, 8090), timeout=1.0)
    sources = set(re.findall(r"length \d+: (\S+) > ", "\n".join(arrived.lines)))
    assert sources == {f"{NAT_IP}.40010", f"{NAT_IP}.36002"}, arrived.lines


def frames(lines: list[str]) -> list[bytes]:
    """The frames of ``tcpdump -xx`` output."""
    found: list[bytes] = []
    for line in lines:
        head, _, rest = line.strip().partition(":")
        if head.startswith("0x"):
            found[-1] += bytes.fromhex("".join(rest.split()))
        else:
            found.append(b"")
    return found


def _ip(data: bytes) -> str:
    return ".".join(map(str, data))
