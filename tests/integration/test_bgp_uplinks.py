"""Two BGP uplinks on two gateway hosts, sandbox ``bgu``, as the guide's BGP chapter sets
them up: the edge router's ``port0`` (198.51.100.2/30) on g1 peers with ISP ``isp0``
(198.51.100.1, AS 64513), its ``port1`` (203.0.113.2/30) on g2 with ``isp1`` (203.0.113.1,
AS 64514). Both ISPs announce 198.18.0.0/24, where the server 198.18.0.1 sits in a namespace
of its own joined to both ISPs (it answers through isp1 whatever way a packet came). The
uplinks accept only return traffic and share a stateful port group. VM ``vm`` (g1) sits
behind the router on 192.0.2.0/24, the network the router announces.

- both ISPs' routes are learned; they are equal, so connections spread over both uplinks,
  and their replies, which all enter by port1, are accepted;
- a killed ISP bgpd takes its routes away and a running TCP connection moves to the other
  uplink; its routes come back with it;
- an uplink host's agent killed and started again carries its session on: the ISP's
  bgpd restarting takes its routes away and brings them back through it;
- an uplink host that dies (agent and bgpd killed, not restarted) loses its routes through
  the other host, and a running connection moves to the other uplink; started again, it
  brings them back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from chainlab import SERVER as SERVER_CODE
from chainlab import Background, Lab

from ryu_midonet.bgp import bgpd, netns, rib
from ryu_midonet.bgp.config import Peer, Speaker
from ryu_midonet.sandbox import Sandbox
from ryu_midonet.sandbox.config import DEFAULT_AGENT
from tests.support.waiting import wait_until

AS = 64512
ISPS = {"isp0": ("198.51.100.1", "198.51.100.2", 64513, "10.255.0"),
        "isp1": ("203.0.113.1", "203.0.113.2", 64514, "10.255.1")}
PREFIX, SERVER, PORT = "198.18.0.0/24", "198.18.0.1", 7000
INSIDE = "192.0.2.0/24"
NET = "rm-bgu-net"  # the server's namespace


def sandbox(conf: Path) -> dict[str, Any]:
    return {
        "name": "bgu",
        "tunnel": "vxlan",
        "underlay": {"cidr": "10.85.0.0/24"},
        "hosts": [{"name": "g1", "underlay_ip": "10.85.0.1"},
                  {"name": "g2", "underlay_ip": "10.85.0.2"}],
        "vms": [
            {"name": "isp0", "host": "g1", "interface": "rm-isp0-tap",
             "ip": "198.51.100.1/30", "mac": "02:00:00:00:85:01"},
            {"name": "isp1", "host": "g2", "interface": "rm-isp1-tap",
             "ip": "203.0.113.1/30", "mac": "02:00:00:00:85:02"},
            {"name": "vm", "host": "g1", "interface": "rm-bguvm-tap", "ip": "192.0.2.11/24",
             "gateway": "192.0.2.1", "mac": "02:00:00:00:85:0b"},
        ],
        "agent": {"command": f"{DEFAULT_AGENT} --config-file {conf}"},
    }


def isp_speaker(name: str, *networks: str) -> Speaker:
    address, uplink, as_number, _ = ISPS[name]
    return Speaker(name, as_number, address, (Peer(uplink, AS, 1, 3, 1),), networks)


def _ip(ns: str, *args: str) -> None:
    subprocess.run(["ip", "-n", ns, *args], check=True, capture_output=True)


def _internet(sb: Sandbox) -> None:
    """The server's namespace, a link from it to each ISP, and the ISPs' static routes."""
    subprocess.run(["ip", "netns", "add", NET], check=True)
    _ip(NET, "link", "set", "lo", "up")
    _ip(NET, "addr", "add", f"{SERVER}/32", "dev", "lo")
    for n, (name, (_, uplink, _, link)) in enumerate(ISPS.items()):
        isp = sb.vm(name)
        _ip(NET, "link", "add", f"eth{n}", "type", "veth", "peer", "name", "net", "netns",
            isp.netns)
        _ip(NET, "addr", "add", f"{link}.2/30", "dev", f"eth{n}")
        _ip(NET, "link", "set", f"eth{n}", "up")
        _ip(isp.netns, "addr", "add", f"{link}.1/30", "dev", "net")
        _ip(isp.netns, "link", "set", "net", "up")
        _ip(isp.netns, "route", "add", PREFIX, "via", f"{link}.2")
        _ip(isp.netns, "route", "add", INSIDE, "via", uplink)
        for key in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                    "net.ipv4.conf.default.rp_filter=0"):
            isp.exec(["sysctl", "-qw", key], check=True)
    _ip(NET, "route", "add", INSIDE, "via", f"{ISPS['isp1'][3]}.1")  # replies: by isp1


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, dict[str, bgpd.Bgpd]]]:
    run_dir: Path = tmp_path_factory.mktemp("bgu")
    conf = run_dir / "agent.conf"
    conf.write_text(f"[DEFAULT]\nbgp_netns_prefix = rm-\nbgp_run_dir = {run_dir / 'run'}\n")
    with Sandbox.from_yaml(sandbox(conf), run_dir) as sb:
        lab = Lab(sb, run_dir)
        r = lab.router("edge")
        uplinks = [lab.router_port(r, f"{ISPS[name][1]}/30", name) for name in ISPS]
        br = lab.bridge("inside")
        lab.attach(r, "192.0.2.1/24", br)
        lab.plug(br, "vm")
        isps = {name: bgpd.Bgpd(sb.vm(name).netns, run_dir / name) for name in ISPS}
        names = [netns.names("rm-", port["id"]) for port in uplinks]
        server: Background | None = None
        try:
            _internet(sb)
            for name, isp in isps.items():
                isp.start(isp_speaker(name, PREFIX))
            server = Background(NET, ["python3", "-c", SERVER_CODE, str(PORT)],
                                run_dir / "server.out")
            assert wait_until(lambda: "listening" in server.lines(), 10), server.lines()
            yield lab, isps
        finally:
            if server is not None:
                server.stop()
            lab.wipe()
            for isp in isps.values():
                isp.stop()
            for nm in names:  # the agents' bgpds and namespaces, if an agent left them
                bgpd.Bgpd(nm.netns, run_dir / "run" / nm.netns).stop_stale()
                subprocess.run(["ip", "netns", "del", nm.netns], capture_output=True)
            subprocess.run(["ip", "netns", "del", NET], capture_output=True)


def _learned(lab: Lab) -> list[str]:
    """The gateways of the router's learned routes to the ISPs' prefix, in the store."""
    net, length = PREFIX.split("/")
    return sorted(str(r["nextHopGateway"]) for r in lab.topo.list("route")
                  if r.get("learned") and r["dstNetworkAddr"] == net
                  and r["dstNetworkLength"] == int(length))


def _states(lab: Lab) -> list[str]:
    """Each peer's session state and learned-route count, as the CLI lists them."""
    return [line.split(" state ")[-1] for line in lab.cli_ok("router router0 list bgp-peer")[0]]


def _up(lab: Lab) -> bool:
    return all((p.get("status") or {}).get("state") == rib.ESTABLISHED
               for p in lab.topo.list("bgpPeer"))


# Connections to the server, one after another in one process: ARGV[3] of them; exit status
# 0 when each exchanged data.
CONNECTIONS = r"""
import socket, sys
for _ in range(int(sys.argv[3])):
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as c:
        c.sendall(b"hello")
        if c.recv(64) != b"hello":
            sys.exit(1)
"""


BOTH = sorted(isp[0] for isp in ISPS.values())
UP = ["Established learned-routes 1"] * 2


def _syns(lab: Lab, count: int) -> dict[str, int]:
    """``count`` connections from vm to the server, one after another: the SYNs each ISP
    forwarded."""
    expr = f"tcp dst port {PORT} and tcp[tcpflags] & tcp-syn != 0"
    with ExitStack() as stack:
        caps = {name: stack.enter_context(lab.sniff(name, expr, verbose=False))
                for name in ISPS}
        done = lab.exec("vm", ["python3", "-c", CONNECTIONS, SERVER, str(PORT), str(count)])
        assert done.returncode == 0, (done, lab.report())
    return {name: len(cap.lines) for name, cap in caps.items()}


def _carrier(lab: Lab) -> str:
    """The ISP that the running stream's packets to the server go through."""
    with ExitStack() as stack:
        caps = {name: stack.enter_context(lab.sniff(name, f"tcp dst port {PORT}",
                                                    verbose=False)) for name in ISPS}
        time.sleep(1.0)
    [name] = [name for name, cap in caps.items() if cap.lines]
    return name


def _keeps_flowing(stream: Background, more: int = 10) -> bool:
    def count() -> int:
        lines = stream.lines()
        return int(lines[-1]) if lines and lines[-1].isdigit() else 0

    start = count()
    return wait_until(lambda: count() >= start + more, timeout=30)


def test_equal_routes_from_two_isps_share_the_load_and_either_uplink_takes_replies(
        lab: tuple[Lab, dict[str, bgpd.Bgpd]]) -> None:
    lab_, isps = lab
    outputs, err, rc = lab_.cli.session([
        f"router router0 set asn {AS}",
        "router router0 add bgp-peer asn 64513 address 198.51.100.1",
        "router router0 add bgp-peer asn 64514 address 203.0.113.1",
        *(f"router router0 bgp-peer {peer} set {what}" for peer in ("peer0", "peer1")
          for what in ("connect-retry 1", "hold-time 3", "keep-alive 1")),
        f"router router0 add bgp-network net {INSIDE}",
        # return traffic only, and the two uplinks share their connections' state
        "chain create name uplink-in",
        "chain create name uplink-out",
        "chain chain0 add rule flow return-flow pos 1 type accept",
        "chain chain0 add rule pos 2 type drop",
        "chain chain1 add rule flow fwd-flow pos 1 type accept",
        *(f"router router0 port {port} set {way}filter {chain}" for port in ("port0", "port1")
          for way, chain in (("in", "chain0"), ("out", "chain1"))),
        "port-group create name SPG stateful true",
        "port-group pgroup0 add member port router0:port0",
        "port-group pgroup0 add member port router0:port1",
    ])
    assert (err, rc) == ("", 0), outputs
    assert wait_until(lambda: _learned(lab_) == BOTH, 60), (lab_.report(), _learned(lab_))
    assert wait_until(lambda: _up(lab_)), lab_.topo.list("bgpPeer")
    peers = lab_.cli_ok("router router0 list bgp-peer")[0]
    assert _states(lab_) == UP, peers
    assert peers[0].startswith(
        "peer peer0 asn 64513 address 198.51.100.1 keep-alive 1 hold-time 3 connect-retry 1")
    routes = [line for line in lab_.cli_ok("router router0 list route")[0]
              if "learned true" in line]
    assert sorted(line.split(" gw ")[1].split()[0] for line in routes) == BOTH, routes
    for isp in isps.values():
        assert wait_until(lambda i=isp: any(r.prefix == INSIDE for r in rib.learned(
            i.vtysh(["show ip bgp json"]) or ""))), isp.netns

    assert lab_.pings("vm", SERVER), lab_.report()
    assert lab_.eventually_connects("vm", SERVER, PORT), lab_.report()
    # ECMP: connections (their 5-tuples) spread over both uplinks; every reply comes back
    # by port1, accepted there also for the connections that left by port0
    seen = _syns(lab_, 24)
    assert all(seen.values()), seen
    lab_.server("vm", PORT)
    assert not lab_.connects("isp1", "192.0.2.11", PORT)  # from outside: refused


def test_a_dead_isp_takes_its_routes_and_a_connection_moves_to_the_other_uplink(
        lab: tuple[Lab, dict[str, bgpd.Bgpd]]) -> None:
    lab_, isps = lab
    assert wait_until(lambda: _learned(lab_) == BOTH, 60), _learned(lab_)
    stream = lab_.stream("vm", SERVER, PORT)
    assert _keeps_flowing(stream), (stream.lines()[-5:], lab_.report())
    dead = _carrier(lab_)
    other = next(name for name in ISPS if name != dead)
    pid = isps[dead].pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: _learned(lab_) == [ISPS[other][0]], 30), _learned(lab_)
    assert _keeps_flowing(stream), (stream.lines()[-5:], lab_.report())
    assert _carrier(lab_) == other
    assert lab_.pings("vm", SERVER), lab_.report()

    isps[dead].start(isp_speaker(dead, PREFIX))
    assert wait_until(lambda: _learned(lab_) == BOTH, 60), _learned(lab_)
    assert wait_until(lambda: _up(lab_)), lab_.topo.list("bgpPeer")
    assert _states(lab_) == UP
    assert _keeps_flowing(stream), (stream.lines()[-5:], lab_.report())


def test_an_uplink_hosts_agent_killed_and_started_again_keeps_its_session(
        lab: tuple[Lab, dict[str, bgpd.Bgpd]]) -> None:
    """The new agent of g2 carries port1's session on: isp1 restarting its bgpd loses its
    route and gets it back through it."""
    lab_, isps = lab
    assert wait_until(lambda: _learned(lab_) == BOTH and _up(lab_), 60), _learned(lab_)
    lab_.sb.stop_agent("g2", kill=True)
    lab_.sb.start_agent("g2")
    isp1 = isps["isp1"]
    assert isp1.pid is not None
    os.kill(isp1.pid, signal.SIGKILL)
    assert wait_until(lambda: _learned(lab_) == [ISPS["isp0"][0]], 30), _learned(lab_)
    isp1.start(isp_speaker("isp1", PREFIX))
    assert wait_until(lambda: _learned(lab_) == BOTH and _up(lab_), 60), (
        _learned(lab_), lab_.report())
    assert _states(lab_) == UP
    assert lab_.eventually_connects("vm", SERVER, PORT), lab_.report()


def test_a_dead_uplink_hosts_routes_go_and_a_connection_moves_to_the_other_uplink(
        lab: tuple[Lab, dict[str, bgpd.Bgpd]]) -> None:
    """g2 dies: nothing of it renews port1's speaker lease, and g1 deletes the routes port1
    learned (g2 cannot)."""
    lab_, _ = lab
    assert wait_until(lambda: _learned(lab_) == BOTH and _up(lab_), 60), _learned(lab_)
    [port1] = [p for p in lab_.topo.list("port") if p.get("portAddress") == ISPS["isp1"][1]]
    name = netns.names("rm-", port1["id"]).netns
    g2_bgpd = bgpd.Bgpd(name, lab_.workdir / "run" / name)
    stream = lab_.stream("vm", SERVER, PORT)
    assert _keeps_flowing(stream), (stream.lines()[-5:], lab_.report())
    lab_.sb.stop_agent("g2", kill=True)
    assert g2_bgpd.leftover() is not None
    g2_bgpd.stop_stale()
    try:
        assert wait_until(lambda: _learned(lab_) == [ISPS["isp0"][0]], 30), _learned(lab_)
        assert _keeps_flowing(stream), (stream.lines()[-5:], lab_.report())
        assert _carrier(lab_) == "isp0"
    finally:
        lab_.sb.start_agent("g2")
    assert wait_until(lambda: _learned(lab_) == BOTH and _up(lab_), 60), (
        _learned(lab_), lab_.report())
    assert _keeps_flowing(stream), (stream.lines()[-5:], lab_.report())
