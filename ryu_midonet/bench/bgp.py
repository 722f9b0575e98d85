"""BGP uplinks: how fast traffic follows what the ISPs announce, and 10,000 learned routes.

A sandbox of its own, the two-uplink edge router of the guide's BGP chapter: ``port0``
(198.51.100.2/30, host g1) peers with ``isp0`` (AS 64513), ``port1`` (203.0.113.2/30, host
g2) with ``isp1`` (AS 64514), keep-alive 1 s and hold time 3 s. Both ISPs lead to ``srv``,
which holds 198.18.0.1 and tells, for each datagram, the ISP it came through (the link it
entered by). ``vm`` (g1, behind the router) sends it a UDP datagram every 5 ms, one flow.

- withdrawal: the ISP carrying the flow withdraws 198.18.0.0/24; time until datagrams come
  through the other ISP;
- announcement: with neither ISP announcing it, one announces it; time until datagrams come
  through;
- host death: g2's agent and bgpd killed (as a host that dies): time until the router has
  lost the routes port1 learned (the other host's bgp app deletes them when g2's speaker
  lease, the hold time, runs out) and, when the flow went through isp1, until it comes
  through isp0;
- 10,000 prefixes: ``isp0`` announces 10,000 /24s at once; time until all are routes of the
  router, until they are gone again after the withdrawal, and the agents' resident memory.

``python -m ryu_midonet.bench --only bgp`` runs this section alone.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ryu_midonet.bench import stats
from ryu_midonet.bench.section import remove_leftovers, run_alone
from ryu_midonet.bench.vmtools import Background
from ryu_midonet.bgp import bgpd, netns
from ryu_midonet.bgp.config import Peer, Speaker
from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.sandbox import Host, Sandbox
from ryu_midonet.sandbox.config import DEFAULT_AGENT

NAME = "benchbgp"
PREFIX = "rm-bb-"  # the agents' BGP namespaces and interfaces (15 characters at most)
AS = 64512
ISPS = {"isp0": ("198.51.100.1", "198.51.100.2", 64513, "10.255.0", "g1"),
        "isp1": ("203.0.113.1", "203.0.113.2", 64514, "10.255.1", "g2")}
TARGET, SERVER, UDP_PORT = "198.18.0.0/24", "198.18.0.1", 9000
INSIDE = "192.0.2.0/24"
SAMPLES = 2
PREFIXES = 10_000
MANY = ipaddress.IPv4Network("100.64.0.0/10")  # 16,384 /24s
WAIT = 60.0

# Receives the datagrams on UDP port argv[1]; prints "TIME LINK" for the first one, for each
# one that entered by another link than the one before, for one after a silence of 0.1 s,
# and every 0.5 s; runs argv[2] seconds at most.
RECEIVER = r"""
import socket, struct, sys, time
PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux's value, when Python does not name it
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, PKTINFO, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.settimeout(1.0)
print("ready", flush=True)
end = time.monotonic() + float(sys.argv[2])
last, seen, said = None, 0.0, 0.0
while time.monotonic() < end:
    try:
        _, anc, _, _ = s.recvmsg(64, 64)
    except socket.timeout:
        continue
    now = time.time()
    index = next(struct.unpack("i", data[:4])[0] for level, kind, data in anc
                 if level == socket.IPPROTO_IP and kind == PKTINFO)
    if index != last or now - seen > 0.1 or now - said > 0.5:
        print(f"{now:.4f} {socket.if_indextoname(index)}", flush=True)
        said = now
    last, seen = index, now
"""
# Sends a datagram to argv[1]:argv[2] every 5 ms from one source port, argv[3] seconds at most.
SENDER = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 40000))
end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    s.sendto(b"probe", (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.005)
"""


@dataclass
class Figures:
    """The figures of one run (seconds; memory in MB)."""

    withdrawal_s: float | None = None
    announcement_s: float | None = None
    withdrawals: list[float] = field(default_factory=list)
    announcements: list[float] = field(default_factory=list)
    prefixes: int = PREFIXES
    install_s: float | None = None  # announced -> all are router routes
    removal_s: float | None = None  # withdrawn -> none is left
    host_death_routes_s: float | None = None  # g2 killed -> port1's routes gone
    host_death_flow_s: float | None = None  # g2 killed -> the flow through isp0
    agent_rss_mb: dict[str, float | None] = field(default_factory=dict)  # before, with them
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sandbox(conf: Path) -> dict[str, Any]:
    return {
        "name": NAME,
        "tunnel": "vxlan",
        "underlay": {"cidr": "10.85.0.0/24"},
        "hosts": [{"name": "g1", "underlay_ip": "10.85.0.1"},
                  {"name": "g2", "underlay_ip": "10.85.0.2"}],
        "vms": [
            {"name": "isp0", "host": "g1", "interface": "rm-bbisp0-tap",
             "ip": "198.51.100.1/30", "mac": "02:00:00:00:85:01"},
            {"name": "isp1", "host": "g2", "interface": "rm-bbisp1-tap",
             "ip": "203.0.113.1/30", "mac": "02:00:00:00:85:02"},
            {"name": "vm", "host": "g1", "interface": "rm-bbvm-tap", "ip": "192.0.2.11/24",
             "gateway": "192.0.2.1", "mac": "02:00:00:00:85:0b"},
            # srv's own interface stays unbound: it is reached through the ISPs only
            {"name": "srv", "host": "g2", "interface": "rm-bbsrv-tap", "ip": "10.85.5.1/24",
             "mac": "02:00:00:00:85:0c"},
        ],
        "api": False,
        "agent": {"command": f"{DEFAULT_AGENT} --config-file {conf}"},
    }


def isp_speaker(name: str, *networks: str) -> Speaker:
    address, uplink, as_number, _, _ = ISPS[name]
    return Speaker(name, as_number, address, (Peer(uplink, AS, 1, 3, 1),), networks)


def _ip(ns: str, *args: str) -> None:
    subprocess.run(["ip", "-n", ns, *args], check=True, capture_output=True)


def _wire(sb: Sandbox) -> None:
    """Links from srv to each ISP, the ISPs' and srv's static routes (srv answers nothing:
    the probes go one way)."""
    srv = sb.vm("srv")
    _ip(srv.netns, "addr", "add", f"{SERVER}/32", "dev", "lo")
    for n, (name, (_, uplink, _, link, _)) in enumerate(ISPS.items(), start=1):
        isp = sb.vm(name)
        _ip(srv.netns, "link", "add", f"eth{n}", "type", "veth", "peer", "name", "srv",
            "netns", isp.netns)
        _ip(srv.netns, "addr", "add", f"{link}.2/30", "dev", f"eth{n}")
        _ip(srv.netns, "link", "set", f"eth{n}", "up")
        _ip(isp.netns, "addr", "add", f"{link}.1/30", "dev", "srv")
        _ip(isp.netns, "link", "set", "srv", "up")
        _ip(isp.netns, "route", "add", TARGET, "via", f"{link}.2")
        _ip(isp.netns, "route", "add", INSIDE, "via", uplink)
        for key in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                    "net.ipv4.conf.default.rp_filter=0"):
            isp.exec(["sysctl", "-qw", key], check=True)
    srv.exec(["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0"], check=True)
    srv.exec(["sysctl", "-qw", "net.ipv4.conf.default.rp_filter=0"], check=True)


class Edge:
    """The edge router in the store, and what the bench reads of it."""

    def __init__(self, sb: Sandbox) -> None:
        self.topo = Topology(Store.from_url(sb.redis_url))
        zone = self.topo.create("tunnelZone", {"name": NAME, "type": "vxlan"})
        for host in sb.hosts.values():
            self.topo.add_tunnel_zone_member(zone["id"], host.host_id, host.underlay_ip)
        router = self.topo.create("router", {"name": "edge", "asNumber": AS})
        self.router_id = router["id"]
        self.uplinks: dict[str, str] = {}  # ISP -> the router port facing it
        for name, (peer, address, as_number, _, where) in ISPS.items():
            port = self.topo.create("port", {"portAddress": address, "networkLength": 30},
                                    self.router_id)
            self.uplinks[name] = port["id"]
            self.topo.bind(sb.host(where).host_id, port["id"], sb.vm(name).interface)
            self.topo.create("bgpPeer", {"asNumber": as_number, "address": peer,
                                         "keepAlive": 1, "holdTime": 3, "connectRetry": 1},
                             self.router_id)
        inside = self.topo.create("bridge", {"name": "inside"})
        rport = self.topo.create("port", {"portAddress": "192.0.2.1", "networkLength": 24},
                                 self.router_id)
        bport = self.topo.create("port", {}, inside["id"])
        self.topo.link(rport["id"], bport["id"])
        vport = self.topo.create("port", {}, inside["id"])
        self.topo.bind(sb.host("g1").host_id, vport["id"], sb.vm("vm").interface)
        self.topo.create("bgpNetwork", {"subnetAddress": "192.0.2.0", "subnetLength": 24},
                         self.router_id)

    def learned(self) -> list[dict[str, Any]]:
        routes: list[dict[str, Any]] = self.topo.store.read(
            lambda txn: txn.list_by("route", "routerId", self.router_id))
        return [r for r in routes if r.get("learned")]

    def count(self) -> int:
        """How many routes the router has (one index read: cheap with 10,000 of them)."""
        ids: list[str] = self.topo.store.read(
            lambda txn: txn.ids_by("route", "routerId", self.router_id))
        return len(ids)

    def gateways(self) -> list[str]:
        """The gateways of the learned routes to the probes' prefix."""
        net, length = TARGET.split("/")
        return sorted(str(r["nextHopGateway"]) for r in self.learned()
                      if r["dstNetworkAddr"] == net and r["dstNetworkLength"] == int(length))


def _wait(check: Any, timeout: float = WAIT, step: float = 0.05) -> float:
    """Seconds until ``check()`` holds; raises after ``timeout``."""
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"not within {timeout:.0f} s: {getattr(check, '__doc__', '')}")
        time.sleep(step)
    return time.monotonic() - t0


class Probes:
    """The receiver's lines: when the probes came through which ISP."""

    def __init__(self, receiver: Background, links: dict[str, str]) -> None:
        self.receiver = receiver
        self.links = links  # srv's interface -> ISP
        self.carrier: str | None = None

    def next_after(self, t0: float, isp: str | None, timeout: float = WAIT) -> float:
        """Seconds from ``t0`` (wall clock) to the first probe after it through ``isp``
        (any ISP when ``None``)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.receiver.wait_line(max(0.1, deadline - time.monotonic()))
            stamp, link = line.split()
            self.carrier = self.links.get(link)
            if float(stamp) > t0 and (isp is None or self.carrier == isp):
                return float(stamp) - t0
            if time.monotonic() > deadline:
                raise RuntimeError(f"no probe through {isp or 'any ISP'}")


def _rss_mb(host: Host) -> float | None:
    try:
        pid = int((Path(host.run_dir) / "agent.pid").read_text().split()[0])
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, ValueError):
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return round(int(found.group(1)) / 1024, 1) if found else None


def measure(run_dir: Path, samples: int = SAMPLES, prefixes: int = PREFIXES,
            log: Any = print) -> Figures:
    """Run the section on a sandbox of its own; failures become the note."""
    result = Figures(prefixes=prefixes)
    run_dir.mkdir(parents=True, exist_ok=True)
    sandbox_dir = run_dir / "sandbox"
    remove_leftovers(sandbox_dir, PREFIX)
    _stop_agents_bgpds(run_dir)
    conf = run_dir / "agent.conf"
    conf.write_text(f"[DEFAULT]\nbgp_netns_prefix = {PREFIX}\n"
                    f"bgp_run_dir = {run_dir / 'bgpd'}\n")
    isps: dict[str, bgpd.Bgpd] = {}
    try:
        with Sandbox.from_yaml(sandbox(conf), sandbox_dir) as sb:
            log("bgp: sandbox up")
            isps = {name: bgpd.Bgpd(sb.vm(name).netns, run_dir / name) for name in ISPS}
            _run(sb, isps, samples, prefixes, result, log)
    except Exception as exc:  # noqa: BLE001 - reported, never fatal to the benchmark
        result.note = f"{type(exc).__name__}: {exc}"
        log(f"bgp: stopped: {result.note}")
    finally:
        for isp in isps.values():
            isp.stop()
        remove_leftovers(sandbox_dir, PREFIX)
        _stop_agents_bgpds(run_dir)
    log("bgp: sandbox down")
    return result


def _stop_agents_bgpds(run_dir: Path) -> None:
    """Stop, by the PIDs in their PID files, the bgpds an agent killed at the sandbox's
    teardown left running (their namespaces' names went with the agent)."""
    for directory in sorted((run_dir / "bgpd").glob(f"{PREFIX}bgp-*")):
        bgpd.Bgpd(directory.name, directory).stop_stale()


def _run(sb: Sandbox, isps: dict[str, bgpd.Bgpd], samples: int, prefixes: int,
         result: Figures, log: Any) -> None:
    _wire(sb)
    edge = Edge(sb)
    for name, isp in isps.items():
        isp.start(isp_speaker(name, TARGET))
    both = sorted(isp[0] for isp in ISPS.values())
    _wait(lambda: edge.gateways() == both)
    log("bgp: both sessions up, both routes learned")
    limit = str(WAIT * 10)
    srv, vm = sb.vm("srv"), sb.vm("vm")
    with Background.script(srv, RECEIVER, [str(UDP_PORT), limit]) as receiver, \
            Background.script(vm, SENDER, [SERVER, str(UDP_PORT), limit]):
        if receiver.wait_line(10) != "ready":
            raise RuntimeError("the receiver did not start")
        probes = Probes(receiver, {"eth1": "isp0", "eth2": "isp1"})
        probes.next_after(0.0, None)
        for _ in range(samples):
            _sample(edge, isps, probes, both, result, log)
        _host_death(sb, edge, probes, both, result, log)
    result.withdrawal_s = stats.median(result.withdrawals)
    result.announcement_s = stats.median(result.announcements)
    _many(sb, edge, isps["isp0"], prefixes, result, log)


def _host_death(sb: Sandbox, edge: Edge, probes: Probes, both: list[str], result: Figures,
                log: Any) -> None:
    """g2 dies (its agent and bgpd killed), then comes back."""
    name = netns.names(PREFIX, edge.uplinks["isp1"]).netns
    g2_bgpd = bgpd.Bgpd(name, Path(sb.run_dir).parent / "bgpd" / name)
    carrier = probes.carrier
    t0, w0 = time.monotonic(), time.time()
    sb.stop_agent("g2", kill=True)
    g2_bgpd.stop_stale()
    try:
        if carrier == "isp1":
            result.host_death_flow_s = round(probes.next_after(w0, "isp0"), 2)
        _wait(lambda: edge.gateways() == [ISPS["isp0"][0]])
        result.host_death_routes_s = round(time.monotonic() - t0, 2)
        log(f"bgp: g2 died; its routes were gone after {result.host_death_routes_s} s, the "
            f"flow (through {carrier}) came through isp0 after {result.host_death_flow_s} s")
    finally:
        sb.start_agent("g2")
    _wait(lambda: edge.gateways() == both)


def _sample(edge: Edge, isps: dict[str, bgpd.Bgpd], probes: Probes, both: list[str],
            result: Figures, log: Any) -> None:
    """One withdrawal and one announcement, back to both ISPs announcing."""
    carrier = probes.carrier
    assert carrier is not None
    other = next(name for name in ISPS if name != carrier)
    t0 = time.time()
    isps[carrier].apply(isp_speaker(carrier))
    result.withdrawals.append(probes.next_after(t0, other))
    log(f"bgp: {carrier} withdrew, the probes came through {other} after "
        f"{result.withdrawals[-1]:.2f} s")
    isps[other].apply(isp_speaker(other))
    _wait(lambda: edge.gateways() == [])
    time.sleep(0.3)
    t0 = time.time()
    isps[carrier].apply(isp_speaker(carrier, TARGET))
    result.announcements.append(probes.next_after(t0, carrier))
    log(f"bgp: {carrier} announced, the probes came through after "
        f"{result.announcements[-1]:.2f} s")
    isps[other].apply(isp_speaker(other, TARGET))
    _wait(lambda: edge.gateways() == both)
    time.sleep(0.3)
    probes.next_after(time.time(), None)  # which of the two carries the flow now


def _many(sb: Sandbox, edge: Edge, isp: bgpd.Bgpd, prefixes: int, result: Figures,
          log: Any) -> None:
    """``prefixes`` /24s announced by one ISP: time to become routes and to go again."""
    hosts = sb.hosts.values()
    result.agent_rss_mb = {f"{h.name} before": _rss_mb(h) for h in hosts}
    nets = [str(n) for n, _ in zip(MANY.subnets(new_prefix=24), range(prefixes), strict=False)]
    base = edge.count()
    t0 = time.monotonic()
    isp.apply(isp_speaker("isp0", TARGET, *nets))
    _wait(lambda: edge.count() >= base + prefixes, timeout=300, step=0.5)
    result.install_s = round(time.monotonic() - t0, 2)
    log(f"bgp: {prefixes} prefixes became routes after {result.install_s} s")
    result.agent_rss_mb |= {f"{h.name} with them": _rss_mb(h) for h in hosts}
    t0 = time.monotonic()
    isp.apply(isp_speaker("isp0", TARGET))
    _wait(lambda: edge.count() <= base, timeout=300, step=0.5)
    result.removal_s = round(time.monotonic() - t0, 2)
    log(f"bgp: and were gone {result.removal_s} s after their withdrawal")


def table(result: Figures) -> str:
    from ryu_midonet.bench.report import fmt

    lines = ["BGP uplinks (two ISPs on two hosts, keep-alive 1 s, hold time 3 s)",
             f"  withdrawal at the ISP carrying a flow -> the flow through the other: "
             f"{fmt(result.withdrawal_s)} s (median of {len(result.withdrawals)})",
             f"  announcement with no route -> the flow through the ISP: "
             f"{fmt(result.announcement_s)} s (median of {len(result.announcements)})",
             f"  an uplink host dies -> its learned routes gone: "
             f"{fmt(result.host_death_routes_s)} s; the flow it carried through the other: "
             f"{fmt(result.host_death_flow_s)} s",
             f"  {result.prefixes} prefixes from one ISP: routes of the router after "
             f"{fmt(result.install_s)} s, gone {fmt(result.removal_s)} s after their "
             "withdrawal"]
    if result.agent_rss_mb:
        lines.append("  agent RSS (MB): " + ", ".join(
            f"{k} {fmt(v)}" for k, v in result.agent_rss_mb.items()))
    if result.note:
        lines.append(f"* {result.note}")
    return "\n".join(lines)


def main() -> int:
    """Run the section alone: ``python -m ryu_midonet.bench.bgp``."""
    return run_alone("bgp-", measure, table, lambda result: result.withdrawal_s is not None)


if __name__ == "__main__":
    raise SystemExit(main())
