"""Live tracing's state in a real store: each request's limit counted down by every agent at
once, and its trace log kept newest last, capped."""

from __future__ import annotations

import pytest
from rest_call import ok

from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.tracing import tracelog

pytestmark = pytest.mark.integration


def test_agents_share_one_count_and_a_new_limit_starts_again(topo: Topology) -> None:
    h1, h2 = tracelog.StoreCounter(topo.store), tracelog.StoreCounter(topo.store)
    taken = [h1.take("r1", 3), h2.take("r1", 3), h1.take("r1", 3), h2.take("r1", 3)]
    assert taken == [True, True, True, False] and h1.left("r1", 3) == 0
    assert h2.take("r1", 5) and h1.left("r1", 5) == 4  # the request's limit was changed
    assert all(h1.take("r2", tracelog.UNLIMITED) for _ in range(3))
    assert not h1.take("r3", 0)


def test_the_log_keeps_the_newest_entries_in_order(topo: Topology) -> None:
    log = tracelog.StoreLog(topo.store)
    for n in range(tracelog.LOG_MAX + 5):
        log.write("r1", f"packet h1#{n}\n  line")
    entries = tracelog.read(topo.store, "r1")
    assert len(entries) == tracelog.LOG_MAX
    assert entries[0].startswith("packet h1#5\n") and entries[-1].endswith(
        f"#{tracelog.LOG_MAX + 4}\n  line")
    assert tracelog.read(topo.store, "r2") == []


def test_the_api_shows_a_request_s_log_and_what_it_may_still_trace(api_url: str) -> None:
    bridge = ok("POST", api_url + "/bridges", {"name": "net"}, 201)
    request = ok("POST", api_url + "/traces", {"name": "t", "deviceType": "BRIDGE",
                                               "deviceId": bridge["id"], "limit": 4,
                                               "enabled": True}, 201)
    assert ok("GET", f"{api_url}/traces/{request['id']}/log") == {
        "id": request["id"], "left": 4, "entries": []}
    ok("GET", f"{api_url}/traces/{bridge['id']}/log", status=404)
