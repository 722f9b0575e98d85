"""A two-host sandbox for the rule-chain, NAT and connection-tracking tests, and its helpers.

Hosts ``os004`` (named after the host of the guide's SNAT lab) and ``h2``, joined by VXLAN.
The VMs, and what they are for:

=====  =====  ================  ================================================================
vm     host   address           use
=====  =====  ================  ================================================================
a      os004  172.16.3.3/24     the guide's VM: fixed IP of the floating IP 198.51.100.3, and
                                the anti-spoofing example (its MAC is the guide's)
b      h2     172.16.3.4/24     a second VM on that network, without floating IP
o      os004  203.0.113.10/24   outside: the Internet side of the NAT examples, a source outside
                                10.0.0.0/16 for the chapter 7 conditions
n1     h2     10.0.1.5/24       inside 10.0.0.0/16, outside 10.0.5.0/24; the fragment client
n5     os004  10.0.5.5/24       in 10.0.5.0/24; the web server of the fragment examples
s      h2     10.100.1.150/24   the DNAT target of the chapter 8 dnat-test chain
ext    h2     192.168.7.1/24    the far side of the SNAT lab's edge router
x      os004  192.0.2.2/30      an outside router with two uplinks (the second interface, on
                                h2, is made by the test that needs it)
m1     os004  10.20.0.1/24      MACs 12:34:56:..., which the L2-masking example's hw-src rule
m2     h2     10.20.0.2/24      lets through
=====  =====  ================  ================================================================

:class:`Lab` builds topologies through the topology store, runs ``midonet-cli`` against the
sandbox's REST API, and removes every virtual device after each test (so CLI aliases number
from zero again). Not a test module: pytest does not collect it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cli_guide_helpers import Cli

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.sandbox import Sandbox
from ryu_midonet.sandbox.capture import Capture
from tests.support import credentials, sandboxview
from tests.support.topology import StoreTopology
from tests.support.waiting import wait_until

# the miss flows' cookies: the table-miss flow's and each local port's (0x04 then its tunnel key)
MISS_COOKIE = r"cookie=0x4[0-9a-f]{14},"


def _vm(name: str, host: str, ip: str, gateway: str | None = None, mac: str | None = None
        ) -> dict[str, str]:
    spec = {"name": name, "host": host, "interface": f"rm-{name}-tap", "ip": ip}
    if gateway:
        spec["gateway"] = gateway
    if mac:
        spec["mac"] = mac
    return spec


SANDBOX: dict[str, Any] = {
    "name": "ch",
    "tunnel": "vxlan",
    "underlay": {"cidr": "10.97.0.0/24"},
    "hosts": [{"name": "os004", "underlay_ip": "10.97.0.1"},
              {"name": "h2", "underlay_ip": "10.97.0.2"}],
    "vms": [
        _vm("a", "os004", "172.16.3.3/24", "172.16.3.1", "fa:16:3e:fb:19:07"),
        _vm("b", "h2", "172.16.3.4/24", "172.16.3.1", "02:00:00:00:0c:04"),
        _vm("o", "os004", "203.0.113.10/24", "203.0.113.1", "02:00:00:00:0c:0a"),
        _vm("n1", "h2", "10.0.1.5/24", "10.0.1.1", "02:00:00:00:0c:15"),
        _vm("n5", "os004", "10.0.5.5/24", "10.0.5.1", "02:00:00:00:0c:55"),
        _vm("s", "h2", "10.100.1.150/24", "10.100.1.1", "02:00:00:00:0c:50"),
        _vm("ext", "h2", "192.168.7.1/24", None, "02:00:00:00:0c:07"),
        _vm("x", "os004", "192.0.2.2/30", None, "02:00:00:00:0c:02"),
        _vm("m1", "os004", "10.20.0.1/24", None, "12:34:56:00:00:01"),
        _vm("m2", "h2", "10.20.0.2/24", None, "12:34:56:00:00:02"),
    ],
    "api": True,
    "agent": "default",
}
# The order devices are deleted in: rules first (chains), then what rules refer to.
WIPE_ORDER = ("chain", "portGroup", "ipAddrGroup", "router", "bridge")

# A TCP echo server: one line "PEER_IP PEER_PORT" per accepted connection on stdout.
SERVER = r"""
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(64)
print("listening", flush=True)
def serve(c):
    with c:
        while True:
            data = c.recv(4096)
            if not data:
                return
            c.sendall(data)
while True:
    c, peer = s.accept()
    print(peer[0], peer[1], flush=True)
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""
# One exchange with the echo server; exit status 0 when the echo came back.
CLIENT = r"""
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
    c.settimeout(float(sys.argv[3]))
    c.sendall(b"hello")
    sys.exit(0 if c.recv(64) == b"hello" else 1)
except OSError as exc:
    print(exc)
    sys.exit(1)
"""
# UDP datagrams to a port nobody listens on; exit status 0 when the ICMP port unreachable
# that comes back reaches the socket (it quotes the datagram as the socket sent it).
UDP_REFUSED = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
s.connect((sys.argv[1], int(sys.argv[2])))
for _ in range(int(sys.argv[3])):
    try:
        s.send(b"anyone there?")
        s.recv(64)
    except ConnectionRefusedError:
        sys.exit(0)
    except OSError:
        pass
sys.exit(1)
"""
# One connection kept open, exchanging a numbered message every 0.1 s; prints the count of
# echoes received so far after each one; exits when the connection fails.
STREAM = r"""
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
c.settimeout(60)
n = 0
while True:
    msg = b"%08d" % n
    c.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = c.recv(len(msg) - len(got))
        if not chunk:
            sys.exit(1)
        got += chunk
    if got != msg:
        sys.exit(2)
    n += 1
    print(n, flush=True)
    time.sleep(0.1)
"""
# A TCP SYN carrying SIZE bytes, sent as IPv4 fragments of at most 1500 bytes through a raw
# socket (the kernel does not fragment raw packets itself): SRC DST DPORT SIZE IP-ID.
FRAGMENTS = r"""
import socket, struct, sys
def checksum(data):
    data += b"\0" * (len(data) % 2)
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
src, dst = sys.argv[1], sys.argv[2]
dport, size, ident = (int(arg) for arg in sys.argv[3:6])
payload = (bytes(range(256)) * (size // 256 + 1))[:size]
sport = 40000 + ident % 20000
head = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(head) + size)
head = head[:16] + struct.pack("!H", checksum(pseudo + head + payload)) + head[18:]
data = head + payload
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
step = 1480
for off in range(0, len(data), step):
    chunk = data[off:off + step]
    more = 0x2000 if off + step < len(data) else 0
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(chunk), ident, more | off // 8, 64, 6,
                     0, socket.inet_aton(src), socket.inet_aton(dst))
    raw.sendto(ip + chunk, (dst, 0))
"""


class Background:
    """A command running in a VM's namespace, its stdout going to a file; stopped by PID."""

    def __init__(self, netns: str, argv: list[str], out: Path) -> None:
        self.out = out
        self._file = out.open("w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", netns, *argv], stdout=self._file,
                                     stderr=subprocess.STDOUT)

    def lines(self) -> list[str]:
        return self.out.read_text(errors="replace").splitlines()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._file.close()


class Lab:
    """The sandbox, its topology store and ``midonet-cli``, with a wipe after every test."""

    def __init__(self, sb: Sandbox, workdir: Path) -> None:
        self.sb = sb
        self.workdir = workdir
        self.topo = Topology(Store.from_url(sb.redis_url))
        self.build = StoreTopology(self.topo)
        home = workdir / "home"
        home.mkdir(exist_ok=True)
        if sb.api_url:
            credentials.remember_sandbox(sb)
        self.cli = Cli(str(sb.api_url), home)
        self.zone = self.topo.create("tunnelZone", {"name": "sandbox", "type": "vxlan"})
        for host in sb.hosts.values():
            self.topo.add_tunnel_zone_member(self.zone["id"], host.host_id, host.underlay_ip)
        self._background: list[Background] = []
        self._seq = 0
        self._log_offsets: dict[str, int] = {}

    # -- building --------------------------------------------------------------------------
    def bridge(self, name: str, tenant: str | None = None) -> dict[str, Any]:
        return self.build.bridge(name, tenantId=tenant)

    def router(self, name: str, tenant: str | None = None) -> dict[str, Any]:
        return self.build.router(name, tenantId=tenant)

    def chains(self, count: int, tenant: str | None = None) -> None:
        """Chains that exist before an example, so its new chain gets the guide's alias."""
        for n in range(count):
            self.build.chain(f"pre-existing-{n}", tenantId=tenant)

    def host_id(self, vm: str) -> str:
        return self.sb.vm(vm).host.host_id

    def bind(self, port: dict[str, Any], vm: str) -> None:
        self.build.bind(port, self.host_id(vm), self.sb.vm(vm).interface)

    def plug(self, bridge: dict[str, Any], vm: str) -> dict[str, Any]:
        """A bridge port bound to ``vm``'s interface."""
        port = self.build.port(bridge)
        self.bind(port, vm)
        return port

    def router_port(self, router: dict[str, Any], cidr: str, vm: str | None = None
                    ) -> dict[str, Any]:
        """A router port on ``cidr``, bound to ``vm``'s interface if given."""
        port = self.build.port(router, cidr)
        if vm is not None:
            self.bind(port, vm)
        return port

    def attach(self, router: dict[str, Any], cidr: str, bridge: dict[str, Any]
               ) -> dict[str, Any]:
        """A router port on ``cidr`` linked to a new port of ``bridge``."""
        rport = self.router_port(router, cidr)
        self.build.link(rport, self.build.port(bridge))
        return rport

    def route(self, router: dict[str, Any], dst: str, port: dict[str, Any],
              gw: str | None = None) -> dict[str, Any]:
        return self.build.route(router, dst, port, gw=gw)

    def wipe(self) -> None:
        """Delete every virtual device, chain and group; forget the VMs' neighbours."""
        for bg in self._background:
            bg.stop()
        self._background.clear()
        for kind in WIPE_ORDER:
            for obj in self.topo.list(kind):
                try:
                    self.topo.delete(kind, obj["id"])
                except Exception:  # noqa: BLE001 - already gone with its parent
                    pass
        for vm in self.sb.vms.values():
            vm.exec(["ip", "neigh", "flush", "all"])

    # -- the CLI ---------------------------------------------------------------------------
    def cli_ok(self, *commands: str) -> list[list[str]]:
        """Run each command with ``midonet-cli -e``; each must succeed; their outputs."""
        return [self.cli.ok(command) for command in commands]

    # -- running things in VMs -------------------------------------------------------------
    def exec(self, vm: str, argv: list[str], timeout: float = 60.0
             ) -> subprocess.CompletedProcess[str]:
        return self.sb.vm(vm).exec(argv, timeout=timeout)

    def ping(self, vm: str, ip: str, *flags: str, count: int = 1, timeout: float = 2.0) -> str:
        done = self.exec(vm, ["ping", "-n", "-c", str(count), "-i", "0.2", "-W", str(timeout),
                              *flags, ip], timeout=count * (timeout + 0.2) + 10)
        return str(done.stdout) + str(done.stderr)

    def pings(self, vm: str, ip: str, *flags: str, timeout: float = 15.0) -> bool:
        """A reply comes back within ``timeout`` (for paths the agents set up lazily)."""
        return wait_until(lambda: " 0% packet loss" in self.ping(vm, ip, *flags, timeout=1.0),
                          timeout=timeout, step=0.1)

    def no_reply(self, vm: str, ip: str, *flags: str, count: int = 3) -> bool:
        """None of ``count`` echo requests gets a reply."""
        out = self.ping(vm, ip, *flags, count=count, timeout=1.0)
        return " 0 received" in out

    def background(self, vm: str, argv: list[str]) -> Background:
        self._seq += 1
        bg = Background(self.sb.vm(vm).netns, argv, self.workdir / f"bg-{self._seq}.out")
        self._background.append(bg)
        return bg

    def server(self, vm: str, port: int) -> Background:
        """A TCP echo server in ``vm`` that prints the address of each peer."""
        bg = self.background(vm, ["python3", "-c", SERVER, str(port)])
        assert wait_until(lambda: "listening" in bg.lines(), timeout=10), bg.lines()
        return bg

    def connects(self, vm: str, ip: str, port: int, timeout: float = 2.0) -> bool:
        """One TCP connection from ``vm`` to ``ip:port`` exchanges data."""
        done = self.exec(vm, ["python3", "-c", CLIENT, ip, str(port), str(timeout)],
                         timeout=timeout * 2 + 10)
        return done.returncode == 0

    def eventually_connects(self, vm: str, ip: str, port: int, timeout: float = 15.0) -> bool:
        return wait_until(lambda: self.connects(vm, ip, port, 1.0), timeout=timeout, step=0.1)

    def refused(self, vm: str, ip: str, port: int, tries: int = 3) -> bool:
        """A UDP datagram from ``vm`` to a closed ``ip:port`` is refused (ICMP port
        unreachable back to the sending socket)."""
        done = self.exec(vm, ["python3", "-c", UDP_REFUSED, ip, str(port), str(tries)],
                         timeout=tries * 2 + 10)
        return done.returncode == 0

    def stream(self, vm: str, ip: str, port: int) -> Background:
        """One long-lived TCP connection exchanging a message every 0.1 s."""
        return self.background(vm, ["python3", "-c", STREAM, ip, str(port)])

    def fragments(self, vm: str, dst: str, dport: int, size: int, ident: int) -> None:
        """A TCP SYN with ``size`` bytes of data, as IPv4 fragments, from ``vm`` to ``dst``."""
        done = self.exec(vm, ["python3", "-c", FRAGMENTS, self.sb.vm(vm).ip, dst, str(dport),
                              str(size), str(ident)])
        assert done.returncode == 0, done

    def snmp(self, vm: str, group: str, name: str) -> int:
        """A counter of ``/proc/net/snmp`` in ``vm``'s namespace (e.g. Ip ReasmOKs)."""
        rows = [line.split() for line in self.exec(vm, ["cat", "/proc/net/snmp"]).stdout
                .splitlines() if line.startswith(f"{group}:")]
        names, values = rows[0], rows[1]
        return int(values[names.index(name)])

    @contextmanager
    def sniff(self, vm: str, expression: str, verbose: bool = True) -> Iterator[Capture]:
        """tcpdump on ``vm``'s interface while the block runs."""
        expr = ("-v " if verbose else "") + expression
        with self.sb.capture(expr, netns=self.sb.vm(vm).netns, iface="eth0") as cap:
            yield cap

    # -- observing the switches ------------------------------------------------------------
    def flows(self, host: str, table: int = 1) -> list[str]:
        return sandboxview.table_flows(self.sb, host, table)

    def misses(self, host: str) -> int:
        """Packets that reached the agent (the flow table's miss flows: the table-miss flow
        and each local port's own)."""
        counts = [int(found.group(1)) for line in self.flows(host)
                  if re.match(MISS_COOKIE, line)
                  and (found := re.search(r"n_packets=(\d+)", line)) is not None]
        if not counts:
            raise AssertionError(f"no table-miss flow on {host}")
        return sum(counts)

    def openflow_errors(self) -> list[str]:
        """The error replies the switches sent since the last call (a flow they refused)."""
        found = []
        for host in self.sb.hosts.values():
            log = Path(host.run_dir) / "ovs-vswitchd.log"
            text = log.read_text(errors="replace") if log.exists() else ""
            seen = self._log_offsets.get(host.name, 0)
            found += [line for line in text[seen:].splitlines() if "error reply" in line]
            self._log_offsets[host.name] = len(text)
        return found

    def report(self) -> str:
        """The flows and agent logs of every host, for a failure message."""
        return sandboxview.report(self.sb, self.flows)


def start(run_dir: Path) -> Iterator[Lab]:
    with Sandbox.from_yaml(SANDBOX, run_dir) as sb:
        yield Lab(sb, run_dir)
