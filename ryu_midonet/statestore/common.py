"""What the Redis state tables share: the server clock, the change channel, decoding."""

from __future__ import annotations

from typing import Any

import redis

from ryu_midonet.nsdb.store import Store

EXPIRE_BATCH = 1000

NOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
"""Lua prologue that sets ``now`` to the server's clock in milliseconds."""


def changes_channel(store: Store) -> str:
    """The channel on which every changed entry's tag or flow-state key is announced."""
    return store.key_state("changes")


def text(value: Any) -> str:
    """A Redis reply as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


def now_ms(client: redis.Redis) -> int:
    """The Redis server's clock, in milliseconds."""
    seconds, micros = client.time()
    return int(seconds) * 1000 + int(micros) // 1000
