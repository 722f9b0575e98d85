"""What an agent started after a killed one does with the bgpd and namespace it left: the
bgpd is found by its PID file and taken over when it runs the wanted configuration; the
namespace's name is given back to the namespace that bgpd holds; a veth made again is added
to the bridge anew."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ryu_midonet.bgp import bgpd, config, netns

SPK = config.Speaker("up", 64512, "198.51.100.2",
                     (config.Peer("198.51.100.1", 64513, None, None, None, None),))


@pytest.fixture()
def left(tmp_path: Path) -> Iterator[tuple[bgpd.Bgpd, subprocess.Popen[bytes]]]:
    """A process standing for a bgpd left running: its command line names the configuration
    file, its PID is in the PID file."""
    daemon = bgpd.Bgpd("rm-bgp-test", tmp_path)
    daemon.conf_path.write_text(config.render(SPK, hostname="rm-bgp-test"))
    # a Python process keeps its whole command line (a shell may exec sleep and lose it)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                             str(daemon.conf_path)])
    (tmp_path / "bgpd.pid").write_text(f"{proc.pid}\n")
    cmdline = Path(f"/proc/{proc.pid}/cmdline")
    deadline = time.monotonic() + 10
    while str(daemon.conf_path).encode() not in cmdline.read_bytes():  # until it has exec'd
        assert time.monotonic() < deadline, "the stand-in process did not start"
        time.sleep(0.01)
    try:
        yield daemon, proc
    finally:
        proc.kill()
        proc.wait()


def test_a_bgpd_left_with_the_wanted_configuration_is_taken_over_and_stopped_by_pid(
        left: tuple[bgpd.Bgpd, subprocess.Popen[bytes]]) -> None:
    daemon, proc = left
    assert daemon.leftover() == proc.pid
    assert daemon.adopt(SPK) and daemon.alive() and daemon.pid == proc.pid
    assert daemon.leftover() is None  # its own now
    daemon.stop()
    assert proc.wait(timeout=5) is not None and not daemon.alive()


def test_a_bgpd_left_with_another_configuration_is_not_taken_over(
        left: tuple[bgpd.Bgpd, subprocess.Popen[bytes]]) -> None:
    daemon, proc = left
    assert not daemon.adopt(config.Speaker("up", 64599, "198.51.100.2", SPK.peers))
    assert not daemon.alive()
    daemon.stop_stale()
    assert proc.wait(timeout=5) is not None


def test_a_pid_file_of_another_process_is_no_bgpd(tmp_path: Path) -> None:
    daemon = bgpd.Bgpd("rm-bgp-test", tmp_path)
    (tmp_path / "bgpd.pid").write_text("1\n")
    assert daemon.leftover() is None and not daemon.adopt(SPK)


class FakeIp:
    """``ip`` and ``ovs-vsctl`` as a namespace whose name lost its mount and whose veth the
    switch holds: records the commands, answers as the state says."""

    def __init__(self, usable_after_attach: bool, inside: bool) -> None:
        self.calls: list[list[str]] = []
        self.named, self.usable = True, False
        self.usable_after_attach, self.inside = usable_after_attach, inside

    def __call__(self, argv: list[str], **_: Any) -> SimpleNamespace:
        self.calls.append(argv)
        ok, out = True, ""
        if argv[:3] == ["ip", "netns", "list"]:
            out = "rm-bgp-1\n" if self.named else ""
        elif argv[:3] == ["ip", "netns", "attach"]:
            self.named = self.usable = self.usable_after_attach
            ok = self.usable_after_attach
        elif argv[:3] == ["ip", "netns", "add"]:
            self.named = self.usable = True
        elif argv[:3] == ["ip", "netns", "del"]:
            self.named = self.usable = False
        elif argv[:2] == ["ip", "-n"] and argv[3:5] == ["link", "show"]:
            ok = self.usable and (argv[5] == "lo" or self.inside)
        elif argv[:3] == ["ip", "link", "add"]:
            self.inside = True
        elif "get" in argv:
            out = "7\n"
        return SimpleNamespace(returncode=0 if ok else 1, stdout=out, stderr="")


def _names() -> netns.Names:
    return netns.Names("rm-bgp-1", "rm-b1", "rm-n1")


def test_a_name_that_lost_its_mount_is_given_back_to_the_holders_namespace() -> None:
    ip = FakeIp(usable_after_attach=True, inside=True)
    ns = netns.Namespace(_names(), "br-int", run=ip)
    assert ns.setup("02:aa:00:00:00:01", "198.51.100.2", 24, holder=4242) == 7
    assert ["ip", "netns", "attach", "rm-bgp-1", "4242"] in ip.calls
    assert not any(c[:3] in (["ip", "netns", "add"], ["ip", "link", "add"]) for c in ip.calls)
    assert not any("del-port" in c for c in ip.calls)  # the switch keeps its open device


def test_a_veth_made_again_is_removed_from_the_bridge_and_added_back() -> None:
    ip = FakeIp(usable_after_attach=False, inside=False)
    ns = netns.Namespace(_names(), "br-int", run=ip)
    assert ns.setup("02:aa:00:00:00:01", "198.51.100.2", 24, holder=4242) == 7
    assert ["ip", "netns", "add", "rm-bgp-1"] in ip.calls
    made = next(i for i, c in enumerate(ip.calls) if c[:3] == ["ip", "link", "add"])
    removed = next(i for i, c in enumerate(ip.calls) if "del-port" in c)
    added = next(i for i, c in enumerate(ip.calls) if "add-port" in c)
    assert made < removed < added
