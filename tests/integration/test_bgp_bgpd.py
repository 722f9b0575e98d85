"""Two supervised bgpds in namespaces joined by a veth: the session comes up, routes are
learned both ways, changes apply without dropping the session, a dead bgpd restarts."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ryu_midonet.bgp import bgpd, rib
from ryu_midonet.bgp.config import Peer, Speaker
from tests.support.waiting import wait_until

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists(bgpd.BGPD),
                                reason="needs root and FRR's bgpd")

NS_A, NS_B = "rm-bgpt-a", "rm-bgpt-b"
ADDR_A, ADDR_B = "198.51.100.2", "198.51.100.1"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True)


@pytest.fixture()
def pair() -> Iterator[tuple[bgpd.Bgpd, bgpd.Bgpd]]:
    run = Path(tempfile.mkdtemp(prefix="rm-bgpt-"))
    for ns in (NS_A, NS_B):
        subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
        _ip("netns", "add", ns)
    a = b = None
    try:
        _ip("link", "add", "rm-bgpta", "netns", NS_A, "type", "veth", "peer", "name",
            "rm-bgptb", "netns", NS_B)
        for ns, dev, addr in ((NS_A, "rm-bgpta", ADDR_A), (NS_B, "rm-bgptb", ADDR_B)):
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        a, b = bgpd.Bgpd(NS_A, run / "a"), bgpd.Bgpd(NS_B, run / "b")
        yield a, b
    finally:
        for d in (a, b):
            if d is not None:
                d.stop()
        for ns in (NS_A, NS_B):
            subprocess.run(["ip", "netns", "del", ns], check=False)
        shutil.rmtree(run, ignore_errors=True)


def _a(*nets: str, password: str | None = "s3cret") -> Speaker:
    return Speaker("pa", 64512, ADDR_A, (Peer(ADDR_B, 64513, 5, 15, 1, password),), nets)


B = Speaker("pb", 64513, ADDR_B, (Peer(ADDR_A, 64512, 5, 15, 1, "s3cret"),),
            ("203.0.113.0/24",))


def _session(d: bgpd.Bgpd, peer: str) -> rib.Session | None:
    return rib.sessions(d.vtysh(["show bgp summary json"]) or "").get(peer)


def _learned(d: bgpd.Bgpd) -> list[rib.Learned]:
    return rib.learned(d.vtysh(["show ip bgp json"]) or "")


def test_session_routes_changes_in_place_and_restart(pair: tuple[bgpd.Bgpd, bgpd.Bgpd]
                                                     ) -> None:
    a, b = pair
    a.start(_a("192.0.2.0/24"))
    b.start(B)
    assert wait_until(lambda: _session(a, ADDR_B) == rib.Session("Established", 1), 30)
    assert _learned(a) == [rib.Learned("203.0.113.0/24", ADDR_B)]
    assert wait_until(lambda: _learned(b) == [rib.Learned("192.0.2.0/24", ADDR_A)])

    before = b.vtysh(["show bgp summary json"]) or ""
    a.apply(_a("192.0.2.0/24", "10.9.0.0/16"))
    assert wait_until(lambda: len(_learned(b)) == 2)
    a.apply(_a("10.9.0.0/16"))
    assert wait_until(lambda: _learned(b) == [rib.Learned("10.9.0.0/16", ADDR_A)])
    assert a.starts == 1
    after = b.vtysh(["show bgp summary json"]) or ""
    assert '"connectionsDropped":0' in before.replace(" ", "")
    assert '"connectionsDropped":0' in after.replace(" ", "")

    a.apply(_a("10.9.0.0/16", password="wrong"))  # a wrong password ends the session
    assert wait_until(lambda: _learned(a) == [], 30)

    pid = a.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not a.alive())
    a.apply(_a("10.9.0.0/16"))
    assert a.alive() and a.pid != pid and a.starts == 2
    assert wait_until(lambda: _session(a, ADDR_B) == rib.Session("Established", 1), 60)
