"""Redis-backed object store with atomic multi-object transactions and a change feed.

Layout (all keys share the hash tag ``{prefix}`` so they live in one Redis Cluster slot and a
MULTI/EXEC can touch any of them):

- ``{p}:obj:<kind>:<id>``              JSON document of one object
- ``{p}:idx:<kind>``                   sorted set of ids, scored by creation order
- ``{p}:ref:<kind>:<field>:<value>``   sorted set of ids of <kind> whose <field> holds <value>
- ``{p}:version``                      integer bumped by every committed write
- ``{p}:epoch``                        random id set by the first write (tells a lost store)
- ``{p}:feed``                         stream of changes: version, op, kind, id
- ``{p}:seq:<name>``                   counters (tunnel keys, ...), advanced only by commits
- ``{p}:writelock``                    the write lease (see :mod:`ryu_midonet.nsdb.writers`)

Every transaction WATCHes the version key, so two writers never interleave: a commit that raced
another one is retried from the start with fresh reads. Writers take turns (a lock in the
process, a lease in Redis once they collide), so every write that does not truly conflict
succeeds; :mod:`ryu_midonet.nsdb.writers` explains how. Reads take no lock.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import redis

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.connect import client_from_url
from ryu_midonet.nsdb.schema import KINDS, indexed_fields
from ryu_midonet.nsdb.writers import LEASE_MS, WRITE_TIMEOUT_S, Lease, TurnLock, text

T = TypeVar("T")

FEED_MAXLEN = 100_000
OPTIMISTIC_ATTEMPTS = 3
MGET_BATCH = 500  # objects per MGET of a list
"""Optimistic tries of a write before it queues for the lease."""
READ_PATIENCE_S = 2.0
"""How long a read retries when commits overtake it before it reads holding the lease."""


class _NotOurTurn(Exception):
    """Another writer holds the lease (or ours expired): this attempt must not commit."""


class Store:
    """Entry point to the topology store on one Redis database."""

    def __init__(self, client: redis.Redis, prefix: str = "mn", lease_ms: int = LEASE_MS,
                 write_timeout: float = WRITE_TIMEOUT_S) -> None:
        self.redis = client
        self.prefix = prefix
        self.tag = f"{{{prefix}}}"
        self.write_timeout = write_timeout
        self.read_patience = READ_PATIENCE_S
        self.lease = Lease(client, self.key_lease, lease_ms)
        self._turns = TurnLock()

    @classmethod
    def from_url(cls, url: str, prefix: str = "mn", lease_ms: int = LEASE_MS,
                 write_timeout: float = WRITE_TIMEOUT_S) -> Store:
        return cls(client_from_url(url), prefix, lease_ms, write_timeout)

    # -- key names -------------------------------------------------------------------------
    def key_obj(self, kind: str, obj_id: str) -> str:
        return f"{self.tag}:obj:{kind}:{obj_id}"

    def key_idx(self, kind: str) -> str:
        return f"{self.tag}:idx:{kind}"

    def key_ref(self, kind: str, field: str, value: str) -> str:
        return f"{self.tag}:ref:{kind}:{field}:{value}"

    @property
    def key_version(self) -> str:
        return f"{self.tag}:version"

    @property
    def key_epoch(self) -> str:
        return f"{self.tag}:epoch"

    @property
    def key_feed(self) -> str:
        return f"{self.tag}:feed"

    @property
    def key_lease(self) -> str:
        return f"{self.tag}:writelock"

    def key_seq(self, name: str) -> str:
        return f"{self.tag}:seq:{name}"

    def key_state(self, name: str) -> str:
        return f"{self.tag}:state:{name}"

    # -- transactions ----------------------------------------------------------------------
    def transaction(self, fn: Callable[[Txn], T], system: bool = False) -> T:
        """Run ``fn(txn)`` and commit its writes atomically, retrying on a concurrent write.

        ``fn`` must be free of side effects other than through ``txn``: it may run more than once.
        ``system`` writes (hosts registering themselves) are allowed in READONLY availability,
        which freezes what operators change, never the data plane. Writers take turns; one that
        waited :attr:`write_timeout` seconds for its turn is refused with :class:`errors.Busy`.
        """
        deadline = time.monotonic() + self.write_timeout
        if not self._turns.acquire(self.write_timeout):
            raise errors.Busy()
        try:
            for _ in range(OPTIMISTIC_ATTEMPTS):
                try:
                    return self._attempt(fn, system, None)
                except redis.WatchError:
                    continue
                except _NotOurTurn:
                    break
            while True:
                token = self.lease.acquire(deadline)
                try:
                    return self._attempt(fn, system, token)
                except (redis.WatchError, _NotOurTurn):
                    continue  # the lease expired under a slow transaction: queue again
                finally:
                    self.lease.release(token)
        finally:
            self._turns.release()

    def _attempt(self, fn: Callable[[Txn], T], system: bool, token: str | None) -> T:
        """One try of a write; it commits only while ``token`` holds the lease (None: nobody)."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.watch(self.key_version, self.key_lease)
            if text(pipe.get(self.key_lease)) != token:
                raise _NotOurTurn()
            txn = Txn(self, pipe, system)
            result = fn(txn)
            txn.commit()
            return result

    def read(self, fn: Callable[[Txn], T]) -> T:
        """Run a read-only ``fn(txn)`` on a consistent view.

        The view is consistent because no commit landed while ``fn`` read (the version key did
        not move); otherwise ``fn`` runs again, after a short randomised pause. Reads take no
        lock, but one that commits kept overtaking for :attr:`read_patience` seconds (a large
        snapshot under steady writes) runs once more holding the write lease, so it completes.
        """
        deadline = time.monotonic() + self.write_timeout
        patience = min(time.monotonic() + self.read_patience, deadline)
        pause = 0.001
        while time.monotonic() < patience:
            got = self._read_once(fn)
            if got:
                return got[0]
            time.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, 0.02)
        token = self.lease.acquire(deadline)
        try:
            while True:
                got = self._read_once(fn)
                if got:
                    return got[0]
                if time.monotonic() >= deadline:  # the lease expired under a slow read
                    raise errors.Busy()
        finally:
            self.lease.release(token)

    def _read_once(self, fn: Callable[[Txn], T]) -> list[T]:
        """``[result]`` when no commit landed while ``fn`` read, else ``[]``."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.watch(self.key_version)
            txn = Txn(self, pipe)
            result = fn(txn)
            if txn.dirty:
                raise AssertionError("read() callbacks must not write")
            if int(pipe.get(self.key_version) or 0) == txn.base_version:
                return [result]
            return []

    # -- simple reads (not isolated; fine for single objects) ------------------------------
    def get(self, kind: str, obj_id: str) -> dict[str, Any] | None:
        raw = self.redis.get(self.key_obj(kind, obj_id))
        return json.loads(raw) if raw else None

    def list(self, kind: str) -> list[dict[str, Any]]:
        return self.read(lambda txn: txn.list(kind))

    def version(self) -> int:
        return int(self.redis.get(self.key_version) or 0)

    def epoch(self) -> str | None:
        """Names this store's history: it changes when the data is lost and written anew."""
        return self.redis.get(self.key_epoch)

    def seq(self, name: str) -> int:
        """The last number a named counter gave out (0: none yet)."""
        return int(self.redis.get(self.key_seq(name)) or 0)

    # -- change feed -----------------------------------------------------------------------
    def snapshot(self) -> tuple[int, dict[str, list[dict[str, Any]]]]:
        """Every object of every kind, with the version they are consistent at."""

        def grab(txn: Txn) -> tuple[int, dict[str, list[dict[str, Any]]]]:
            return txn.base_version, {kind: txn.list(kind) for kind in KINDS}

        return self.read(grab)

    def changes(
        self, after_version: int, block_ms: int | None = None, count: int = 1000
    ) -> list[dict[str, Any]] | None:
        """Changes committed after ``after_version``, oldest first.

        Returns None when the feed no longer holds every change since ``after_version`` (it was
        trimmed), in which case the reader must resynchronise from :meth:`snapshot`.
        """
        if after_version > self.version():
            return None  # the store went back in time (lost its data): start over
        first = self.redis.xrange(self.key_feed, count=1)
        if first:
            version, seq = (int(x) for x in first[0][0].split("-"))
            if (after_version + 1, 0) < (version, seq) and after_version < self.version():
                return None
        elif after_version < self.version():
            return None
        start = f"{after_version + 1}-0"
        if block_ms is None:
            entries = self.redis.xrange(self.key_feed, min=start, count=count)
        else:
            got = self.redis.xread({self.key_feed: f"{after_version}-{2**64 - 1}"}, count=count,
                                   block=block_ms)
            entries = got[0][1] if got else []
        return [_feed_entry(entry_id, fields) for entry_id, fields in entries]


def _feed_entry(entry_id: str, fields: dict[str, str]) -> dict[str, Any]:
    return {"version": int(fields["v"]), "op": fields["op"], "kind": fields["kind"],
            "id": fields["id"], "entry": entry_id}


class Txn:
    """A unit of work: reads see earlier writes of the same transaction; writes land at commit."""

    def __init__(self, store: Store, pipe: redis.client.Pipeline, system: bool = False) -> None:
        self.store = store
        self.pipe = pipe
        self.system = system
        self.base_version = int(pipe.get(store.key_version) or 0)
        self._cache: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._original: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._order: list[tuple[str, str]] = []
        self._extra: list[Callable[[redis.client.Pipeline], None]] = []
        self._seqs: dict[str, int] = {}

    @property
    def dirty(self) -> bool:
        return bool(self._order) or bool(self._extra) or bool(self._seqs)

    # -- reads -----------------------------------------------------------------------------
    def get(self, kind: str, obj_id: str | None) -> dict[str, Any] | None:
        if not obj_id:
            return None
        key = (kind, str(obj_id))
        if key in self._cache:
            obj = self._cache[key]
        else:
            raw = self.pipe.get(self.store.key_obj(kind, key[1]))
            obj = json.loads(raw) if raw else None
            self._cache[key] = obj
            self._original[key] = obj
        return None if obj is None else _copy(obj)

    def require(self, kind: str, obj_id: str | None) -> dict[str, Any]:
        obj = self.get(kind, obj_id)
        if obj is None:
            raise errors.NotFound(kind, obj_id)
        return obj

    def ids(self, kind: str) -> list[str]:
        stored = self.pipe.zrange(self.store.key_idx(kind), 0, -1)
        return self._merge(kind, stored, lambda obj: True)

    def ids_by(self, kind: str, field: str, value: str | None) -> list[str]:
        """Ids of ``kind`` objects whose indexed ``field`` equals (or, for lists, holds) value."""
        if value is None:
            return []
        stored = self.pipe.zrange(self.store.key_ref(kind, field, str(value)), 0, -1)
        return self._merge(kind, stored, lambda obj: str(value) in _index_values(obj, field))

    def list(self, kind: str) -> list[dict[str, Any]]:
        return self._load(kind, self.ids(kind))

    def list_by(self, kind: str, field: str, value: str | None) -> list[dict[str, Any]]:
        return self._load(kind, self.ids_by(kind, field, value))

    def _load(self, kind: str, ids: Iterable[str]) -> list[dict[str, Any]]:
        ids = [str(i) for i in ids]
        self.prefetch(kind, ids)
        out = []
        for obj_id in ids:
            obj = self.get(kind, obj_id)
            if obj is not None:
                out.append(obj)
        return out

    def prefetch(self, kind: str, ids: Iterable[str]) -> None:
        """Read the objects of ``ids`` not read yet, :data:`MGET_BATCH` per round trip."""
        wanted = dict.fromkeys(str(i) for i in ids)
        missing = [i for i in wanted if i and (kind, i) not in self._cache]
        for n in range(0, len(missing), MGET_BATCH):
            chunk = missing[n:n + MGET_BATCH]
            raws = self.pipe.mget([self.store.key_obj(kind, i) for i in chunk])
            for obj_id, raw in zip(chunk, raws, strict=True):
                obj = json.loads(raw) if raw else None
                self._cache[(kind, obj_id)] = obj
                self._original[(kind, obj_id)] = obj

    def _merge(self, kind: str, stored: list[str], keep: Callable[[dict], bool]) -> list[str]:
        """Stored index entries adjusted by this transaction's pending writes."""
        pending = {oid: self._cache[(k, oid)] for (k, oid) in self._order if k == kind}
        out = []
        for oid in stored:
            obj = pending.get(oid, {})
            if oid not in pending or (obj is not None and keep(obj)):
                out.append(oid)
        known = set(stored)
        for oid, obj in pending.items():
            if oid not in known and obj is not None and keep(obj):
                out.append(oid)
        return out

    # -- writes ----------------------------------------------------------------------------
    def next_seq(self, name: str) -> int:
        """Allocate a number from a named counter; it is consumed only if this txn commits."""
        if name not in self._seqs:
            key = self.store.key_seq(name)
            self.pipe.watch(key)
            self._seqs[name] = int(self.pipe.get(key) or 0)
        self._seqs[name] += 1
        return self._seqs[name]

    def put(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an object (it must carry an ``id``)."""
        key = (kind, str(obj["id"]))
        if key not in self._cache:
            self.get(kind, key[1])
        self._cache[key] = _copy(obj)
        if key not in self._order:
            self._order.append(key)
        return obj

    def delete(self, kind: str, obj_id: str) -> None:
        key = (kind, str(obj_id))
        if key not in self._cache:
            self.get(kind, key[1])
        self._cache[key] = None
        if key not in self._order:
            self._order.append(key)

    def on_commit(self, fn: Callable[[redis.client.Pipeline], None]) -> None:
        """Queue a raw write (inside MULTI) for keys that are not objects, e.g. state keys."""
        self._extra.append(fn)

    def commit(self) -> None:
        changes = [(k, self._original.get(k), self._cache[k]) for k in self._order]
        changes = [c for c in changes if c[1] != c[2]]
        if not changes and not self._extra and not self._seqs:
            self.pipe.reset()
            return
        self._check_writable(changes)
        version = self.base_version + 1
        store = self.store
        pipe = self.pipe
        pipe.multi()
        for n, ((kind, oid), old, new) in enumerate(changes):
            if new is None:
                pipe.delete(store.key_obj(kind, oid))
                pipe.zrem(store.key_idx(kind), oid)
            else:
                pipe.set(store.key_obj(kind, oid), json.dumps(new, sort_keys=True))
                if old is None:
                    pipe.zadd(store.key_idx(kind), {oid: version * 10_000 + n})
            for field in indexed_fields(kind):
                before = _index_values(old, field)
                after = _index_values(new, field)
                for value in before - after:
                    pipe.zrem(store.key_ref(kind, field, value), oid)
                for value in after - before:
                    pipe.zadd(store.key_ref(kind, field, value), {oid: version * 10_000 + n})
        for fn in self._extra:
            fn(pipe)
        for name, value in self._seqs.items():
            pipe.set(store.key_seq(name), value)
        pipe.set(store.key_version, version)
        pipe.set(store.key_epoch, uuid.uuid4().hex, nx=True)
        for n, ((kind, oid), old, new) in enumerate(changes):
            op = "create" if old is None else "delete" if new is None else "update"
            pipe.xadd(store.key_feed, {"v": version, "op": op, "kind": kind, "id": oid},
                      id=f"{version}-{n}", maxlen=FEED_MAXLEN, approximate=True)
        if not changes:
            pipe.xadd(store.key_feed, {"v": version, "op": "update", "kind": "state", "id": ""},
                      id=f"{version}-0", maxlen=FEED_MAXLEN, approximate=True)
        pipe.execute()

    def _check_writable(self, changes: list[tuple[tuple[str, str], Any, Any]]) -> None:
        if self.system:
            return
        state = self.get("systemState", "system") or {}
        if state.get("availability") != "READONLY":
            return
        for (kind, _oid), _old, _new in changes:
            if kind != "systemState":
                raise errors.ReadOnly()
        if self._extra or self._seqs:
            raise errors.ReadOnly()


def _index_values(obj: dict[str, Any] | None, field: str) -> set[str]:
    if obj is None:
        return set()
    value = obj.get(field)
    if value is None:
        return set()
    if isinstance(value, list):
        return {str(v) for v in value if v is not None}
    return {str(value)}


def _copy(obj: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(obj))

