"""Which installed flows depend on what: tags -> flow cookies, for exact invalidation."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath.flows import FlowDelete

# Invalidations remembered to catch simulations that raced them (far more than can be in
# flight at once).
MAX_REMEMBERED = 100_000


class FlowIndex:
    """Hands out cookies for simulated flows and remembers the tags each one depends on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = 0
        self._by_tag: dict[str, set[int]] = {}
        self._tags_of: dict[int, set[str]] = {}
        self._generation = 0
        self._invalidated_at: dict[str, int] = {}
        self._state_of: dict[int, set[str]] = {}  # cookie -> connection state it keeps alive
        # called with the tags of every invalidation, after it (outside the lock)
        self.listeners: list[Callable[[set[str]], None]] = []

    def generation(self) -> int:
        """Take before simulating; pass to :meth:`add` to detect a change that raced it."""
        with self._lock:
            return self._generation

    def add(self, tags: Iterable[str], since: int | None = None,
            state_keys: Iterable[str] = ()) -> int | None:
        """A cookie for a new flow built from ``tags``.

        None when one of the tags was invalidated after generation ``since``: the simulation
        read something that changed meanwhile, so its flow must not be installed.
        """
        with self._lock:
            tags = set(tags)
            if since is not None and self._stale(tags, since):
                return None
            self._seq += 1
            cookie = p.cookie(p.COOKIE_SIMULATED, self._seq)
            self._tags_of[cookie] = tags
            if state_keys:
                self._state_of[cookie] = set(state_keys)
            for tag in tags:
                self._by_tag.setdefault(tag, set()).add(cookie)
            return cookie

    def invalidate(self, tags: Iterable[str]) -> list[FlowDelete]:
        """Forget every flow depending on any of ``tags``; the deletes to send for them."""
        changed = set(tags)
        with self._lock:
            self._generation += 1
            if len(self._invalidated_at) > MAX_REMEMBERED:
                horizon = self._generation - MAX_REMEMBERED // 2
                self._invalidated_at = {t: g for t, g in self._invalidated_at.items()
                                        if g > horizon}
            cookies: set[int] = set()
            for tag in changed:
                self._invalidated_at[tag] = self._generation
                cookies |= self._by_tag.pop(tag, set())
            for cookie in cookies:
                self._forget(cookie)
        for listener in list(self.listeners):
            listener(changed)
        return [FlowDelete(c) for c in sorted(cookies)]

    def stale(self, tags: Iterable[str], since: int) -> bool:
        """Whether one of ``tags`` was invalidated after generation ``since``."""
        with self._lock:
            return self._stale(tags, since)

    def _stale(self, tags: Iterable[str], since: int) -> bool:
        return any(self._invalidated_at.get(t, -1) > since for t in tags)

    def removed(self, cookie: int) -> None:
        """The switch removed a flow (idle timeout)."""
        with self._lock:
            self._forget(cookie)

    def clear(self) -> None:
        with self._lock:
            self._by_tag.clear()
            self._tags_of.clear()
            self._state_of.clear()

    def live_state(self) -> set[str]:
        """Connection-tracking and NAT keys that installed flows still use."""
        with self._lock:
            return set().union(*self._state_of.values()) if self._state_of else set()

    def _forget(self, cookie: int) -> None:
        self._state_of.pop(cookie, None)
        for tag in self._tags_of.pop(cookie, set()):
            users = self._by_tag.get(tag)
            if users is not None:
                users.discard(cookie)
                if not users:
                    del self._by_tag[tag]

    def __len__(self) -> int:
        return len(self._tags_of)

    def __contains__(self, cookie: object) -> bool:
        """Whether the flow with this cookie is still installed (not invalidated, removed)."""
        with self._lock:
            return cookie in self._tags_of
