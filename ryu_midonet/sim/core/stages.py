"""The named stages a packet goes through inside one device.

A device takes a packet in at a port (``PORT_IN``: the port's inbound chain), runs its own
inbound chain (``PRE``: pre-bridging, pre-routing), decides where the packet goes
(``FORWARD``), runs its outbound chain (``POST``) and sends it out of a port (``PORT_OUT``: the
port's outbound chain). Filters and the trace name the stage they act in.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    PORT_IN = "port in"
    PRE = "pre"
    FORWARD = "forward"
    POST = "post"
    PORT_OUT = "port out"
