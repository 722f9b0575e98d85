"""Twenty clients write to one chain and one bridge of a real API process for 30 seconds.

Every request that does not truly conflict succeeds (no 5xx, no 409 giving up); afterwards the
store is consistent: rule positions run 1..n, linked ports name each other, every index key in
Redis matches the stored objects, and the tunnel-key counter advanced once per created port,
never for the creates the API refused.
"""

from __future__ import annotations

import collections
import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from ryu_midonet.nsdb.schema import KINDS, indexed_fields
from tests.integration.rest_call import call

DURATION_S = 30.0
WRITERS = 20
PREFIX = "{mn}"


class Tally:
    """What the writers saw: status counts per request kind, and the surprises."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: collections.Counter[tuple[str, int]] = collections.Counter()
        self.surprises: list[str] = []

    def expect(self, what: str, got: tuple[int, Any], *wanted: int) -> Any:
        status, body = got
        with self.lock:
            self.statuses[(what, status)] += 1
            if status not in wanted:
                self.surprises.append(f"{what}: {status} {json.dumps(body)[:300]}")
        return body if status in wanted else None


def _chain_writer(api: str, chain_id: str, stop: float, n: int, tally: Tally) -> None:
    mine: list[str] = []  # my rules: they exist, so positions up to len(mine) + 1 are valid
    rnd = random.Random(n)
    while time.monotonic() < stop:
        action = rnd.random()
        if action < 0.45 or not mine:
            position = rnd.randint(1, len(mine) + 1)
            rule = tally.expect("create rule", call("POST", f"{api}/chains/{chain_id}/rules", {
                "type": "accept", "nwProto": 6, "tpDst": {"start": 80, "end": 80},
                "position": position}), 201)
            if rule:
                mine.append(rule["id"])
        elif action < 0.75:
            rule_id = mine.pop(rnd.randrange(len(mine)))
            tally.expect("delete rule", call("DELETE", f"{api}/rules/{rule_id}"), 204)
        elif action < 0.9:
            rule_id = rnd.choice(mine)
            tally.expect("update rule", call("PUT", f"{api}/rules/{rule_id}", {
                "type": rnd.choice(["accept", "drop"]), "nwProto": 17}), 200)
        else:
            tally.expect("update chain", call("PUT", f"{api}/chains/{chain_id}",
                                              {"name": f"chain-{n}"}), 200)


def _bridge_writer(api: str, bridge_id: str, router_id: str, stop: float, n: int,
                   tally: Tally) -> None:
    mine: list[str] = []
    rnd = random.Random(1000 + n)
    serial = 0
    while time.monotonic() < stop:
        action = rnd.random()
        if action < 0.35 or not mine:
            port = tally.expect("create bridge port",
                                call("POST", f"{api}/bridges/{bridge_id}/ports", {}), 201)
            if port:
                mine.append(port["id"])
        elif action < 0.5:
            serial += 1
            peer = tally.expect("create router port", call(
                "POST", f"{api}/routers/{router_id}/ports",
                {"portAddress": f"10.{n}.{serial // 200 % 256}.{serial % 200 + 1}",
                 "networkLength": 24}), 201)
            free = [p for p in mine if p]
            if peer and free:
                tally.expect("link", call("POST", f"{api}/ports/{free[-1]}/link",
                                          {"peerId": peer["id"]}), 201)
                mine.remove(free[-1])  # linked ports stay, so the peers can be checked
        elif action < 0.6:
            # refused creates: they must not consume a tunnel key
            tally.expect("refused router port", call(
                "POST", f"{api}/routers/{router_id}/ports", {"networkLength": 24}), 400)
            tally.expect("refused bridge port", call(
                "POST", f"{api}/bridges/{bridge_id}/ports",
                {"inboundFilterId": "8a5c1f0e-0000-4000-8000-00000000ffff"}), 400)
        elif action < 0.85:
            port_id = mine.pop(rnd.randrange(len(mine)))
            tally.expect("delete port", call("DELETE", f"{api}/ports/{port_id}"), 204)
        else:
            tally.expect("update bridge", call("PUT", f"{api}/bridges/{bridge_id}",
                                               {"name": f"bridge-{n}"}), 200)


def _guarded(writer: Callable[..., None], tally: Tally, *args: Any) -> None:
    """Run a writer; an exception (a dropped connection, a timeout) is a surprise too."""
    try:
        writer(*args, tally)
    except Exception as exc:  # noqa: BLE001 - reported by the test
        with tally.lock:
            tally.surprises.append(f"{writer.__name__}: {exc!r}")


def _objects(r: redis.Redis, kind: str) -> dict[str, dict[str, Any]]:
    out = {}
    for key in r.scan_iter(match=f"{PREFIX}:obj:{kind}:*"):
        out[key.rsplit(":", 1)[1]] = json.loads(r.get(key))
    return out


def _check_indexes(r: redis.Redis) -> None:
    """Every ``{mn}:idx:*`` and ``{mn}:ref:*`` key holds exactly what the objects say."""
    expected_refs: dict[str, set[str]] = collections.defaultdict(set)
    for kind in KINDS:
        objs = _objects(r, kind)
        assert set(r.zrange(f"{PREFIX}:idx:{kind}", 0, -1)) == set(objs), kind
        for field in indexed_fields(kind):
            for oid, obj in objs.items():
                value = obj.get(field)
                for v in value if isinstance(value, list) else [value]:
                    if v is not None:
                        expected_refs[f"{PREFIX}:ref:{kind}:{field}:{v}"].add(oid)
    stored_refs = {key: set(r.zrange(key, 0, -1)) for key in r.scan_iter(match=f"{PREFIX}:ref:*")}
    assert stored_refs == dict(expected_refs)
    assert {k.rsplit(":", 1)[1] for k in r.scan_iter(match=f"{PREFIX}:idx:*")} <= set(KINDS)


def test_twenty_writers_on_one_chain_and_one_bridge(api_url: str, redis_url: str) -> None:
    api = api_url
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    chain = call("POST", f"{api}/chains", {"name": "busy"})[1]
    bridge = call("POST", f"{api}/bridges", {"name": "busy"})[1]
    router = call("POST", f"{api}/routers", {"name": "edge"})[1]
    tally = Tally()
    stop = time.monotonic() + DURATION_S
    threads = [threading.Thread(target=_guarded,
                                args=(_chain_writer, tally, api, chain["id"], stop, n))
               for n in range(WRITERS // 2)]
    threads += [threading.Thread(target=_guarded, args=(_bridge_writer, tally, api, bridge["id"],
                                                        router["id"], stop, n))
                for n in range(WRITERS // 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not tally.surprises, f"{len(tally.surprises)} unexpected replies:\n" + "\n".join(
        tally.surprises[:40])
    statuses = tally.statuses
    assert not [s for s in statuses if s[1] >= 500 or s[1] == 409]
    assert statuses[("create rule", 201)] > 0 and statuses[("link", 201)] > 0

    # rule positions are contiguous and the chain lists exactly its rules
    status, rules = call("GET", f"{api}/chains/{chain['id']}/rules")
    assert status == 200
    assert [rule["position"] for rule in rules] == list(range(1, len(rules) + 1))
    stored_chain = json.loads(r.get(f"{PREFIX}:obj:chain:{chain['id']}"))
    rule_objs = _objects(r, "rule")
    assert sorted(stored_chain["ruleIds"]) == sorted(rule_objs)
    assert [rule["id"] for rule in rules] == stored_chain["ruleIds"]

    # linked ports name each other
    ports = _objects(r, "port")
    linked = {pid: p["peerId"] for pid, p in ports.items() if p.get("peerId")}
    assert linked and all(linked.get(peer) == pid for pid, peer in linked.items())

    # every index matches the objects
    _check_indexes(r)

    # one tunnel key per created port; none for a refused create
    created = (statuses[("create bridge port", 201)] + statuses[("create router port", 201)])
    assert statuses[("refused router port", 400)] > 0
    assert int(r.get(f"{PREFIX}:seq:tunnelKey")) == created
    keys = [p["tunnelKey"] for p in ports.values()]
    assert len(keys) == len(set(keys))
