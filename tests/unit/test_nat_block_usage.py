"""Counting the tracker's connections per NAT port block (``dpctl/dump-conntrack``), and
finding the switch's control socket next to the OVSDB socket."""

from __future__ import annotations

from pathlib import Path

from ryu_midonet.agent import natusage

LISTING = """\
tcp,orig=(src=10.50.0.11,dst=198.18.0.10,sport=40000,dport=8080),reply=(src=198.18.0.10,\
dst=198.18.0.1,sport=8080,dport=1100),zone=5,protoinfo=(state=TIME_WAIT)
tcp,orig=(src=10.50.0.12,dst=198.18.0.10,sport=40001,dport=8080),reply=(src=198.18.0.10,\
dst=198.18.0.1,sport=8080,dport=2050),zone=5,protoinfo=(state=ESTABLISHED)
udp,orig=(src=10.50.0.11,dst=198.18.0.10,sport=5000,dport=53),reply=(src=198.18.0.10,\
dst=198.18.0.1,sport=53,dport=1900),zone=5
icmp,orig=(src=10.50.0.11,dst=198.18.0.10,id=7,type=8,code=0),reply=(src=198.18.0.10,\
dst=10.50.0.11,id=7,type=0,code=0),zone=5
tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2),reply=(src=10.0.0.2,dst=10.0.0.1,\
sport=2,dport=1),zone=9,protoinfo=(state=SYN_SENT)
tcp,orig=(src=198.18.0.1,dst=198.18.0.10,sport=2050,dport=8080),reply=(src=198.18.0.10,\
dst=198.18.0.1,sport=8080,dport=2050),zone=7,protoinfo=(state=ESTABLISHED)
not a connection
"""


def test_connections_count_on_the_block_of_their_reply_port() -> None:
    counts = natusage.count(LISTING, 10)
    assert counts[("198.18.0.1", 1)] == 2  # 1100 and 1900: ports 1024-2047
    assert counts[("198.18.0.1", 2)] == 1  # 2050
    assert counts[("10.0.0.1", 0)] == 1  # any tracked connection counts where it replies
    assert sum(counts.values()) == 4  # echo has no port: not counted; 2050 is in two zones


def test_the_control_socket_is_found_next_to_the_ovsdb_socket(tmp_path: Path) -> None:
    target, env = natusage.unixctl_target(f"unix:{tmp_path}/db.sock")
    assert target == "ovs-vswitchd" and env["OVS_RUNDIR"] == str(tmp_path)
    (tmp_path / "vswitchd.ctl").touch()
    assert natusage.unixctl_target(f"unix:{tmp_path}/db.sock")[0] == str(tmp_path / "vswitchd.ctl")
    assert natusage.unixctl_target("tcp:127.0.0.1:6640")[0] == "ovs-vswitchd"
    assert natusage.unixctl_target("", "/run/x.ctl")[0] == "/run/x.ctl"


def test_a_switch_that_cannot_be_asked_gives_no_listing(tmp_path: Path) -> None:
    assert natusage.TrackerListing(str(tmp_path / "none.ctl"))() is None
