"""Tracker timeouts of the zones of stateful scopes bound on several hosts.

Each host of such a scope sees part of a TCP connection's handshake only (the copy of the
first packet and the replies, or the client's segments alone:
:mod:`~ryu_midonet.datapath.ctcopy`), so from its second packet on its tracker keeps the
connection in the opening state (a side short of ``ESTABLISHED``: timeout ``tcp_syn_recv``,
30 s): an idle connection would be forgotten on every host after 30 s and its next packet
dropped by a return-only chain. The agent gives each such zone a timeout policy on the local
switch in which that state lasts ``conntrack_copies_tcp_timeout`` seconds
(:data:`DEFAULT_SECONDS`); other states keep their defaults (a lone SYN ``tcp_syn_sent``,
30 s; connections a host sees both sides of ``tcp_established``, 24 h). It removes the policy
when the zone is no longer such a scope's, and writes it again after the switch reconnected
(the database may be new) and when the agent starts (removing what a previous run left and
no longer applies).

Why not 24 h as for ``tcp_established``: the committing host's tracker cannot tell a closed
connection (``CLOSING``/``CLOSED``) nor a retransmitted SYN nobody answers from an idle
connection, so those stay as long, counting against the tracker's limit (3,000,000 by
default, ``ovs-appctl dpctl/ct-set-maxconns``): 1 h allows about 830 new connections per
second per host.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

LOG = logging.getLogger(__name__)

DEFAULT_SECONDS = 3600
OPENING_STATES = ("tcp_syn_recv",)

Apply = Callable[[dict[int, dict[str, int]]], list[int]]


def policy(seconds: int) -> dict[str, int]:
    """The timeouts of a zone whose tracker may see one side of a handshake only."""
    return {state: seconds for state in OPENING_STATES}


class ZoneTimeouts:
    """Keeps the switch's timeout policies of the agent's zones equal to those of the
    scopes bound on several hosts (``seconds``: the option; 0 removes them all)."""

    def __init__(self, apply: Apply, seconds: int = DEFAULT_SECONDS) -> None:
        self.apply = apply
        self.seconds = max(0, int(seconds))
        self.applied: dict[int, dict[str, int]] | None = None

    def reset(self) -> None:
        """The switch (re)connected: its database may have lost the policies."""
        self.applied = None

    def need(self, zones: Iterable[int]) -> None:
        """The zones of this host's scopes bound on several hosts are ``zones``."""
        wanted = {int(z): policy(self.seconds) for z in zones} if self.seconds else {}
        if wanted == self.applied:
            return
        try:
            taken = self.apply(wanted)
        except Exception as exc:  # noqa: BLE001 -- the database may be away; tried again later
            LOG.warning("tracker timeout policies of zones %s not written: %s",
                        sorted(wanted), exc)
            return
        self.applied = wanted
        if taken:
            LOG.warning("zones %s already have a timeout policy the agent did not write: "
                        "left as they are", sorted(taken))
        if wanted:
            LOG.info("tracker zones %s keep opening TCP connections %d s",
                     sorted(wanted), self.seconds)
