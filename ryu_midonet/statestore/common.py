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

# KEYS: table hash, deadlines; ARGV: field, its member in the deadlines set
GET_LIVE = NOW_LUA + """
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return false end
local deadline = redis.call('ZSCORE', KEYS[2], ARGV[2])
if not deadline or tonumber(deadline) <= now then return false end
return value
"""
"""Lua: a table entry whose deadline has not passed, or nil."""


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
