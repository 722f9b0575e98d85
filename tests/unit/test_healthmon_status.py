"""Member and pool status writes: only changes, pool status from its members, and members of
pools that are not monitored back to ACTIVE."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ryu_midonet.healthmon import status


class FakeTxn:
    def __init__(self, objects: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.objects = objects
        self.puts: list[str] = []

    def get(self, kind: str, obj_id: str | None) -> dict[str, Any] | None:
        obj = self.objects.get(kind, {}).get(obj_id or "")
        return None if obj is None else dict(obj)

    def put(self, kind: str, obj: dict[str, Any]) -> None:
        self.objects.setdefault(kind, {})[obj["id"]] = obj
        self.puts.append(obj["id"])

    def list_by(self, kind: str, field: str, value: str) -> list[dict[str, Any]]:
        return [dict(o) for o in self.objects.get(kind, {}).values() if o.get(field) == value]


class FakeStore:
    def __init__(self, objects: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.txn = FakeTxn(objects)
        self.fail = False

    def transaction(self, fn: Callable[[FakeTxn], Any]) -> Any:
        if self.fail:
            raise ConnectionError("store down")
        return fn(self.txn)


def store(monitored: bool = True) -> FakeStore:
    return FakeStore({
        "router": {"r1": {"id": "r1"}},
        "loadBalancer": {"lb1": {"id": "lb1", "routerId": "r1"}},
        "healthMonitor": {"hm1": {"id": "hm1", "adminStateUp": monitored}},
        "pool": {"p1": {"id": "p1", "loadBalancerId": "lb1", "healthMonitorId": "hm1",
                        "status": "ACTIVE"}},
        "poolMember": {m: {"id": m, "poolId": "p1", "status": "ACTIVE"} for m in ("m1", "m2")},
    })


def test_changed_statuses_are_written_and_the_pool_follows_its_members() -> None:
    s = store()
    assert status.write(s, "p1", {"m1": "INACTIVE", "m2": "ACTIVE"})
    assert s.txn.puts == ["m1"]
    assert s.txn.objects["pool"]["p1"]["status"] == "ACTIVE"
    assert status.write(s, "p1", {"m2": "INACTIVE"})
    assert s.txn.objects["pool"]["p1"]["status"] == "INACTIVE"
    assert status.write(s, "p1", {"m1": "ACTIVE"})
    assert s.txn.objects["poolMember"]["m1"]["status"] == "ACTIVE"
    assert s.txn.objects["pool"]["p1"]["status"] == "ACTIVE"


def test_a_store_that_fails_reports_it() -> None:
    s = store()
    s.fail = True
    assert not status.write(s, "p1", {"m1": "INACTIVE"})
    assert not status.reset(s, "p1")


def test_members_of_an_unmonitored_pool_are_reset_to_active() -> None:
    s = store(monitored=False)
    s.txn.objects["poolMember"]["m1"]["status"] = "INACTIVE"
    s.txn.objects["pool"]["p1"]["status"] = "INACTIVE"
    assert status.reset(s, "p1")
    assert {m["status"] for m in s.txn.objects["poolMember"].values()} == {"ACTIVE"}
    assert s.txn.objects["pool"]["p1"]["status"] == "ACTIVE"


def test_a_pool_monitored_again_by_the_time_of_the_reset_keeps_its_statuses() -> None:
    s = store(monitored=True)
    s.txn.objects["poolMember"]["m1"]["status"] = "INACTIVE"
    assert status.reset(s, "p1")
    assert s.txn.objects["poolMember"]["m1"]["status"] == "INACTIVE"
