"""Speaker leases: the routes a BGP uplink learned last no longer than its host.

The host running an uplink's bgpd holds the lease ``{p}:state:bgpspeaker:<port id>`` (its
host id) and renews it every :data:`TICK` seconds from a thread of its own
(:class:`Renewer`), so a slow RIB poll does not let it lapse. The lease lasts the peers'
shortest hold time less one tick (:func:`lease_seconds`), and every host looks for lapsed
leases every tick (:class:`Reaper`): a host that dies (agent and bgpd gone, or the whole
machine) has its uplinks' learned routes deleted by the others within the hold time, as the
peer drops the session within it. An agent restarted within the lease keeps them; one that
takes longer finds them deleted and writes them again at its first poll.

A reaper only acts once it has reached the store for :data:`SETTLE` seconds in a row: a store
outage stops every renewal, and the owners must get the chance to renew before anyone counts
their leases as lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from ryu_midonet.bgp import config
from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.writers import RELEASE_IF_HELD

LOG = logging.getLogger(__name__)

KEY_FAMILY = "bgpspeaker"
TICK = 0.5  # seconds between renewals, and between looks for lapsed leases
MIN_TTL = 2.5  # seconds: a lease outlives a stall of four renewals
SETTLE = 2.0  # seconds a reaper must have reached the store before it reaps


def lease_seconds(peers: Iterable[config.Peer]) -> float:
    """The lease time of a speaker: its shortest effective hold time (FRR's default for a
    peer without timers; a hold time of 0, no keepalives, counts as the default) less one
    :data:`TICK`, at least :data:`MIN_TTL`."""
    holds = []
    for peer in peers:
        hold = peer.hold if peer.hold is not None else config.HOLD_DEFAULT
        if peer.hold is None and peer.keepalive:
            hold = max(config.HOLD_DEFAULT, 3 * peer.keepalive)
        holds.append(hold or config.HOLD_DEFAULT)
    return max(MIN_TTL, float(min(holds, default=config.HOLD_DEFAULT)) - TICK)


class Leases:
    """Speaker leases on the topology store's Redis."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._give = store.redis.register_script(RELEASE_IF_HELD)

    def key(self, port_id: str) -> str:
        return str(self.store.key_state(f"{KEY_FAMILY}:{port_id}"))

    def renew(self, held: dict[str, float], host_id: str) -> None:
        """Set the leases of ``held`` (port id -> seconds) to ``host_id``, in one round trip."""
        pipe = self.store.redis.pipeline(transaction=False)
        for port_id, ttl in held.items():
            pipe.set(self.key(port_id), host_id, px=int(ttl * 1000))
        pipe.execute()

    def give(self, port_id: str, host_id: str) -> None:
        """Release the lease of ``port_id`` if ``host_id`` holds it."""
        self._give(keys=[self.key(port_id)], args=[host_id])

    def alive(self, port_ids: list[str]) -> set[str]:
        """Those of ``port_ids`` whose lease is held."""
        pipe = self.store.redis.pipeline(transaction=False)
        for port_id in port_ids:
            pipe.exists(self.key(port_id))
        return {p for p, held in zip(port_ids, pipe.execute(), strict=True) if held}


class Ticker:
    """A daemon thread that calls :meth:`tick` every :data:`TICK` seconds until stopped."""

    name = "ticker"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def tick(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the thread must go on
                LOG.exception("%s failed", self.name)


class Renewer(Ticker):
    """Renews this host's speaker leases every :data:`TICK` seconds until stopped."""

    name = "bgp-leases"

    def __init__(self, leases: Leases, host_id: str) -> None:
        super().__init__()
        self.leases = leases
        self.host_id = host_id
        self._held: dict[str, float] = {}  # port id -> lease time
        self._lock = threading.Lock()

    def hold(self, port_id: str, seconds: float) -> None:
        """Hold the lease of ``port_id`` (or change its time), renewing it at once."""
        with self._lock:
            changed = self._held.get(port_id) != seconds
            self._held[port_id] = seconds
        if changed:
            self._renew({port_id: seconds})

    def give(self, port_id: str) -> None:
        """Stop renewing ``port_id``'s lease and release it."""
        with self._lock:
            if self._held.pop(port_id, None) is None:
                return
        try:
            self.leases.give(port_id, self.host_id)
        except errors.UNAVAILABLE as exc:  # it runs out by itself
            LOG.debug("speaker lease of port %s not released: %s", port_id, exc)

    def tick(self) -> None:
        with self._lock:
            held = dict(self._held)
        if held:
            self._renew(held)

    def _renew(self, held: dict[str, float]) -> None:
        try:
            self.leases.renew(held, self.host_id)
        except errors.UNAVAILABLE as exc:
            LOG.debug("speaker leases not renewed: %s", exc)


class Reaper(Ticker):
    """Every :data:`TICK` seconds, hands ``reap`` the uplink ports that have learned routes,
    are not this host's (``candidates``) and whose lease is gone, once the store has been
    reachable for :data:`SETTLE` seconds."""

    name = "bgp-reaper"

    def __init__(self, leases: Leases, candidates: Callable[[], list[str]],
                 reap: Callable[[list[str]], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.leases = leases
        self.candidates = candidates
        self.reap = reap
        self._clock = clock
        self._reached: float | None = None  # since when the store answers

    def orphans(self) -> list[str]:
        """The candidates whose lease is gone (none until the store has settled)."""
        try:
            ports = self.candidates()
            alive = self.leases.alive(ports) if ports else set()
        except errors.UNAVAILABLE as exc:
            LOG.debug("speaker leases not read: %s", exc)
            self._reached = None
            return []
        now = self._clock()
        if self._reached is None:
            self._reached = now
        if now - self._reached < SETTLE:
            return []
        return [p for p in ports if p not in alive]

    def tick(self) -> None:
        orphans = self.orphans()
        if orphans:
            self.reap(orphans)
