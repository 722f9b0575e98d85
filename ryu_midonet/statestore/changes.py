"""Following the announcements of changed state entries."""

from __future__ import annotations

import time

from ryu_midonet.nsdb.store import Store
from ryu_midonet.statestore.common import changes_channel, text


class StateChanges:
    """Follows the announcements of changed entries (a Redis pub/sub subscription)."""

    def __init__(self, store: Store) -> None:
        self._pubsub = store.redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(changes_channel(store))

    def get(self, timeout: float = 0.0) -> str | None:
        """The next changed tag, waiting up to ``timeout`` seconds; None when none came."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
            if message is not None and message.get("type") == "message":
                return text(message["data"])
            if time.monotonic() >= deadline:
                return None

    def close(self) -> None:
        self._pubsub.close()
