"""How many connections the switch's tracker holds on each NAT port block of this host.

Source NAT in the datapath leaves the choice of a port per connection to Open vSwitch's
connection tracker, so no agent sees the connections: to lease another block before the
ones it has run out (:meth:`~ryu_midonet.statestore.natleases.RedisNatRanges.adjust`), the
agent asks the tracker itself, periodically and off the packet path, with ``ovs-appctl
dpctl/dump-conntrack`` (one listing of every tracked connection, counted here by the
destination address and port of its reply direction: the NAT address and the port the
tracker chose). Closed TCP connections the tracker still remembers (TIME_WAIT) count: their
ports are not free either. The tracker may give one port to connections to different
destinations, so the count is what the busiest destination could need at most: the next
block comes early rather than late. A connection the tracker holds in several zones (a
translation in another flow-state scope than the exit port's, committed in both) counts
once: by protocol and reply direction. The listing costs one line per tracked connection
(about 150 bytes), every few seconds, on the agent's state thread.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

LOG = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds ovs-appctl may take to list the tracker's connections
CTL_NAME = "vswitchd.ctl"  # the control socket's name next to the OVSDB socket, if so named

# the reply direction of a connection with ports (ICMP has an id and no ports)
_REPLY = re.compile(r"^(\w*),.*?reply=\(src=([^,]+),dst=([0-9.]+),sport=(\d+),dport=(\d+)\)",
                    re.MULTILINE)


def count(listing: str, bits: int) -> Counter[tuple[str, int]]:
    """(NAT address, block of ``2**bits`` ports) -> connections with ports of ``listing``
    (the output of ``dpctl/dump-conntrack``) whose replies go to a port of that block."""
    return Counter((ip, int(port) >> bits) for _, _, ip, _, port in set(_REPLY.findall(listing)))


def unixctl_target(ovsdb_connection: str, configured: str = "") -> tuple[str, dict[str, str]]:
    """The ``ovs-appctl -t`` target of this host's ovs-vswitchd and the environment to run
    it in: ``configured`` when given, else the switch's control socket in the directory of
    the OVSDB unix socket (``vswitchd.ctl`` when there is one, else the daemon's default
    name in that run directory), else the system's default."""
    env = dict(os.environ)
    if configured:
        return configured, env
    if ovsdb_connection.startswith("unix:"):
        run_dir = Path(ovsdb_connection[len("unix:"):]).parent
        if (run_dir / CTL_NAME).exists():
            return str(run_dir / CTL_NAME), env
        env["OVS_RUNDIR"] = str(run_dir)
    return "ovs-vswitchd", env


class TrackerListing:
    """Lists the connections the local switch's tracker holds (None when it cannot)."""

    def __init__(self, target: str, env: dict[str, str] | None = None) -> None:
        self.target = target
        self.env = env
        self._warned = False

    def __call__(self) -> str | None:
        try:
            done = subprocess.run(["ovs-appctl", "-t", self.target, "dpctl/dump-conntrack"],
                                  capture_output=True, text=True, timeout=TIMEOUT,
                                  env=self.env, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            self._warn(str(exc))
            return None
        if done.returncode != 0:
            self._warn(done.stderr.strip())
            return None
        self._warned = False
        return done.stdout

    def _warn(self, why: str) -> None:
        if not self._warned:  # once until it works again
            LOG.warning("cannot list the switch's tracked connections (%s): NAT port blocks "
                        "are neither added nor released until it can", why)
            self._warned = True
