"""Bringing the switch back to a restarted agent at once.

Open vSwitch retries a controller it lost with a growing back-off (1, 2, 4 ... seconds), so
an agent that restarts could wait several seconds for its switch. Once the agent listens, it
gives the switch a moment to connect on its own and otherwise makes it reconnect now by
recreating the controller record: a new controller connection is attempted immediately.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

from ryu_midonet.ovsdb.switch import LocalSwitch

LOG = logging.getLogger(__name__)

LISTEN_WAIT = 30.0  # seconds for os-ken to start listening
GRACE = 0.3  # seconds the switch gets to connect by itself


def listening(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def hurry_switch(switch: LocalSwitch, controller: str, port: int,
                 connected: Callable[[], bool], stop: threading.Event) -> bool:
    """Wait until this agent listens on ``port``; if the switch has not connected ``GRACE``
    seconds later, make it reconnect. Returns whether it had to."""
    deadline = time.monotonic() + LISTEN_WAIT
    while not listening(port):
        if stop.wait(0.05) or time.monotonic() > deadline:
            return False
    if stop.wait(GRACE) or connected():
        return False
    LOG.info("the switch is still backing off; asking it to reconnect now")
    switch.reconnect(controller)
    return True
