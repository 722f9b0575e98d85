"""Learned routes as router routes, and the flows joining an uplink to its BGP namespace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ryu_midonet.bgp import routes, wire
from ryu_midonet.bgp.rib import Learned
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath.flows import FlowSpec

PEER = "198.51.100.1"


def _route(rid: str, dst: str, length: int, learned: bool = True, port: str = "up",
           gw: str = PEER) -> dict[str, object]:
    return {"id": rid, "dstNetworkAddr": dst, "dstNetworkLength": length, "learned": learned,
            "nextHopPort": port, "nextHopGateway": gw}


def test_only_the_ports_learned_routes_are_its_own() -> None:
    stored = [_route("a", "203.0.113.0", 24), _route("b", "10.0.0.0", 8, learned=False),
              _route("c", "198.18.0.0", 15, port="other")]
    assert routes.owned(stored, "up") == {Learned("203.0.113.0/24", PEER): "a"}


def test_plan_adds_the_new_and_removes_the_withdrawn() -> None:
    have = {Learned("203.0.113.0/24", PEER): "a", Learned("198.18.0.0/15", PEER): "b"}
    want = [Learned("203.0.113.0/24", PEER), Learned("192.0.2.0/24", PEER)]
    assert routes.plan(have, want) == ([Learned("192.0.2.0/24", PEER)], ["b"])
    assert routes.plan(have, []) == ([], ["a", "b"])


def test_a_learned_route_goes_to_the_peer_through_the_uplink() -> None:
    body = routes.route_data(Learned("203.0.113.0/24", PEER), "up")
    assert body["learned"] is True and body["nextHopGateway"] == PEER
    assert (body["dstNetworkAddr"], body["dstNetworkLength"], body["nextHopPort"]) == (
        "203.0.113.0", 24, "up")


def test_the_flows_carry_only_bgp_and_arp_above_the_simulated_ones() -> None:
    flows = wire.flows(7, uplink=3, service=9, address="198.51.100.2")
    for flow in flows:
        assert isinstance(flow, FlowSpec)
        assert flow.priority > p.PRIORITY_NAT_STEER or flow.table == p.TABLE_CLASSIFY
        assert flow.cookie == p.cookie(p.COOKIE_BGP, 7)
    to_ns = [f for f in flows if f.match.get("in_port") == 3]
    assert all(f.match.get("tcp_dst") == 179 or f.match.get("tcp_src") == 179
               or f.match.get("arp_op") == 2 for f in to_ns)
    assert wire.delete(7).cookie == p.cookie(p.COOKIE_BGP, 7)


class _Txn:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def get(self, kind: str, obj_id: str) -> dict[str, Any] | None:
        self.store.gets += kind == "route"
        obj = self.store.objects.get(kind, {}).get(obj_id)
        return None if obj is None else dict(obj)

    def put(self, kind: str, obj: dict[str, Any]) -> None:
        self.store.objects.setdefault(kind, {})[obj["id"]] = dict(obj)

    def delete(self, kind: str, obj_id: str) -> None:
        del self.store.objects[kind][obj_id]

    def list_by(self, kind: str, field: str, value: str) -> list[dict[str, Any]]:
        return [dict(o) for o in self.store.objects.get(kind, {}).values()
                if o.get(field) == value]

    def ids_by(self, kind: str, field: str, value: str) -> list[str]:
        return [o["id"] for o in self.list_by(kind, field, value)]


class _Store:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, dict[str, Any]]] = {
            "router": {"r": {"id": "r"}}, "port": {"up": {"id": "up", "deviceId": "r"}},
            "route": {"s": _route("s", "10.0.0.0", 8, learned=False) | {"routerId": "r"}}}
        self.gets = self.writes = 0

    def read(self, fn: Callable[[_Txn], Any]) -> Any:
        return fn(_Txn(self))

    def transaction(self, fn: Callable[[_Txn], Any]) -> Any:
        self.writes += 1
        return fn(_Txn(self))


def _many(count: int) -> list[Learned]:
    return [Learned(f"100.{64 + n // 256}.{n % 256}.0/24", PEER) for n in range(count)]


def test_the_book_writes_many_routes_per_transaction_and_rereads_none() -> None:
    store = _Store()
    book = routes.Book(store, "r", "up")
    book.sync(_many(1200))
    assert store.writes == 3  # 500 routes per transaction
    learned = [r for r in store.objects["route"].values() if r.get("learned")]
    assert len(learned) == 1200 and all(r["routerId"] == "r" for r in learned)
    store.gets = store.writes = 0
    book.sync(_many(1200))
    assert (store.gets, store.writes) == (0, 0)  # nothing changed, nothing read
    book.sync(_many(10))
    assert len(store.objects["route"]) == 11  # the operator's route stays
    assert routes.Book(store, "r", "up").stored() == {  # a new agent reads what is stored
        learned: rid for rid, r in store.objects["route"].items() if r.get("learned")
        for learned in [Learned(f"{r['dstNetworkAddr']}/24", PEER)]}
