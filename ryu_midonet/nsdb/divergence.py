"""A store that lost data: how agents report it and how an operator accepts the store as it is.

An agent's topology cache *diverges* from the store when the store's history changed under
it (its epoch is not the one the cache was built from: the data was lost and written anew)
or went back in time (its version is older than the cache's: a restore, or a failover to a
replica that missed writes). Applying such a store would delete what the store forgot, so the
agent keeps its cached topology, its ports and its flows, and reports the condition here until
an operator accepts the store (or the agent's grace period, if one is configured, runs out).

Keys (beside the topology, under the same hash tag):

- ``{p}:state:divergence``      hash: host id -> JSON report of that host's agent
- ``{p}:state:accepted-epoch``  the epoch an operator accepted; agents adopt a store whose
                                epoch it is
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from ryu_midonet.nsdb.store import Store, Txn


@dataclass
class Divergence:
    """What one agent's cache holds against what the store holds."""

    cached_epoch: str | None
    cached_version: int
    store_epoch: str | None
    store_version: int
    since: float  # wall-clock time the agent first saw it

    def describe(self) -> str:
        if self.store_epoch != self.cached_epoch:
            what = "lost its data (its history started again)"
        else:
            what = "went back in time"
        return (f"the topology store {what}: it holds version {self.store_version}, "
                f"this host's cache version {self.cached_version}")


def key_reports(store: Store) -> str:
    return store.key_state("divergence")


def key_accepted(store: Store) -> str:
    return store.key_state("accepted-epoch")


def report(store: Store, host_id: str, host_name: str, found: Divergence | None,
           grace: float = 0) -> None:
    """Publish (or, with ``found`` None, withdraw) this host's report."""
    if found is None:
        store.redis.hdel(key_reports(store), host_id)
        return
    doc = {**asdict(found), "hostId": host_id, "hostName": host_name,
           "graceSeconds": grace, "message": found.describe()}
    store.redis.hset(key_reports(store), host_id, json.dumps(doc, sort_keys=True))


def reports(store: Store) -> list[dict[str, Any]]:
    """Every host's current report, by host name."""
    raw = store.redis.hgetall(key_reports(store))
    return sorted((json.loads(v) for v in raw.values()), key=lambda r: r.get("hostName", ""))


def accepted_epoch(store: Store) -> str | None:
    return store.redis.get(key_accepted(store))


def accept(store: Store) -> str:
    """Declare the store's current content the truth: it gets a new epoch that every agent
    adopts, applying whatever the store lacks. Refused in READONLY availability."""
    epoch = uuid.uuid4().hex

    def work(txn: Txn) -> str:
        def write(pipe: Any) -> None:
            pipe.set(store.key_epoch, epoch)
            pipe.set(key_accepted(store), epoch)
            pipe.set(store.key_state("accepted-at"), str(time.time()))

        txn.on_commit(write)
        return epoch

    return store.transaction(work)


def status(store: Store) -> dict[str, Any]:
    """The store's epoch and version, and every agent's divergence report."""
    return {"epoch": store.epoch(), "version": store.version(),
            "acceptedEpoch": accepted_epoch(store), "divergences": reports(store)}
