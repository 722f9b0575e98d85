"""The agent's one way to the switch: messages in order, optionally checked first.

With ``check`` on, every flow is checked against its pipeline table's contract
(:func:`~ryu_midonet.datapath.ofcheck.check_flow_mod`) before anything is sent; a flow that
breaks it, or that the checks do not understand, is logged and left out, the rest is sent.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ryu_midonet.datapath import ofmsgs
from ryu_midonet.datapath.flows import Message
from ryu_midonet.datapath.ofcheck import NotUnderstood, check_flow_mod
from ryu_midonet.datapath.pipeline import FlowRefused

LOG = logging.getLogger(__name__)


class Sender:
    """Sends to the connected datapath (none: messages are dropped), one batch at a time."""

    def __init__(self, check: bool = False) -> None:
        self.check = check
        self.dp: Any = None
        self.refused = 0  # flows left out for breaking their contract
        self._lock = threading.Lock()

    def send(self, messages: list[Message]) -> None:
        if not messages:
            return
        with self._lock:
            if self.dp is None:
                return
            if self.check:
                messages = [m for m in messages if self._allowed(m)]
            ofmsgs.send_all(self.dp, messages)

    def _allowed(self, msg: Message) -> bool:
        try:
            for ofmsg in ofmsgs.to_ofp_all(self.dp, msg):
                check_flow_mod(ofmsg)
        except (FlowRefused, NotUnderstood) as exc:
            self.refused += 1
            LOG.error("not sending a flow that breaks its table's contract: %s (%s)",
                      exc, msg)
            return False
        return True
