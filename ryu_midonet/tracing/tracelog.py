"""What live tracing keeps in the store: each request's packets left, and its trace log.

Key family (in the store's hash tag, next to the topology):

- ``{p}:trace:<request id>:left:<limit>``  packets the request may still trace (counted down
  by every agent atomically; a new limit starts a new count). No key for an unlimited request.
- ``{p}:trace:<request id>:log``           the traced packets, oldest first, one entry each
  (a block of text lines), the newest :data:`LOG_MAX` kept.

Both expire :data:`KEEP_S` after their last write.
"""

from __future__ import annotations

from typing import Any

LOG_MAX = 1000
KEEP_S = 7 * 24 * 3600
UNLIMITED = 2**63 - 1

# KEYS[1] the count; ARGV[1] the limit, ARGV[2] the expiry (s). 1: one packet taken, 0: none left
_TAKE = """
local left = redis.call('GET', KEYS[1])
if left then left = tonumber(left) else left = tonumber(ARGV[1]) end
if left <= 0 then
  redis.call('SET', KEYS[1], 0, 'EX', ARGV[2])
  return 0
end
redis.call('SET', KEYS[1], string.format('%d', left - 1), 'EX', ARGV[2])
return 1
"""


def _key(store: Any, request_id: str, what: str) -> str:
    return f"{store.tag}:trace:{request_id}:{what}"


class StoreCounter:
    """Counts each request's packets down in the store, for all agents at once."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._take = store.redis.register_script(_TAKE)

    def take(self, request_id: str, limit: int) -> bool:
        """One packet of ``request_id`` traced: False when its limit was reached."""
        if limit >= UNLIMITED:
            return True
        if limit <= 0:
            return False
        key = _key(self.store, request_id, f"left:{limit}")
        return bool(self._take(keys=[key], args=[limit, KEEP_S]))

    def left(self, request_id: str, limit: int) -> int:
        """Packets the request may still trace."""
        if limit >= UNLIMITED:
            return limit
        raw = self.store.redis.get(_key(self.store, request_id, f"left:{limit}"))
        return limit if raw is None else int(raw)


class StoreLog:
    """Each request's trace log in the store."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def write(self, request_id: str, entry: str) -> None:
        key = _key(self.store, request_id, "log")
        with self.store.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, entry)
            pipe.ltrim(key, -LOG_MAX, -1)
            pipe.expire(key, KEEP_S)
            pipe.execute()


def read(store: Any, request_id: str) -> list[str]:
    """The entries of ``request_id``'s trace log, oldest first."""
    raw = store.redis.lrange(_key(store, request_id, "log"), 0, -1)
    return [x.decode() if isinstance(x, bytes) else str(x) for x in raw]


def clear(store: Any, request_id: str) -> None:
    store.redis.delete(_key(store, request_id, "log"))
