"""MAC and ARP tables (routers' and bridges') shared by every agent, on the topology store's
Redis.

Layout, under the store's hash tag (one Redis Cluster slot, like the rest of the store):

- ``{p}:state:mac:<bridge>``       hash ``<vlan>/<mac>`` -> port id (vlan ``-``: untagged)
- ``{p}:state:arp:<router>``       hash ``<ip>`` -> mac
- ``{p}:state:ip4mac:<bridge>``    hash ``<ip>`` -> mac (the bridge's ARP table)
- ``{p}:state:deadlines:mac``      sorted set ``<bridge>|<vlan>/<mac>`` scored by deadline (ms);
  a static MAC entry (entered through the API) has a deadline :data:`STATIC_MAC_TTL` away
  and learning never overwrites it
- ``{p}:state:deadlines:arp``      sorted set ``<router>|<ip>`` scored by deadline (ms)
- ``{p}:state:deadlines:ip4mac``   sorted set ``<bridge>|<ip>`` scored by deadline (ms)
- channel ``{p}:state:changes``    the tag of every entry that changed (see
  :mod:`ryu_midonet.sim.state.tables`), and every flow-state key that changed
  (:mod:`.flowstate`, which also lays out its keys)

Every operation is one Lua script, so a write, its deadline and its announcement are atomic, and
deadlines use the Redis server's clock: agents on hosts whose clocks disagree still age entries
alike. :meth:`RedisMacTable.raw` (and the ARP one) reads entries with the time they have left and
writes batches in one round trip, for the agents' local copies (:mod:`.localcopy`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import redis

from ryu_midonet.nsdb.store import Store
from ryu_midonet.sim.state import (
    ARP_TTL,
    IP4MAC_TTL,
    MAC_TTL,
    STATIC_TTL,
    arp_tag,
    ip4mac_tag,
    mac_tag,
)
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


# KEYS: table hash, deadlines; ARGV: table id, field or glob pattern ('' every field),
# '1' when ARGV[2] is a pattern -> field, value, ms left, ... of the live entries
_READ = NOW_LUA + """
local fields = {}
if ARGV[3] == '1' then
  local cursor = '0'
  repeat
    local page = redis.call('HSCAN', KEYS[1], cursor, 'MATCH', ARGV[2], 'COUNT', 1000)
    cursor = page[1]
    for i = 1, #page[2], 2 do fields[#fields + 1] = page[2][i] end
  until cursor == '0'
elseif ARGV[2] == '' then
  fields = redis.call('HKEYS', KEYS[1])
else
  fields = {ARGV[2]}
end
local out = {}
for _, f in ipairs(fields) do
  local value = redis.call('HGET', KEYS[1], f)
  local deadline = redis.call('ZSCORE', KEYS[2], ARGV[1] .. '|' .. f)
  if value and deadline and tonumber(deadline) > now then
    out[#out + 1] = f
    out[#out + 1] = value
    out[#out + 1] = tostring(tonumber(deadline) - now)
  end
end
return out
"""

Entries = dict[str, tuple[str, float]]
"""field -> (value, seconds the entry has left on the server's clock)"""


@dataclass(frozen=True)
class Write:
    """One entry to write: ``value`` None removes it; ``tag`` is announced if that changes it."""

    table_id: str
    field: str
    value: str | None
    tag: str


class RedisEntries:
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
        self._read = self.redis.register_script(_READ)

    def table(self, table_id: str) -> str:
        return self.store.key_state(f"{self.kind}:{table_id}")

    def get(self, table_id: str, field: str) -> str | None:
        value = self._get(keys=[self.table(table_id), self.deadlines],
                          args=[field, f"{table_id}|{field}"])
        return None if value is None else text(value)

    def put(self, table_id: str, field: str, value: str, tag: str,
            ttl: float | None = None) -> bool:
        """Set an entry for ``ttl`` seconds (default: the table's)."""
        ttl_ms = self.ttl_ms if ttl is None else max(1, int(ttl * 1000))
        return bool(self._put(keys=[self.table(table_id), self.deadlines],
                              args=[field, value, ttl_ms, f"{table_id}|{field}",
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

    def read(self, table_id: str, field: str = "", pattern: bool = False) -> Entries:
        """The live entries of a table: every one, one ``field``, or those matching the glob
        ``field`` (``pattern``), each with the time it has left."""
        reply = self._read(keys=[self.table(table_id), self.deadlines],
                           args=[table_id, field, "1" if pattern else "0"])
        return {text(reply[i]): (text(reply[i + 1]), int(text(reply[i + 2])) / 1000)
                for i in range(0, len(reply) - 2, 3)}

    def write(self, writes: Iterable[Write]) -> None:
        """Put or remove entries (announcing what changed) in one round trip."""
        writes = list(writes)
        try:
            self._write(writes)
        except redis.exceptions.NoScriptError:  # a restarted server: load them, once
            for script in (self._put, self._remove):
                script.sha = self.redis.script_load(script.script)
            self._write(writes)

    def _write(self, writes: list[Write]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for w in writes:
            keys = [self.table(w.table_id), self.deadlines]
            member = f"{w.table_id}|{w.field}"
            if w.value is None:
                pipe.evalsha(self._remove.sha, 2, *keys, w.field, member, self.channel, w.tag,
                             "0")
            else:
                pipe.evalsha(self._put.sha, 2, *keys, w.field, w.value, self.ttl_ms, member,
                             self.channel, w.tag)
        pipe.execute()

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


STATIC_MAC_TTL = 10 * 365 * 86400.0  # a static MAC entry's deadline: it does not age out


def mac_field(mac: str, vlan: int | None) -> str:
    return f"{'-' if vlan is None else vlan}/{mac.lower()}"


def mac_of_field(field: str) -> tuple[str, int | None]:
    vlan, mac = field.split("/", 1)
    return mac, None if vlan == "-" else int(vlan)


class RedisMacTable:
    """Bridge MAC tables shared through Redis (:class:`~ryu_midonet.sim.state.MacTable`)."""

    def __init__(self, store: Store, ttl: float = MAC_TTL) -> None:
        self._t = RedisEntries(store, "mac", ttl)

    @property
    def raw(self) -> RedisEntries:
        """Entries by field (``<vlan>/<mac>``, see :func:`mac_field`)."""
        return self._t

    def get(self, bridge_id: str, mac: str, vlan: int | None) -> str | None:
        return self._t.get(bridge_id, mac_field(mac, vlan))

    def learn(self, bridge_id: str, mac: str, vlan: int | None, port_id: str) -> bool:
        field = mac_field(mac, vlan)
        if self.static(bridge_id, field):
            return False  # learning never overwrites a static entry
        return self._t.put(bridge_id, field, port_id, mac_tag(bridge_id, mac))

    def add_static(self, bridge_id: str, mac: str, vlan: int | None, port_id: str) -> bool:
        """An entry that does not age out (:data:`STATIC_MAC_TTL`) and that learning does not
        overwrite; True when that changed the table."""
        field = mac_field(mac, vlan)
        t = self._t
        return bool(t._put(keys=[t.table(bridge_id), t.deadlines],
                           args=[field, port_id, int(STATIC_MAC_TTL * 1000),
                                 f"{bridge_id}|{field}", t.channel, mac_tag(bridge_id, mac)]))

    def static(self, bridge_id: str, field: str) -> bool:
        """Whether the entry of ``field`` (:func:`mac_field`) is static."""
        held = self._t.read(bridge_id, field).get(field)
        return held is not None and held[1] > self._t.ttl_ms / 1000

    def listing(self, bridge_id: str) -> list[tuple[str, int | None, str, bool]]:
        """The live entries of a bridge as (mac, vlan, port id, static), sorted."""
        limit = self._t.ttl_ms / 1000
        return sorted(((*mac_of_field(f), port, left > limit)
                       for f, (port, left) in self._t.read(bridge_id).items()),
                      key=lambda e: (e[0], e[1] or 0))

    def forget(self, bridge_id: str, mac: str, vlan: int | None) -> bool:
        return self._t.remove(bridge_id, mac_field(mac, vlan), mac_tag(bridge_id, mac))

    def entries(self, bridge_id: str) -> dict[tuple[str, int | None], str]:
        return {mac_of_field(f): port for f, port in self._t.live(bridge_id).items()}

    def expire(self, limit: int = EXPIRE_BATCH) -> int:
        """Remove up to ``limit`` aged-out entries, announcing each; returns how many."""
        removed = 0
        for bridge_id, field in self._t.expired(limit):
            mac, _vlan = mac_of_field(field)
            removed += self._t.remove(bridge_id, field, mac_tag(bridge_id, mac), True)
        return removed


class RedisArpTable:
    """Router ARP tables shared through Redis (:class:`~ryu_midonet.sim.state.ArpTable`)."""

    def __init__(self, store: Store, ttl: float = ARP_TTL) -> None:
        self._t = RedisEntries(store, "arp", ttl)

    @property
    def raw(self) -> RedisEntries:
        """Entries by field (the neighbour's IP address)."""
        return self._t

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


class RedisIp4MacTable:
    """Bridge ARP tables shared through Redis (:class:`~ryu_midonet.sim.state.Ip4MacTable`),
    with the static entries the API adds."""

    def __init__(self, store: Store, ttl: float = IP4MAC_TTL) -> None:
        self.ttl = ttl
        self._t = RedisEntries(store, "ip4mac", ttl)

    @property
    def raw(self) -> RedisEntries:
        """Entries by field (the IPv4 address)."""
        return self._t

    def get(self, bridge_id: str, ip: str) -> str | None:
        return self._t.get(bridge_id, ip)

    def learn(self, bridge_id: str, ip: str, mac: str) -> bool:
        mac = mac.lower()
        held = self._t.read(bridge_id, ip).get(ip)
        if held is not None and held[0] == mac and held[1] > self.ttl:
            return False  # a static entry: learning the same MAC keeps it static
        return self._t.put(bridge_id, ip, mac, ip4mac_tag(bridge_id, ip))

    def add_static(self, bridge_id: str, ip: str, mac: str) -> bool:
        """An entry that does not age out (:data:`~ryu_midonet.sim.state.STATIC_TTL`)."""
        return self._t.put(bridge_id, ip, mac.lower(), ip4mac_tag(bridge_id, ip), STATIC_TTL)

    def forget(self, bridge_id: str, ip: str) -> bool:
        return self._t.remove(bridge_id, ip, ip4mac_tag(bridge_id, ip))

    def entries(self, bridge_id: str) -> dict[str, str]:
        return self._t.live(bridge_id)

    def expire(self, limit: int = EXPIRE_BATCH) -> int:
        """Remove up to ``limit`` aged-out entries, announcing each; returns how many."""
        removed = 0
        for bridge_id, ip in self._t.expired(limit):
            removed += self._t.remove(bridge_id, ip, ip4mac_tag(bridge_id, ip), True)
        return removed
