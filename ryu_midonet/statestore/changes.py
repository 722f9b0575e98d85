"""Following the announcements of changed state entries."""

from __future__ import annotations

import time

from ryu_midonet.nsdb.store import Store
from ryu_midonet.statestore.common import changes_channel, text

SUBSCRIBE_TIMEOUT = 5.0


class StateChanges:
    """Follows the announcements of changed entries (a Redis pub/sub subscription)."""

    def __init__(self, store: Store) -> None:
        self._store = store  # its client owns the connection pool the subscription uses
        self._pubsub = store.redis.pubsub()
        self._pubsub.subscribe(changes_channel(store))
        self._confirm(SUBSCRIBE_TIMEOUT)
        self._again = False

    def _confirm(self, timeout: float) -> None:
        """Wait until the server confirms the subscription: announcements made after this
        returns are received (redis-py may send the command only once messages are read)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self._pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
            if message is not None and message.get("type") == "subscribe":
                return
        raise TimeoutError("the store did not confirm the subscription to announcements")

    def get(self, timeout: float = 0.0) -> str | None:
        """The next changed tag, waiting up to ``timeout`` seconds; None when none came."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
            if message is not None and message.get("type") == "message":
                return text(message["data"])
            if message is not None and message.get("type") == "subscribe":
                self._again = True  # redis-py reconnected and subscribed again
            if time.monotonic() >= deadline:
                return None

    def resubscribed(self) -> bool:
        """Whether the subscription was made again since last asked (after a lost connection:
        announcements made meanwhile were missed)."""
        again, self._again = self._again, False
        return again

    def close(self) -> None:
        self._pubsub.close()
