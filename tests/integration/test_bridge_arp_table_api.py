"""A bridge's ARP table through the REST API (a real API process, real Redis).

What a client sees: the bridge's ``arpTable`` link, entries named ``ip_mac`` (the MAC's colons
as dashes); the listing shows the addresses agents learned from VMs' ARP and the static ones;
bad input answers 400 naming the field and writes nothing; the readonly role may read but not
write; agents' copies of the table follow what the API writes.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from rest_call import call, ok

from ryu_midonet.nsdb.store import Store
from ryu_midonet.statestore import LocalState, RedisIp4MacTable, StateChanges
from tests.support import credentials
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

VND = "application/vnd.org.midonet."
MAC1, MAC2 = "aa:bb:cc:00:00:01", "aa:bb:cc:00:00:02"


def test_static_and_learned_entries_round_trip(api_url: str, redis_url: str) -> None:
    bridge = ok("POST", api_url + "/bridges", {"name": "net"}, 201)
    table = f"{api_url}/bridges/{bridge['id']}/arp_table"
    assert bridge["arpTable"] == table and ok("GET", table) == []
    entry = ok("POST", table, {"ip": "10.0.0.5", "mac": MAC1.upper()}, 201)
    assert entry == {"uri": f"{table}/10.0.0.5_aa-bb-cc-00-00-01", "ip": "10.0.0.5",
                     "mac": MAC1}
    assert ok("GET", entry["uri"]) == entry
    # an agent learned another address from a VM's ARP: listed with the static one
    learned = RedisIp4MacTable(Store.from_url(redis_url))
    assert learned.learn(bridge["id"], "10.0.0.6", MAC2)
    assert not learned.learn(bridge["id"], "10.0.0.5", MAC1)  # the static entry stays so
    assert ok("GET", table) == [entry, {"uri": f"{table}/10.0.0.6_aa-bb-cc-00-00-02",
                                        "ip": "10.0.0.6", "mac": MAC2}]
    assert call("GET", f"{table}/10.0.0.5_{MAC2.replace(':', '-')}")[0] == 404  # other MAC
    assert call("GET", f"{table}/10.0.0.7_aa-bb-cc-00-00-07")[0] == 404
    assert call("GET", f"{table}/nonsense")[0] == 404
    ok("DELETE", f"{table}/10.0.0.5_{MAC2.replace(':', '-')}", status=204)  # not its MAC
    assert [e["ip"] for e in ok("GET", table)] == ["10.0.0.5", "10.0.0.6"]
    ok("DELETE", entry["uri"], status=204)
    assert [e["ip"] for e in ok("GET", table)] == ["10.0.0.6"]
    assert call("GET", f"{api_url}/bridges/{'0' * 8}-0000-0000-0000-{'0' * 12}/arp_table")[0] \
        == 404


def test_bad_input_names_the_field_and_writes_nothing(api_url: str) -> None:
    bridge = ok("POST", api_url + "/bridges", {"name": "net"}, 201)
    for body, field in [({"ip": "10.0.0", "mac": MAC1}, "ip"),
                        ({"ip": "10.0.0.300", "mac": MAC1}, "ip"),
                        ({"mac": MAC1}, "ip"),
                        ({"ip": "10.0.0.5", "mac": "aa:bb:cc"}, "mac"),
                        ({"ip": "10.0.0.5", "mac": 5}, "mac"),
                        ({"ip": "10.0.0.5", "mac": MAC1, "vlan": 3}, "vlan")]:
        status, error = call("POST", bridge["arpTable"], body)
        assert status == 400, (body, error)
        assert [v["property"] for v in error["violations"]] == [field], (body, error)
    assert ok("GET", bridge["arpTable"]) == []


def test_readonly_role_reads_but_may_not_write(api_url: str, redis_url: str) -> None:
    bridge = ok("POST", api_url + "/bridges", {"name": "net"}, 201)
    entry = ok("POST", bridge["arpTable"], {"ip": "10.0.0.5", "mac": MAC1}, 201)
    sender = credentials.readonly_sender(api_url, redis_url, "arp-viewer")

    def send(method: str, url: str, body: Any = None) -> int:
        return sender(method, url, body)[0]

    assert send("GET", bridge["arpTable"]) == 200 and send("GET", entry["uri"]) == 200
    assert send("POST", bridge["arpTable"], {"ip": "10.0.0.6", "mac": MAC2}) == 403
    assert send("DELETE", entry["uri"]) == 403
    assert ok("GET", bridge["arpTable"]) == [entry]


def test_media_types(api_url: str) -> None:
    bridge = ok("POST", api_url + "/bridges", {"name": "net"}, 201)
    entry = ok("POST", bridge["arpTable"], {"ip": "10.0.0.5", "mac": MAC1}, 201)
    for url, media in [(entry["uri"], "IP4Mac-v1+json"),
                       (bridge["arpTable"], "collection.IP4Mac-v1+json")]:
        with urllib.request.urlopen(url, timeout=15) as resp:
            assert resp.headers["Content-Type"] == VND + media


def test_agents_copies_follow_what_the_api_writes(api_url: str, redis_url: str) -> None:
    bridge = ok("POST", api_url + "/bridges", {"name": "net"}, 201)
    agent = LocalState(Store.from_url(redis_url))
    changes = StateChanges(Store.from_url(redis_url))
    try:
        assert agent.state.ip4macs.get(bridge["id"], "10.0.0.5") is None  # table copied
        entry = ok("POST", bridge["arpTable"], {"ip": "10.0.0.5", "mac": MAC1}, 201)
        follow(changes, agent, f"ip4mac:{bridge['id']}:10.0.0.5")
        assert agent.state.ip4macs.get(bridge["id"], "10.0.0.5") == MAC1
        ok("DELETE", entry["uri"], status=204)
        follow(changes, agent, f"ip4mac:{bridge['id']}:10.0.0.5")
        assert agent.state.ip4macs.get(bridge["id"], "10.0.0.5") is None
    finally:
        changes.close()
        agent.close()


def follow(changes: StateChanges, agent: LocalState, tag: str, timeout: float = 10.0) -> None:
    """Hand announcements to the agent, as its feed thread does, until ``tag`` came."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = changes.get(timeout=0.2)
        if got is not None:
            agent.changed(got)
            if got == tag:
                return
    raise AssertionError(f"{tag} not announced")


def test_a_learned_entry_ages_out_and_its_expiry_is_announced(api_url: str,
                                                              redis_url: str) -> None:
    bridge = ok("POST", api_url + "/bridges", {"name": "net"}, 201)
    store = Store.from_url(redis_url)
    short = RedisIp4MacTable(store, ttl=0.05)
    static = ok("POST", bridge["arpTable"], {"ip": "10.0.0.5", "mac": MAC1}, 201)
    changes = StateChanges(store)
    try:
        assert short.learn(bridge["id"], "10.0.0.6", MAC2)
        assert wait_until(lambda: short.expire() == 1, timeout=10)
        tags = [changes.get(timeout=5.0) for _ in range(2)]
        assert tags == [f"ip4mac:{bridge['id']}:10.0.0.6"] * 2  # learned, then expired
        assert ok("GET", bridge["arpTable"]) == [static]  # the static entry stays
    finally:
        changes.close()
