"""MAC and ARP tables shared by every agent, on the topology store's Redis.

Layout, under the store's hash tag (one Redis Cluster slot, like the rest of the store):

- ``{p}:state:mac:<bridge>``       hash ``<vlan>/<mac>`` -> port id (vlan ``-``: untagged)
- ``{p}:state:arp:<router>``       hash ``<ip>`` -> mac
- ``{p}:state:deadlines:mac``      sorted set ``<bridge>|<vlan>/<mac>`` scored by deadline (ms)
- ``{p}:state:deadlines:arp``      sorted set ``<router>|<ip>`` scored by deadline (ms)
- channel ``{p}:state:changes``    the tag of every entry that changed (see
  :mod:`ryu_midonet.sim.state.tables`), and every flow-state key that changed
  (:mod:`.flowstate`, which also lays out its keys)

Every operation is one Lua script, so a write, its deadline and its announcement are atomic, and
deadlines use the Redis server's clock: agents on hosts whose clocks disagree still age entries
alike.
"""

from __future__ import annotations

import redis

from ryu_midonet.nsdb.store import Store
from ryu_midonet.sim.state import ARP_TTL, MAC_TTL, arp_tag, mac_tag
from ryu_midonet.statestore.common import (
    EXPIRE_BATCH,
    GET_LIVE,
    NOW_LUA,
    changes_channel,
    now_ms,
    text,
)

# KEYS: table hash, deadlines; ARGV: field, value, ttl ms, member, channel, tag
_PUT = NOW_LUA + """
local old = redis.call('HGET', KEYS[1], ARGV[1])
local deadline = redis.call('ZSCORE', KEYS[2], ARGV[4])
local live = old and deadline and tonumber(deadline) > now
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[4])
if live and old == ARGV[2] then return 0 end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
"""

# KEYS: table hash, deadlines; ARGV: field, member, channel, tag, only-if-expired (0/1)
_REMOVE = NOW_LUA + """
if ARGV[5] == '1' then
  local deadline = redis.call('ZSCORE', KEYS[2], ARGV[2])
  if deadline and tonumber(deadline) > now then return 0 end
end
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
if removed == 0 then return 0 end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
"""


class _RedisTable:
    """One kind of table (``mac`` or ``arp``): a hash per device plus a deadline index."""

    def __init__(self, store: Store, kind: str, ttl: float) -> None:
        self.store = store
        self.kind = kind
        self.ttl_ms = max(1, int(ttl * 1000))
        self.redis: redis.Redis = store.redis
        self.deadlines = store.key_state(f"deadlines:{kind}")
        self.channel = changes_channel(store)
        self._put = self.redis.register_script(_PUT)
        self._get = self.redis.register_script(GET_LIVE)
        self._remove = self.redis.register_script(_REMOVE)

    def table(self, table_id: str) -> str:
        return self.store.key_state(f"{self.kind}:{table_id}")

    def get(self, table_id: str, field: str) -> str | None:
        value = self._get(keys=[self.table(table_id), self.deadlines],
                          args=[field, f"{table_id}|{field}"])
        return None if value is None else text(value)

    def put(self, table_id: str, field: str, value: str, tag: str) -> bool:
        return bool(self._put(keys=[self.table(table_id), self.deadlines],
                              args=[field, value, self.ttl_ms, f"{table_id}|{field}",
                                    self.channel, tag]))

    def remove(self, table_id: str, field: str, tag: str, only_expired: bool = False) -> bool:
        return bool(self._remove(keys=[self.table(table_id), self.deadlines],
                                 args=[field, f"{table_id}|{field}", self.channel, tag,
                                       "1" if only_expired else "0"]))

    def live(self, table_id: str) -> dict[str, str]:
        values = {text(k): text(v) for k, v in self.redis.hgetall(self.table(table_id)).items()}
        if not values:
            return {}
        fields = list(values)
        scores = self.redis.zmscore(self.deadlines, [f"{table_id}|{f}" for f in fields])
        now = self._now_ms()
        return {f: values[f] for f, score in zip(fields, scores, strict=True)
                if score is not None and score > now}

    def expired(self, limit: int) -> list[tuple[str, str]]:
        """(table id, field) of up to ``limit`` entries past their deadline, oldest first."""
        members = self.redis.zrangebyscore(self.deadlines, "-inf", self._now_ms(), start=0,
                                           num=limit)
        out = []
        for member in members:
            table_id, _, field = text(member).partition("|")
            out.append((table_id, field))
        return out

    def _now_ms(self) -> int:
        return now_ms(self.redis)


def _mac_field(mac: str, vlan: int | None) -> str:
    return f"{'-' if vlan is None else vlan}/{mac.lower()}"


def _mac_of_field(field: str) -> tuple[str, int | None]:
    vlan, mac = field.split("/", 1)
    return mac, None if vlan == "-" else int(vlan)


class RedisMacTable:
    """Bridge MAC tables shared through Redis (:class:`~ryu_midonet.sim.state.MacTable`)."""

    def __init__(self, store: Store, ttl: float = MAC_TTL) -> None:
        self._t = _RedisTable(store, "mac", ttl)

    def get(self, bridge_id: str, mac: str, vlan: int | None) -> str | None:
        return self._t.get(bridge_id, _mac_field(mac, vlan))

    def learn(self, bridge_id: str, mac: str, vlan: int | None, port_id: str) -> bool:
        return self._t.put(bridge_id, _mac_field(mac, vlan), port_id, mac_tag(bridge_id, mac))

    def forget(self, bridge_id: str, mac: str, vlan: int | None) -> bool:
        return self._t.remove(bridge_id, _mac_field(mac, vlan), mac_tag(bridge_id, mac))

    def entries(self, bridge_id: str) -> dict[tuple[str, int | None], str]:
        return {_mac_of_field(f): port for f, port in self._t.live(bridge_id).items()}

    def expire(self, limit: int = EXPIRE_BATCH) -> int:
        """Remove up to ``limit`` aged-out entries, announcing each; returns how many."""
        removed = 0
        for bridge_id, field in self._t.expired(limit):
            mac, _vlan = _mac_of_field(field)
            removed += self._t.remove(bridge_id, field, mac_tag(bridge_id, mac), True)
        return removed


class RedisArpTable:
    """Router ARP tables shared through Redis (:class:`~ryu_midonet.sim.state.ArpTable`)."""

    def __init__(self, store: Store, ttl: float = ARP_TTL) -> None:
        self._t = _RedisTable(store, "arp", ttl)

    def get(self, router_id: str, ip: str) -> str | None:
        return self._t.get(router_id, ip)

    def put(self, router_id: str, ip: str, mac: str) -> bool:
        return self._t.put(router_id, ip, mac.lower(), arp_tag(router_id, ip))

    def forget(self, router_id: str, ip: str) -> bool:
        return self._t.remove(router_id, ip, arp_tag(router_id, ip))

    def entries(self, router_id: str) -> dict[str, str]:
        return self._t.live(router_id)

    def expire(self, limit: int = EXPIRE_BATCH) -> int:
        """Remove up to ``limit`` expired entries, announcing each; returns how many."""
        removed = 0
        for router_id, ip in self._t.expired(limit):
            removed += self._t.remove(router_id, ip, arp_tag(router_id, ip), True)
        return removed
