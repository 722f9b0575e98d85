"""The namespace of one uplink's bgpd: a veth whose inside end has the router port's MAC
and address and whose outside end is a port of the integration bridge.

Names carry a configurable prefix (``rm-`` in the sandbox) and the first eight hex digits
of the port id: namespace ``<prefix>bgp-<id>``, interfaces ``<prefix>b<id>`` (bridge side)
and ``<prefix>n<id>`` (inside). Every step is idempotent, so setting up a namespace that
exists repairs it (a name whose namespace is gone, as when an agent that ran in a mount
namespace of its own died, is given back to the namespace a process left running there
still holds, or made again), and removing one that is gone does nothing. A veth made again
is removed from the bridge and added back, so that the switch opens the new device.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

LOG = logging.getLogger(__name__)

Run = Callable[..., Any]  # subprocess.run-like
TIMEOUT = 10.0


@dataclass(frozen=True)
class Names:
    """The names of one port's namespace and interfaces."""

    netns: str
    outside: str
    inside: str


def names(prefix: str, port_id: str) -> Names:
    short = port_id.replace("-", "")[:8]
    return Names(f"{prefix}bgp-{short}", f"{prefix}b{short}", f"{prefix}n{short}")


class Namespace:
    """Creates and removes the namespace of one uplink's bgpd."""

    def __init__(self, nm: Names, bridge: str, ovsdb: str | None = None,
                 run: Run = subprocess.run) -> None:
        self.names = nm
        self.bridge = bridge
        self._vsctl = ["ovs-vsctl", *([f"--db={ovsdb}"] if ovsdb else [])]
        self._run = run
        self._new_veth = False  # made since the port was last added to the bridge

    def _cmd(self, argv: Sequence[str], check: bool = True) -> str | None:
        try:
            done = self._run(list(argv), capture_output=True, text=True, timeout=TIMEOUT,
                             check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            LOG.warning("%s: %s", " ".join(argv), exc)
            return None
        if done.returncode != 0:
            if check:
                LOG.warning("%s: %s", " ".join(argv), (done.stderr or "").strip())
            return None
        return str(done.stdout)

    def _usable(self) -> bool:
        """The name exists and leads into a namespace."""
        return self.exists() and self._cmd(["ip", "-n", self.names.netns, "link", "show",
                                            "lo"], check=False) is not None

    def exists(self) -> bool:
        out = self._cmd(["ip", "netns", "list"]) or ""
        return any(line.split()[0] == self.names.netns for line in out.splitlines()
                   if line.strip())

    def setup(self, mac: str, address: str, length: int, holder: int | None = None
              ) -> int | None:
        """Create (or repair) the namespace with ``address/length`` and ``mac`` on its
        interface; the OpenFlow port of the interface's bridge side, ``None`` on failure.
        ``holder`` is a process left in the namespace (see :meth:`make`)."""
        self.make(mac, address, length, holder=holder)
        return self.attach()

    def make(self, mac: str, address: str, length: int, gateway: str | None = None,
             holder: int | None = None) -> None:
        """Create (or repair) the namespace and its veth, with ``address/length`` and ``mac``
        on the inside end and, given a ``gateway``, a default route through it.

        When the name is unusable (an agent that ran in a mount namespace of its own died
        and took the name's mount with it) and ``holder`` is the PID of a process that still
        runs in the namespace, the name is given to that process's namespace again
        (``ip netns attach``), so its veth, addresses and sockets stay as they were."""
        n = self.names
        ns = ["ip", "-n", n.netns]
        if not self._usable():
            if self.exists():
                self._cmd(["ip", "netns", "del", n.netns], check=False)  # a name left behind
            if holder is not None and self._cmd(["ip", "netns", "attach", n.netns,
                                                 str(holder)], check=False) is not None:
                LOG.info("namespace %s taken over from process %d", n.netns, holder)
            if not self._usable():
                self._cmd(["ip", "netns", "del", n.netns], check=False)
                self._cmd(["ip", "netns", "add", n.netns])
        if self._cmd([*ns, "link", "show", n.inside], check=False) is None:
            self._cmd(["ip", "link", "del", n.outside], check=False)  # its inside end is lost
            self._cmd(["ip", "link", "add", n.outside, "type", "veth", "peer", "name",
                       n.inside, "netns", n.netns])
            self._new_veth = True
        self._cmd(["ip", "netns", "exec", n.netns, "sysctl", "-qw",
                   "net.ipv6.conf.all.disable_ipv6=1"], check=False)
        # checksums in software: a userspace switch forwards veth frames as they are
        self._cmd(["ip", "netns", "exec", n.netns, "ethtool", "-K", n.inside, "tx", "off"],
                  check=False)
        self._cmd([*ns, "link", "set", n.inside, "address", mac])
        self._cmd([*ns, "addr", "replace", f"{address}/{length}", "dev", n.inside])
        self._cmd([*ns, "link", "set", n.inside, "up"])
        self._cmd([*ns, "link", "set", "lo", "up"])
        self._cmd(["ip", "link", "set", n.outside, "up"])
        if gateway is not None:
            self._cmd([*ns, "route", "replace", "default", "via", gateway])

    def attach(self) -> int | None:
        """Add the outside end to the bridge: its OpenFlow port, ``None`` on failure."""
        n = self.names
        if self._new_veth:
            # a userspace switch keeps reading the deleted device of that name: only a port
            # removed and added again makes it open the new one
            self._cmd([*self._vsctl, "--if-exists", "del-port", self.bridge, n.outside])
            self._new_veth = False
        self._cmd([*self._vsctl, "--may-exist", "add-port", self.bridge, n.outside])
        out = self._cmd([*self._vsctl, "--timeout=5", "wait-until", "Interface", n.outside,
                         "ofport>0", "--", "get", "Interface", n.outside, "ofport"])
        try:
            ofport = int((out or "").split()[-1])
        except (ValueError, IndexError):
            return None
        return ofport if ofport > 0 else None

    def remove(self) -> None:
        """Remove the interface from the bridge, the veth and the namespace."""
        n = self.names
        self._cmd([*self._vsctl, "--if-exists", "del-port", self.bridge, n.outside])
        self._cmd(["ip", "link", "del", n.outside], check=False)
        if self.exists():
            self._cmd(["ip", "netns", "del", n.netns])
