"""Port blocks and return paths of source NAT in the datapath, shared by every agent on Redis.

Implements :class:`~ryu_midonet.sim.state.natranges.NatRanges` and
:class:`~ryu_midonet.sim.state.natranges.ReturnPaths`. Layout, under the store's hash tag:

- ``{p}:state:natlease:<ip>``          hash ``<block>`` -> host id holding it
- ``{p}:state:deadlines:natlease``     sorted set ``<ip>|<block>`` scored by deadline (ms)
- ``{p}:state:natpath:<ip>|<block>``   hash exterior port id -> the return path (JSON)
- channel ``{p}:state:changes``        ``natpath:<ip>|<block>|<port id>`` when one appears or
  goes

Connections the agent translates itself (ICMP echo, a host that got no block) take ports of
the agent's own 64-port blocks (``natblock``, :mod:`.flowstate`): a datapath block marks the
agent blocks it covers as held by ``datapath:<host>`` until its own deadline, and no block is
taken where an agent block is live, so the two never hand out the same port.

A host leases a block of a NAT address when its first connection through that address needs
one (one Lua script, that connection waits for it), then uses its copy. Its switch's
tracker picks a port of the newest block per connection; :meth:`RedisNatRanges.adjust`,
given how many connections the tracker holds on each block (asked periodically, off the
packet path), leases another block ahead of need when the newest one is :data:`GROW_AT`
used and stops renewing an older block once the tracker holds no connection on it (its
lease then runs out and the block goes to whoever asks, with its return paths). It keeps a
block while it renews the lease (every quarter of :data:`NAT_LEASE_TTL`), and gets its blocks
back after a restart, even past the deadline if nobody took them meanwhile: its switch's
tracker may still hold connections on those ports. A lease past its deadline is free for
others; taking it (or removing it, :meth:`RedisNatRanges.maintain`) removes its return
paths, announced.

Return paths are written once each (the first connection leaving by that port waits for it)
and announced; every agent keeps a copy of all of them, read again after it subscribes
again (:meth:`RedisNatRanges.reload`) and kept current by :meth:`RedisNatRanges.changed`. A
reply that comes before its path's announcement (the exit host's agent simulates it and finds
no translation) makes the agent read that block's paths (:meth:`RedisNatRanges.refresh`, at
most once a second per block).

Redis down: blocks and paths already known keep working (they live in the copy and in the
switch's flows); a NAT address this host holds no block of is translated by the agent path
(which itself needs the store) until Redis answers again, asked at most every
:data:`RETRY_AFTER` seconds; paths that could not be written are written by
:meth:`RedisNatRanges.maintain` later (until then, the exit port's host cannot steer their
replies).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping

import redis

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.store import Store
from ryu_midonet.sim.state.leases import BLOCK_SIZE as AGENT_BLOCK_SIZE
from ryu_midonet.sim.state.natranges import DEFAULT_BITS, ReturnPath, block_range, blocks
from ryu_midonet.statestore.common import NOW_LUA, changes_channel, now_ms, text
from ryu_midonet.types import Obj

LOG = logging.getLogger(__name__)

NAT_LEASE_TTL = 3600.0  # seconds a block stays leased without renewal
RETRY_AFTER = 5.0  # seconds before asking Redis again for a block it could not give
REFRESH_AFTER = 1.0  # seconds before reading a block's return paths again on a miss
ASKED_LIMIT = 4096
TAG_PREFIX = "natpath:"
EXPIRE_BATCH = 100
GROW_AT = 0.5  # share of the newest block's ports in use that leases the next block

# The agent's own SNAT port blocks (:mod:`.flowstate`: KEYS[3] and KEYS[4] below, ARGV[1] the
# address, ARGV[2] this host) must not overlap a block of the datapath's: a datapath block
# marks the agent blocks it covers as held by ``datapath:<host>`` until its own deadline, and
# is not taken while an agent block in it is live. ``span``: agent blocks per datapath block.
_AGENT_BLOCKS = """
local function mark(block, deadline, span)
  for a = block * span, block * span + span - 1 do
    redis.call('HSET', KEYS[3], a, 'datapath:' .. ARGV[2])
    redis.call('ZADD', KEYS[4], deadline, ARGV[1] .. '|' .. a)
  end
end
local function busy(block, span)
  for a = block * span, block * span + span - 1 do
    local holder = redis.call('HGET', KEYS[3], a)
    if holder and string.sub(holder, 1, 9) ~= 'datapath:' then
      local deadline = redis.call('ZSCORE', KEYS[4], ARGV[1] .. '|' .. a)
      if deadline and tonumber(deadline) > now then return true end
    end
  end
  return false
end
"""

# KEYS: leases of the ip, deadlines, agent blocks of the ip, their deadlines; ARGV: ip, host,
# ttl ms, channel, path key prefix, span, candidate blocks... -> the block held (the last
# candidate held: blocks are taken lowest first, so the highest is the newest) or else the
# first free one taken, -1 when none is free
_LEASE = NOW_LUA + _AGENT_BLOCKS + """
local span = tonumber(ARGV[6])
for i = #ARGV, 7, -1 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[2] then
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1] .. '|' .. ARGV[i])
    mark(tonumber(ARGV[i]), now + tonumber(ARGV[3]), span)
    return tonumber(ARGV[i])
  end
end
for i = 7, #ARGV do
  local member = ARGV[1] .. '|' .. ARGV[i]
  local holder = redis.call('HGET', KEYS[1], ARGV[i])
  local deadline = redis.call('ZSCORE', KEYS[2], member)
  if (not holder or not deadline or tonumber(deadline) <= now)
      and not busy(tonumber(ARGV[i]), span) then
    local paths = ARGV[5] .. member
    local ports = redis.call('HKEYS', paths)
    redis.call('DEL', paths)
    for _, port in ipairs(ports) do
      redis.call('PUBLISH', ARGV[4], 'natpath:' .. member .. '|' .. port)
    end
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[2])
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), member)
    mark(tonumber(ARGV[i]), now + tonumber(ARGV[3]), span)
    return tonumber(ARGV[i])
  end
end
return -1
"""

# KEYS: leases of the ip, paths of the block; ARGV: block, host, port, path, channel, tag
# -> 1 written or already there, 0 the block is not this host's
_RECORD = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if redis.call('HGET', KEYS[2], ARGV[3]) == ARGV[4] then return 1 end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
"""

# KEYS: leases of the ip, deadlines, agent blocks of the ip, their deadlines; ARGV: ip,
# host, member, block, ttl ms, span -> 1 renewed, 0 lost
_RENEW = NOW_LUA + _AGENT_BLOCKS + """
if redis.call('HGET', KEYS[1], ARGV[4]) ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[3])
mark(tonumber(ARGV[4]), now + tonumber(ARGV[5]), tonumber(ARGV[6]))
return 1
"""

# KEYS: leases of the ip, deadlines, paths of the block; ARGV: member, block, channel
# -> 1 when the lease was past its deadline and is gone with its paths
_EXPIRE = NOW_LUA + """
local deadline = redis.call('ZSCORE', KEYS[2], ARGV[1])
if deadline and tonumber(deadline) > now then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
local ports = redis.call('HKEYS', KEYS[3])
redis.call('DEL', KEYS[3])
for _, port in ipairs(ports) do
  redis.call('PUBLISH', ARGV[3], 'natpath:' .. ARGV[1] .. '|' .. port)
end
return 1
"""

# KEYS: paths of the block; ARGV: port, channel, tag
_FORGET = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
"""

PathKey = tuple[str, int, str]  # (NAT address, block, exterior port id)


def _encode(path: ReturnPath) -> str:
    return json.dumps({"scope": path.scope, "first": path.first, "last": path.last,
                       "host": path.host}, sort_keys=True)


def _decode(ip: str, port_id: str, value: str) -> ReturnPath | None:
    try:
        obj = json.loads(value)
        return ReturnPath(port_id, str(obj["scope"]), ip, int(obj["first"]), int(obj["last"]),
                          str(obj["host"]))
    except (ValueError, KeyError, TypeError):
        return None  # not written by an agent: ignored


def parse_tag(tag: str) -> PathKey | None:
    """(NAT address, block, port id) of a return path's announcement, or None."""
    if not tag.startswith(TAG_PREFIX):
        return None
    parts = tag[len(TAG_PREFIX):].split("|", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1]), parts[2]


class RedisNatRanges:
    """This host's NAT port blocks and every host's return paths, on the store's Redis."""

    def __init__(self, store: Store, host_id: str, bits: int = DEFAULT_BITS,
                 ttl: float = NAT_LEASE_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.redis: redis.Redis = store.redis
        self.host_id = host_id
        self.bits = bits
        self.span = max(1, (1 << bits) // AGENT_BLOCK_SIZE)  # agent blocks in one of ours
        self.ttl = ttl
        self.clock = clock
        self.channel = changes_channel(store)
        self.deadlines = store.key_state("deadlines:natlease")
        self._lease = self.redis.register_script(_LEASE)
        self._record = self.redis.register_script(_RECORD)
        self._renew = self.redis.register_script(_RENEW)
        self._expire = self.redis.register_script(_EXPIRE)
        self._forget = self.redis.register_script(_FORGET)
        self._lock = threading.Lock()
        # (ip, lo, hi) -> blocks held for it, oldest first; new connections take the last
        self._blocks: dict[tuple[str, int, int], list[int]] = {}
        self._refused: dict[tuple[str, int, int], float] = {}  # -> when to ask again
        self._asked: dict[tuple[str, int], float] = {}  # (ip, block) -> when to read again
        self._held: set[tuple[str, int]] = set()
        self._released: set[tuple[str, int]] = set()  # left to run out: not renewed
        self._full: set[tuple[str, int]] = set()  # newest blocks that found no next one
        self._paths: dict[PathKey, ReturnPath] = {}
        self._frozen: frozenset[ReturnPath] | None = None
        self._written: set[ReturnPath] = set()
        self._unwritten: set[ReturnPath] = set()
        self._renewed = clock()

    # -- keys ------------------------------------------------------------------------------
    def leases_key(self, ip: str) -> str:
        return self.store.key_state(f"natlease:{ip}")

    def paths_key(self, ip: str, block: int) -> str:
        return self.store.key_state(f"natpath:{ip}|{block}")

    def _agent_keys(self, ip: str) -> list[str]:
        """The agent's own SNAT port blocks of ``ip`` and their deadlines (see
        :class:`~ryu_midonet.statestore.flowstate.RedisBlockLeases`)."""
        return [self.store.key_state(f"natblock:{ip}"),
                self.store.key_state("deadlines:natblock")]

    # -- the packet path ---------------------------------------------------------------------
    def range_for(self, ip: str, lo: int, hi: int, out_port: Obj,
                  scope: str) -> tuple[int, int] | None:
        key = (ip, lo, hi)
        held = self._blocks.get(key)
        if held:
            return block_range(held[-1], self.bits)
        if self._refused.get(key, 0.0) > self.clock():
            return None
        got = self._take(key, ())
        if got is None:
            self._refused[key] = self.clock() + RETRY_AFTER
            return None
        return block_range(got, self.bits)

    def _take(self, key: tuple[str, int, int], skip: tuple[int, ...]) -> int | None:
        """A block of ``ip`` in ``lo..hi`` (``key``) other than ``skip`` leased to this host
        (one it already holds first) and made the newest of ``key``; None: none is free, or
        the store cannot answer."""
        ip, lo, hi = key
        candidates = [b for b in blocks(lo, hi, self.bits) if b not in skip]
        if not candidates:
            return None
        try:
            got = int(self._lease(keys=[self.leases_key(ip), self.deadlines,
                                        *self._agent_keys(ip)],
                                  args=[ip, self.host_id, int(self.ttl * 1000), self.channel,
                                        self.store.key_state("natpath:"), self.span,
                                        *candidates]))
        except errors.UNAVAILABLE as exc:
            LOG.warning("no NAT port block of %s leased (store unavailable: %s); the agent "
                        "translates for now", ip, exc)
            return None
        if got < 0:
            return None
        with self._lock:
            held = self._blocks.setdefault(key, [])
            if got not in held:
                held.append(got)
            self._held.add((ip, got))
            self._released.discard((ip, got))
        return got

    def current(self, ip: str, first: int) -> tuple[int, int] | None:
        """The ports new connections get now instead of the block starting at ``first`` (a
        block of ``ip`` this host leased); None when it is no block of this host's."""
        block = first >> self.bits
        for (held_ip, _, _), held in list(self._blocks.items()):
            if held_ip == ip and block in held:
                return block_range(held[-1], self.bits)
        return None

    def adjust(self, tracked: Mapping[tuple[str, int], int]) -> set[str]:
        """Given the connections the tracker holds per (NAT address, block), lease the next
        block of each address whose newest block is :data:`GROW_AT` used, and release the
        older blocks it holds no connection on any more; the addresses whose newest block
        changed (their flows must take the new one)."""
        changed: set[str] = set()
        size = 1 << self.bits
        full: set[tuple[str, int]] = set()
        with self._lock:  # older blocks, and those held from before a restart
            newest = {(k[0], held[-1]) for k, held in self._blocks.items() if held}
            idle = sorted(b for b in self._held - newest if tracked.get(b, 0) == 0)
        for key, held in list(self._blocks.items()):
            ip = key[0]
            used = tracked.get((ip, held[-1]), 0) if held else 0
            if used < GROW_AT * size:
                continue
            if self._take(key, tuple(held)) is not None:
                LOG.info("NAT port block %d of %s leased ahead of need (block %d: %d of %d "
                         "ports in use)", self._blocks[key][-1], ip, held[-2], used, size)
                changed.add(ip)
            else:
                full.add((ip, held[-1]))
                if (ip, held[-1]) not in self._full:  # once while it lasts
                    LOG.warning("no NAT port block of %s free: new connections keep taking "
                                "ports of block %d (%d of %d in use)", ip, held[-1], used, size)
        self._full = full
        for ip, block in idle:
            self._release(ip, block)
        return changed

    def _release(self, ip: str, block: int) -> None:
        """Stop renewing ``block`` of ``ip`` (no connection uses it): it runs out after its
        TTL, unless this host takes it again before."""
        LOG.info("NAT port block %d of %s is not used any more: released when its lease runs "
                 "out", block, ip)
        with self._lock:
            self._blocks = {k: [b for b in held if (k[0], b) != (ip, block)]
                            for k, held in self._blocks.items()}
            self._blocks = {k: held for k, held in self._blocks.items() if held}
            self._held.discard((ip, block))
            self._released.add((ip, block))
            # written again if this host takes the block back after it ran out
            self._written = {p for p in self._written
                             if (p.ip, p.first >> self.bits) != (ip, block)}

    def blocks_held(self) -> dict[str, list[int]]:
        """NAT address -> the blocks this host leases (renews), sorted."""
        out: dict[str, list[int]] = {}
        for ip, block in sorted(self._held):
            out.setdefault(ip, []).append(block)
        return out

    def record(self, path: ReturnPath) -> None:
        if path in self._written:
            return
        with self._lock:
            self._paths[(path.ip, path.first >> self.bits, path.port_id)] = path
            self._frozen = None
        self._write(path)

    def paths(self) -> frozenset[ReturnPath]:
        frozen = self._frozen
        if frozen is None:
            with self._lock:
                frozen = self._frozen = frozenset(self._paths.values())
        return frozen

    # -- the change feed ---------------------------------------------------------------------
    def changed(self, tag: str) -> bool:
        """Read a return path again after its announcement ``tag``; False: ``tag`` is not
        a return path's."""
        key = parse_tag(tag)
        if key is None:
            return False
        ip, block, port_id = key
        value = self.redis.hget(self.paths_key(ip, block), port_id)
        path = None if value is None else _decode(ip, port_id, text(value))
        with self._lock:
            if path is None:
                self._paths.pop(key, None)
            else:
                self._paths[key] = path
            self._frozen = None
        return True

    def refresh(self, ip: str, port: int) -> bool:
        """Read the return paths of the block of ``ip`` that holds ``port`` from the store,
        at most once a second per block (a reply may come before the announcement of its
        path); whether some were new. False also when the store cannot answer."""
        block, now = port >> self.bits, self.clock()
        if self._asked.get((ip, block), 0.0) > now:
            return False
        if len(self._asked) >= ASKED_LIMIT:
            self._asked = {k: t for k, t in self._asked.items() if t > now}
        self._asked[(ip, block)] = now + REFRESH_AFTER
        try:
            entries = self.redis.hgetall(self.paths_key(ip, block))
        except errors.UNAVAILABLE:
            return False
        new = False
        with self._lock:
            for port_id, value in entries.items():
                path = _decode(ip, text(port_id), text(value))
                key = (ip, block, text(port_id))
                if path is not None and self._paths.get(key) != path:
                    self._paths[key] = path
                    new = True
            if new:
                self._frozen = None
        return new

    def reload(self) -> None:
        """Read every return path again (after subscribing again: announcements were
        missed). This host's own paths not yet written are kept."""
        members = [text(m) for m in self.redis.zrange(self.deadlines, 0, -1)]
        pipe = self.redis.pipeline(transaction=False)
        keys: list[tuple[str, int]] = []
        for member in members:
            ip, _, block = member.rpartition("|")
            if block.isdigit():
                keys.append((ip, int(block)))
                pipe.hgetall(self.paths_key(ip, int(block)))
        found: dict[PathKey, ReturnPath] = {}
        for (ip, block), entries in zip(keys, pipe.execute(), strict=True):
            for port_id, value in entries.items():
                path = _decode(ip, text(port_id), text(value))
                if path is not None:
                    found[(ip, block, path.port_id)] = path
        with self._lock:
            for path in self._unwritten:
                found[(path.ip, path.first >> self.bits, path.port_id)] = path
            self._paths = found
            self._frozen = None
            for (ip, block, _), path in found.items():
                if path.host == self.host_id and (ip, block) not in self._released:
                    self._held.add((ip, block))
                    if path not in self._unwritten:
                        self._written.add(path)

    # -- upkeep ------------------------------------------------------------------------------
    def maintain(self, port_exists: Callable[[str], bool] | None = None) -> None:
        """Renew this host's leases (every quarter of their TTL), write the paths that
        could not be, forget this host's paths whose port was deleted, and remove leases
        (any host's) past their deadline."""
        if self.clock() - self._renewed >= self.ttl / 4:
            self._renewed = self.clock()
            for ip, block in sorted(self._held):
                if not self._renew(keys=[self.leases_key(ip), self.deadlines,
                                         *self._agent_keys(ip)],
                                   args=[ip, self.host_id, f"{ip}|{block}", block,
                                         int(self.ttl * 1000), self.span]):
                    self._lost(ip, block)
        for path in sorted(self._unwritten):
            self._write(path)
        if port_exists is not None:
            for path in sorted(self.paths()):
                if path.host == self.host_id and not port_exists(path.port_id):
                    self.forget(path)
        now = now_ms(self.redis)
        for member in self.redis.zrangebyscore(self.deadlines, "-inf", now, start=0,
                                               num=EXPIRE_BATCH):
            ip, _, block = text(member).rpartition("|")
            if block.isdigit():
                self._expire(keys=[self.leases_key(ip), self.deadlines,
                                   self.paths_key(ip, int(block))],
                             args=[text(member), block, self.channel])

    def forget(self, path: ReturnPath) -> None:
        """Remove this host's return path (its port was deleted)."""
        block = path.first >> self.bits
        self._forget(keys=[self.paths_key(path.ip, block)],
                     args=[path.port_id, self.channel,
                           f"{TAG_PREFIX}{path.ip}|{block}|{path.port_id}"])
        with self._lock:
            self._paths.pop((path.ip, block, path.port_id), None)
            self._written.discard(path)
            self._frozen = None

    def _write(self, path: ReturnPath) -> None:
        block = path.first >> self.bits
        tag = f"{TAG_PREFIX}{path.ip}|{block}|{path.port_id}"
        try:
            held = self._record(keys=[self.leases_key(path.ip), self.paths_key(path.ip, block)],
                                args=[block, self.host_id, path.port_id, _encode(path),
                                      self.channel, tag])
        except errors.UNAVAILABLE as exc:
            LOG.warning("NAT return path %s not written yet (store unavailable: %s)", path, exc)
            with self._lock:
                self._unwritten.add(path)
            return
        with self._lock:
            self._unwritten.discard(path)
            if held:
                self._written.add(path)
        if not held:
            self._lost(path.ip, block)

    def _lost(self, ip: str, block: int) -> None:
        """Another host took block ``block`` of ``ip`` (its lease had run out here)."""
        LOG.warning("NAT port block %d of %s is no longer this host's", block, ip)
        with self._lock:
            self._held.discard((ip, block))
            self._blocks = {k: [b for b in held if (k[0], b) != (ip, block)]
                            for k, held in self._blocks.items()}
            self._blocks = {k: held for k, held in self._blocks.items() if held}
            self._paths = {k: p for k, p in self._paths.items()
                           if (k[0], k[1]) != (ip, block) or p.host != self.host_id}
            self._written = {p for p in self._written
                             if (p.ip, p.first >> self.bits) != (ip, block)}
            self._frozen = None
