"""BGP uplinks on real Open vSwitch with FRR, sandbox ``bgp``: the agent runs bgpd for the
router's uplink in a namespace of its own; an "ISP" (a VM bound to the uplink router port,
running its own bgpd, with a TCP MD5 password) peers with it. The guide's commands configure
the router; the ISP's prefix becomes a learned route a VM behind the router reaches (ping and
TCP); the router's BGP network reaches the ISP; the ISP's withdrawal removes the learned route
and the traffic stops; the peer's timers reach bgpd; a wrong MD5 password keeps the session
down; the session and its routes come back after the agent is killed and started again, a
Redis restart and a switch restart.

Router ``r``: ``r:up`` 198.51.100.2/24 bound to the ISP's interface (peer 198.51.100.1, AS
64513, announcing 203.0.113.0/24 where it has 203.0.113.1), ``r:in`` 10.60.0.1/24 on bridge
``br`` with VM ``vm``. The router is AS 64512 and announces 10.60.0.0/24.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chainlab import Lab

from ryu_midonet.bgp import bgpd, netns, rib
from ryu_midonet.bgp.config import Peer, Speaker
from ryu_midonet.sandbox import Sandbox
from ryu_midonet.sandbox.config import DEFAULT_AGENT
from tests.support.waiting import wait_until

ISP_IP, UPLINK_IP = "198.51.100.1", "198.51.100.2"
ISP_PREFIX, ISP_HOST = "203.0.113.0/24", "203.0.113.1"
INSIDE = "10.60.0.0/24"
PASSWORD = "BGP_PASSWORD"  # the ISP's TCP MD5 key: no session without it
ECHO = 7000  # the ISP's TCP echo server on ISP_HOST
ESTABLISHED = "state Established learned-routes 1"


def sandbox(conf: Path) -> dict[str, Any]:
    return {
        "name": "bgp",
        "tunnel": "vxlan",
        "underlay": {"cidr": "10.86.0.0/24"},
        "hosts": [{"name": "h1", "underlay_ip": "10.86.0.1"}],
        "vms": [
            {"name": "isp", "host": "h1", "interface": "rm-isp-tap", "ip": f"{ISP_IP}/24",
             "mac": "02:00:00:00:86:01"},
            {"name": "vm", "host": "h1", "interface": "rm-bgpvm-tap", "ip": "10.60.0.11/24",
             "gateway": "10.60.0.1", "mac": "02:00:00:00:86:0b"},
        ],
        "agent": {"command": f"{DEFAULT_AGENT} --config-file {conf}"},
    }


def isp_speaker(*networks: str) -> Speaker:
    return Speaker("isp", 64513, ISP_IP, (Peer(UPLINK_IP, 64512, 3, 9, 1, PASSWORD),),
                   networks)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, bgpd.Bgpd, Path]]:
    run_dir: Path = tmp_path_factory.mktemp("bgp")
    conf = run_dir / "agent.conf"
    conf.write_text(f"[DEFAULT]\nbgp_netns_prefix = rm-\nbgp_run_dir = {run_dir / 'run'}\n")
    with Sandbox.from_yaml(sandbox(conf), run_dir) as sb:
        lab = Lab(sb, run_dir)
        r = lab.router("r")
        up = lab.router_port(r, f"{UPLINK_IP}/24", "isp")
        br = lab.bridge("br")
        lab.attach(r, "10.60.0.1/24", br)
        lab.plug(br, "vm")
        isp = sb.vm("isp")
        isp.exec(["ip", "addr", "add", f"{ISP_HOST}/32", "dev", "lo"])
        isp.exec(["ip", "route", "add", INSIDE, "via", UPLINK_IP])
        speaker = bgpd.Bgpd(isp.netns, run_dir / "isp")
        names = netns.names("rm-", up["id"])
        echo = lab.server("isp", ECHO)
        try:
            speaker.start(isp_speaker(ISP_PREFIX))
            yield lab, speaker, run_dir / "run" / names.netns / "bgpd.pid"
        finally:
            echo.stop()
            speaker.stop()
            # the agent's bgpd and namespace, should the agent not have removed them
            bgpd.Bgpd(names.netns, run_dir / "run" / names.netns).stop_stale()
            subprocess.run(["ip", "netns", "del", names.netns], check=False,
                           capture_output=True)


def _peers(lab: Lab) -> list[str]:
    """The CLI's listing of the router's peers (their status comes through the API)."""
    return lab.cli_ok("router router0 list bgp-peer")[0]


def _running(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _routes(lab: Lab) -> list[str]:
    return [line for line in lab.cli_ok("router router0 list route")[0] if "learned" in line]


def _ours(pid_file: Path) -> bgpd.Bgpd:
    """The agent's bgpd of the uplink, reached through its vty socket."""
    return bgpd.Bgpd(pid_file.parent.name, pid_file.parent)


def _bgpds(pid_file: Path) -> list[int]:
    """The PIDs of the processes running the uplink's bgpd configuration."""
    conf = str(pid_file.parent / "bgpd.conf").encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and conf in (proc / "cmdline").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _reaches_the_isp(lab: Lab) -> bool:
    return lab.pings("vm", ISP_HOST) and lab.eventually_connects("vm", ISP_HOST, ECHO)


def test_learned_routes_advertised_networks_and_withdrawal(
        lab: tuple[Lab, bgpd.Bgpd, Path]) -> None:
    lab_, isp, pid_file = lab
    # the guide's commands, typed at one prompt
    _, err, rc = lab_.cli.session([
        "router router0 set asn 64512", f"router router0 add bgp-peer asn 64513 address {ISP_IP}",
        f"router router0 bgp-peer peer0 set password {PASSWORD}",
        "router router0 bgp-peer peer0 set hold-time 9",
        "router router0 bgp-peer peer0 set keep-alive 3",
        "router router0 bgp-peer peer0 set connect-retry 1",
        f"router router0 add bgp-network net {INSIDE}"])
    assert (err, rc) == ("", 0), err

    assert wait_until(lambda: any(f"dst {ISP_PREFIX}" in line for line in _routes(lab_)),
                      60), (lab_.report(), isp.vtysh(["show bgp summary json"]))
    [line] = _routes(lab_)
    assert f"gw {ISP_IP}" in line and "learned true" in line, line
    assert wait_until(lambda: _peers(lab_) == [
        f"peer peer0 asn 64513 address {ISP_IP} keep-alive 3 hold-time 9 connect-retry 1 "
        "state Established learned-routes 1"]), _peers(lab_)

    assert _reaches_the_isp(lab_), lab_.report()
    assert wait_until(lambda: rib.Learned(INSIDE, UPLINK_IP) in rib.learned(
        isp.vtysh(["show ip bgp json"]) or ""))
    # the timers set through the CLI, as our bgpd shows its neighbour
    shown = _ours(pid_file).vtysh([f"show bgp neighbors {ISP_IP}"]) or ""
    for line in ("Configured hold time is 9 seconds, keepalive interval is 3 seconds",
                 "BGP Connect Retry Timer in Seconds: 1", "Peer Authentication Enabled"):
        assert line in shown, shown

    isp.apply(isp_speaker())  # the ISP withdraws its prefix
    assert wait_until(lambda: _routes(lab_) == [], 30), _routes(lab_)
    assert wait_until(lambda: _peers(lab_)[0].endswith(
        "state Established learned-routes 0")), _peers(lab_)
    assert lab_.no_reply("vm", ISP_HOST) and not lab_.connects("vm", ISP_HOST, ECHO)


def test_a_wrong_md5_password_keeps_the_session_down(lab: tuple[Lab, bgpd.Bgpd, Path]) -> None:
    lab_, isp, _ = lab
    isp.apply(isp_speaker(ISP_PREFIX))
    assert wait_until(lambda: _peers(lab_)[0].endswith(ESTABLISHED), 60), _peers(lab_)
    lab_.cli_ok("router router0 bgp-peer peer0 set password NOT_THE_ISPS")
    assert wait_until(lambda: "state Established" not in _peers(lab_)[0] and
                      _routes(lab_) == [], 30), (_peers(lab_), _routes(lab_))
    lab_.cli_ok(f"router router0 bgp-peer peer0 set password {PASSWORD}")
    assert wait_until(lambda: _peers(lab_)[0].endswith(ESTABLISHED), 60), _peers(lab_)


def test_the_session_comes_back_after_agent_kill_redis_and_switch_restarts(
        lab: tuple[Lab, bgpd.Bgpd, Path]) -> None:
    lab_, isp, pid_file = lab
    assert wait_until(lambda: _peers(lab_)[0].endswith(ESTABLISHED), 60), _peers(lab_)
    [running] = _bgpds(pid_file)

    lab_.sb.stop_agent("h1", kill=True)
    lab_.sb.start_agent("h1")
    # the new agent takes over the bgpd the killed one left, and its namespace
    assert wait_until(lambda: _peers(lab_)[0].endswith(ESTABLISHED) and
                      len(_routes(lab_)) == 1, 60), (_peers(lab_), lab_.report())
    assert _bgpds(pid_file) == [running]
    assert _reaches_the_isp(lab_), lab_.report()

    lab_.sb.restart_part("redis", kill=True)
    assert wait_until(lambda: _peers(lab_)[0].endswith(ESTABLISHED) and
                      len(_routes(lab_)) == 1, 60), (_peers(lab_), _routes(lab_))
    assert _reaches_the_isp(lab_), lab_.report()

    lab_.sb.restart_part("ovs", "h1", kill=True)
    assert _reaches_the_isp(lab_), lab_.report()
    assert wait_until(lambda: rib.sessions(isp.vtysh(["show bgp summary json"]) or "").get(
        UPLINK_IP) == rib.Session(rib.ESTABLISHED, 1), 60)
    assert wait_until(lambda: _peers(lab_)[0].endswith(ESTABLISHED) and
                      len(_routes(lab_)) == 1, 60), (_peers(lab_), _routes(lab_))
    assert len(_bgpds(pid_file)) == 1


def test_a_dead_bgpd_restarts_and_a_removed_peer_takes_bgpd_and_routes_away(
        lab: tuple[Lab, bgpd.Bgpd, Path]) -> None:
    lab_, isp, pid_file = lab
    isp.apply(isp_speaker(ISP_PREFIX))
    assert wait_until(lambda: len(_routes(lab_)) == 1, 60), _routes(lab_)
    pid = int(pid_file.read_text())
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: pid_file.exists() and int(pid_file.read_text() or 0) != pid, 30)
    assert wait_until(lambda: len(_routes(lab_)) == 1, 60), _routes(lab_)
    assert wait_until(lambda: _peers(lab_)[0].endswith("state Established learned-routes 1"),
                      60), _peers(lab_)

    pid = int(pid_file.read_text())
    lab_.cli_ok("router router0 delete bgp-peer peer0")
    assert wait_until(lambda: not _running(pid) and _routes(lab_) == [], 30), _routes(lab_)
