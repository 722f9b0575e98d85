"""What filters decide about a packet, as types.

``Accept`` lets it go on; ``Drop`` drops it silently; ``Reject`` drops it and the filter has
answered the sender; ``Redirect`` sends it out of another port instead of going on;
``Mirror`` sends a copy out of a port and lets the packet go on. Every consumer of a verdict
handles all five (:func:`ryu_midonet.sim.core.filters.admit`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Accept:
    pass


@dataclass(frozen=True)
class Drop:
    pass


@dataclass(frozen=True)
class Reject:
    pass


@dataclass(frozen=True)
class Redirect:
    port_id: str


@dataclass(frozen=True)
class Mirror:
    port_id: str


Verdict = Accept | Drop | Reject | Redirect | Mirror

ACCEPT, DROP, REJECT = Accept(), Drop(), Reject()
