"""Open vSwitch's TCP sequence checking, off where the tracker sees one direction only.

A host with a port of a stateful scope bound on several hosts receives copies of the
connections other hosts commit (:mod:`~ryu_midonet.datapath.ctcopy`) and may then see only
their replies. Open vSwitch checks each TCP segment against the peer's window, which it
never sees there: past the first 64 KB or so the replies are ``+inv`` and dropped. Such a
host's agent turns the check off, once per switch connection (``ovs-appctl
dpctl/ct-disable-tcp-seq-chk``, the userspace datapath the agent uses); the tracker then
still follows TCP states, as Linux does with ``nf_conntrack_tcp_be_liberal``.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable

LOG = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds ovs-appctl may take
COMMAND = "dpctl/ct-disable-tcp-seq-chk"

Run = Callable[[list[str], dict[str, str] | None], bool]


def _run(argv: list[str], env: dict[str, str] | None) -> bool:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, env=env,
                              check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        LOG.warning("%s failed: %s", " ".join(argv), exc)
        return False
    if done.returncode != 0:
        LOG.warning("%s failed: %s", " ".join(argv), done.stderr.strip())
        return False
    return True


class SeqCheck:
    """Turns the switch's TCP sequence checking off the first time this host needs it
    (``enabled``: the agent option), again after the switch reconnected."""

    def __init__(self, target: str, env: dict[str, str] | None = None, enabled: bool = True,
                 run: Run = _run) -> None:
        self.argv = ["ovs-appctl", "-t", target, COMMAND]
        self.env = env
        self.enabled = enabled
        self.run = run
        self.done = False

    def reset(self) -> None:
        """The switch (re)connected: it may have restarted with the check on."""
        self.done = False

    def need(self, one_sided: bool) -> None:
        """This host's tracker may see one direction of connections (``one_sided``)."""
        if not self.enabled or self.done or not one_sided:
            return
        self.done = True
        if self.run(self.argv, self.env):
            LOG.info("TCP sequence checking turned off: this host receives copies of "
                     "connections whose replies alone it may see")
