"""The flow-state table and the SNAT port leases, shared by every agent through Redis.

Layout, under the store's hash tag (see :mod:`.tables`):

- ``{p}:state:flow``                 hash ``<key>`` -> value (``ct:...``, ``nat:...`` keys)
- ``{p}:state:deadlines:flow``       sorted set ``<key>`` scored by deadline (ms)
- ``{p}:state:natblock:<ip>``        hash ``<block>`` -> host id holding the lease
- ``{p}:state:deadlines:natblock``   sorted set ``<ip>|<block>`` scored by lease deadline (ms)
- channel ``{p}:state:changes``      a flow-state key that appeared, changed, went or expired

Every write is one Lua script (atomic, with its announcement), and deadlines use the Redis
server's clock, as for the MAC and ARP tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import redis

from ryu_midonet.nsdb.store import Store
from ryu_midonet.sim.state.flowstate import FLOW_TTL, ttl_of
from ryu_midonet.sim.state.leases import LEASE_TTL
from ryu_midonet.statestore.common import (
    EXPIRE_BATCH,
    GET_LIVE,
    NOW_LUA,
    changes_channel,
    now_ms,
    text,
)

# KEYS: table, deadlines; ARGV: key, value, ttl ms, channel, only-if-absent (0/1)
_PUT = NOW_LUA + """
local old = redis.call('HGET', KEYS[1], ARGV[1])
local deadline = redis.call('ZSCORE', KEYS[2], ARGV[1])
local live = old and deadline and tonumber(deadline) > now
if ARGV[5] == '1' and live then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
if live and old == ARGV[2] then return 0 end
redis.call('PUBLISH', ARGV[4], ARGV[1])
return 1
"""

# KEYS: table, deadlines; ARGV: key, channel, only-if-expired (0/1)
_DELETE = NOW_LUA + """
if ARGV[3] == '1' then
  local deadline = redis.call('ZSCORE', KEYS[2], ARGV[1])
  if deadline and tonumber(deadline) > now then return 0 end
end
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if removed == 0 then return 0 end
redis.call('PUBLISH', ARGV[2], ARGV[1])
return 1
"""

# KEYS: deadlines; ARGV: ttl ms, keys... -> how many were live (and refreshed)
_REFRESH = NOW_LUA + """
local count = 0
for i = 2, #ARGV do
  local deadline = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if deadline and tonumber(deadline) > now then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i])
    count = count + 1
  end
end
return count
"""

# KEYS: deadlines; ARGV: keys... -> 1/0 each
_LIVE = NOW_LUA + """
local out = {}
for i = 1, #ARGV do
  local deadline = redis.call('ZSCORE', KEYS[1], ARGV[i])
  out[i] = (deadline and tonumber(deadline) > now) and 1 or 0
end
return out
"""

# KEYS: blocks of the ip, lease deadlines; ARGV: ip, first, last, host, ttl ms
_ACQUIRE = NOW_LUA + """
for block = tonumber(ARGV[2]), tonumber(ARGV[3]) do
  local member = ARGV[1] .. '|' .. block
  local deadline = redis.call('ZSCORE', KEYS[2], member)
  if not deadline or tonumber(deadline) <= now then
    redis.call('HSET', KEYS[1], block, ARGV[4])
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), member)
    return block
  end
end
return -1
"""

# KEYS: blocks of the ip, lease deadlines; ARGV: member, block, host, ttl ms (0: release)
_RENEW = NOW_LUA + """
if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[3] then return 0 end
if ARGV[4] == '0' then
  redis.call('HDEL', KEYS[1], ARGV[2])
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[1])
end
return 1
"""


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisFlowTable:
    """The flow-state table on Redis (see :class:`ryu_midonet.sim.state.flowstate.FlowTable`)."""

    def __init__(self, store: Store, ttl: float = FLOW_TTL) -> None:
        self.redis: redis.Redis = store.redis
        self.ttl = ttl
        self.table = store.key_state("flow")
        self.deadlines = store.key_state("deadlines:flow")
        self.channel = changes_channel(store)
        self._get = self.redis.register_script(GET_LIVE)
        self._put = self.redis.register_script(_PUT)
        self._delete = self.redis.register_script(_DELETE)
        self._refresh = self.redis.register_script(_REFRESH)
        self._live = self.redis.register_script(_LIVE)

    def get(self, key: str) -> str | None:
        value = self._get(keys=[self.table, self.deadlines], args=[key, key])
        return None if value is None else text(value)

    def put(self, key: str, value: str) -> bool:
        return self._write(key, value, False)

    def put_new(self, key: str, value: str) -> bool:
        return self._write(key, value, True)

    def delete(self, key: str, only_expired: bool = False) -> bool:
        return bool(self._delete(keys=[self.table, self.deadlines],
                                 args=[key, self.channel, "1" if only_expired else "0"]))

    def refresh(self, keys: Iterable[str]) -> int:
        by_ttl: dict[int, list[str]] = {}
        for key in sorted(set(keys)):
            by_ttl.setdefault(self._ttl_ms(key), []).append(key)
        return sum(int(self._refresh(keys=[self.deadlines], args=[ttl, *wanted]))
                   for ttl, wanted in by_ttl.items())

    def _ttl_ms(self, key: str) -> int:
        return _ms(ttl_of(key, self.ttl))

    def live(self, keys: Iterable[str]) -> set[str]:
        wanted = sorted(set(keys))
        if not wanted:
            return set()
        flags = self._live(keys=[self.deadlines], args=wanted)
        return {key for key, flag in zip(wanted, flags, strict=True) if int(flag)}

    def expire(self, limit: int = EXPIRE_BATCH) -> int:
        """Remove up to ``limit`` expired entries, announcing each; returns how many."""
        now = now_ms(self.redis)
        members = self.redis.zrangebyscore(self.deadlines, "-inf", now, start=0, num=limit)
        return sum(self.delete(text(m), only_expired=True) for m in members)

    def _write(self, key: str, value: str, only_new: bool) -> bool:
        return bool(self._put(keys=[self.table, self.deadlines],
                              args=[key, value, self._ttl_ms(key), self.channel,
                                    "1" if only_new else "0"]))


class RedisBlockLeases:
    """SNAT port-block leases on Redis (see :class:`ryu_midonet.sim.state.leases.BlockLeases`)."""

    def __init__(self, store: Store, host_id: str | None = None,
                 ttl: float = LEASE_TTL) -> None:
        self.store = store
        self.redis: redis.Redis = store.redis
        self.host_id = host_id or f"process-{uuid.uuid4()}"
        self.ttl_ms = _ms(ttl)
        self.deadlines = store.key_state("deadlines:natblock")
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._renew = self.redis.register_script(_RENEW)

    def blocks(self, ip: str) -> str:
        return self.store.key_state(f"natblock:{ip}")

    def held(self, ip: str) -> set[int]:
        owners = {int(text(b)): text(h) for b, h in self.redis.hgetall(self.blocks(ip)).items()}
        mine = sorted(b for b, host in owners.items() if host == self.host_id)
        if not mine:
            return set()
        scores = self.redis.zmscore(self.deadlines, [f"{ip}|{b}" for b in mine])
        now = self._now_ms()
        return {b for b, score in zip(mine, scores, strict=True)
                if score is not None and score > now}

    def acquire(self, ip: str, first: int, last: int) -> int | None:
        block = int(self._acquire(keys=[self.blocks(ip), self.deadlines],
                                  args=[ip, first, last, self.host_id, self.ttl_ms]))
        return None if block < 0 else block

    def renew(self, ip: str, block: int) -> bool:
        return self._change(ip, block, self.ttl_ms)

    def release(self, ip: str, block: int) -> bool:
        return self._change(ip, block, 0)

    def owner(self, ip: str, block: int) -> str | None:
        host = self.redis.hget(self.blocks(ip), str(block))
        score = self.redis.zscore(self.deadlines, f"{ip}|{block}")
        if host is None or score is None or score <= self._now_ms():
            return None
        return text(host)

    def _change(self, ip: str, block: int, ttl_ms: int) -> bool:
        return bool(self._renew(keys=[self.blocks(ip), self.deadlines],
                                args=[f"{ip}|{block}", block, self.host_id, ttl_ms]))

    def _now_ms(self) -> int:
        return now_ms(self.redis)
