"""Pure arithmetic over samples: medians, and when a change showed in a stream of probes."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

# A change has shown when this many probes in a row agree with it (or all probes left do).
SETTLE_RUN = 20


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def effect_delay(sent: Sequence[float], answered: Sequence[bool], start: float, end: float,
                 answered_after: bool, run: int = SETTLE_RUN) -> float | None:
    """Seconds from ``start`` to the send time of the first probe that shows the change.

    ``sent[i]`` is when probe ``i`` left and ``answered[i]`` whether its echo came back. Only
    probes sent in ``[start, end)`` count. The change shows at the first of ``run`` probes in
    a row whose outcome is ``answered_after`` (traffic back: True; traffic stopped: False); a
    shorter streak that lasts until ``end`` counts too. None when it never shows.
    """
    window = [(t, ok) for t, ok in zip(sent, answered, strict=True) if start <= t < end]
    streak_start: int | None = None
    for index, (_, ok) in enumerate(window):
        if ok != answered_after:
            streak_start = None
            continue
        if streak_start is None:
            streak_start = index
        if index - streak_start + 1 >= run:
            break
    if streak_start is None:
        return None
    return window[streak_start][0] - start


def ratio(subject: float | None, peer: float | None) -> float | None:
    """``subject / peer`` (1.0 when both are zero: no cost on either side), or None when
    either is missing or only the peer is zero."""
    if subject == 0 and peer == 0:
        return 1.0
    if subject is None or peer is None or peer == 0:
        return None
    return subject / peer


def per_item(total: float | None, items: int) -> float | None:
    """``total / items``, or None when the total is unknown or there are no items."""
    if total is None or items <= 0:
        return None
    return total / items
