"""The flooding proxy of a VTEP: the host its BUM traffic is tunnelled to.

One host among the live members of the VTEP's tunnel zone whose ``floodingProxyWeight`` is
above 0, chosen by weighted rendezvous hashing on (VTEP, host): every owner computes the same
host, a host with twice the weight is twice as likely to be chosen, and a host going away moves
only the VTEPs it was proxy of.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping


def _score(vtep_id: str, host_id: str, weight: int) -> float:
    digest = hashlib.sha256(f"{vtep_id}/{host_id}".encode()).digest()
    u = (int.from_bytes(digest[:7], "big") + 1) / float((1 << 56) + 2)  # in (0, 1)
    return weight / -math.log(u)


def elect(vtep_id: str, weights: Mapping[str, int]) -> str | None:
    """The proxy among candidate hosts (host id -> weight; 0 excludes), or None."""
    scored = [(_score(vtep_id, h, w), h) for h, w in weights.items() if w > 0]
    return max(scored)[1] if scored else None
