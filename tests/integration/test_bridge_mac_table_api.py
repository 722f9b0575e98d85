"""A bridge's MAC table through the REST API (a real API process, real Redis).

What a client sees: the bridge's ``macTable`` link; static entries added, listed with the
learned ones, named ``mac_portId`` and deleted; per-VLAN tables; bad input answers 400 naming
the field and writes nothing; the readonly role may read but not write; a learned entry never
replaces a static one.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest
from rest_call import call, ok

from ryu_midonet.nsdb.store import Store
from ryu_midonet.statestore import LocalState, StateChanges
from ryu_midonet.statestore.tables import RedisMacTable
from tests.support import credentials
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

VND = "application/vnd.org.midonet."
MAC1, MAC2 = "aa:bb:cc:00:00:01", "aa:bb:cc:00:00:02"


def bridge_with_ports(api_url: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    bridge = ok("POST", api_url + "/bridges", {"name": "net"}, 201)
    one = ok("POST", bridge["ports"], {"type": "Bridge"}, 201)
    two = ok("POST", bridge["ports"], {"type": "Bridge", "vlanId": 7}, 201)
    return bridge, one, two


def test_static_entries_round_trip(api_url: str, redis_url: str) -> None:
    bridge, port, tagged = bridge_with_ports(api_url)
    table = bridge["macTable"]
    assert table == f"{api_url}/bridges/{bridge['id']}/mac_table"
    assert ok("GET", table) == []
    entry = ok("POST", table, {"macAddr": MAC1.upper(), "portId": port["id"]}, 201)
    assert entry == {"uri": f"{table}/aa-bb-cc-00-00-01_{port['id']}", "macAddr": MAC1,
                     "portId": port["id"], "bridgeId": bridge["id"], "vlanId": None,
                     "static": True}
    assert ok("GET", entry["uri"]) == entry
    assert ok("GET", f"{table}/{MAC1}_{port['id']}") == entry  # colons name it too
    vlan_table = f"{api_url}/bridges/{bridge['id']}/vlans/7/mac_table"
    on_vlan = ok("POST", vlan_table, {"macAddr": MAC2, "portId": tagged["id"]}, 201)
    assert on_vlan["vlanId"] == 7
    assert ok("GET", vlan_table) == [on_vlan]

    # the agents' table: a learned entry lists as such, and never replaces a static one
    macs = RedisMacTable(Store.from_url(redis_url))
    macs.learn(bridge["id"], "aa:bb:cc:00:00:03", None, port["id"])
    assert not macs.learn(bridge["id"], MAC1, None, tagged["id"])
    assert macs.get(bridge["id"], MAC1, None) == port["id"]
    listed = ok("GET", table)
    assert [(e["macAddr"], e["vlanId"], e["static"]) for e in listed] == [
        (MAC1, None, True), (MAC2, 7, True), ("aa:bb:cc:00:00:03", None, False)]

    ok("DELETE", entry["uri"], status=204)
    assert call("GET", entry["uri"])[0] == 404
    assert macs.get(bridge["id"], MAC1, None) is None
    assert [e["macAddr"] for e in ok("GET", table)] == [MAC2, "aa:bb:cc:00:00:03"]
    with urllib.request.urlopen(table, timeout=15) as resp:
        assert resp.headers["Content-Type"] == VND + "collection.MacPort-v2+json"


def test_bad_input_names_the_field_and_writes_nothing(api_url: str) -> None:
    bridge, port, tagged = bridge_with_ports(api_url)
    other = ok("POST", api_url + "/bridges", {"name": "other"}, 201)
    elsewhere = ok("POST", other["ports"], {"type": "Bridge"}, 201)
    table = bridge["macTable"]
    for body, field in [
            ({"macAddr": "not-a-mac", "portId": port["id"]}, "macAddr"),
            ({"portId": port["id"]}, "macAddr"),
            ({"macAddr": MAC1}, "portId"),
            ({"macAddr": MAC1, "portId": elsewhere["id"]}, "portId"),
            ({"macAddr": MAC1, "portId": "nonsense"}, "portId"),
            ({"macAddr": MAC1, "portId": tagged["id"]}, "vlanId"),
            ({"macAddr": MAC1, "portId": port["id"], "vlanId": 5000}, "vlanId")]:
        status, reply = call("POST", table, body)
        assert status == 400, (body, reply)
        assert [v["property"] for v in reply["violations"]] == [field], (body, reply)
    assert ok("GET", table) == []
    assert call("GET", f"{table}/nonsense")[0] == 404


def test_readonly_role_reads_but_may_not_write(api_url: str, redis_url: str) -> None:
    bridge, port, _ = bridge_with_ports(api_url)
    entry = ok("POST", bridge["macTable"], {"macAddr": MAC1, "portId": port["id"]}, 201)
    sender = credentials.readonly_sender(api_url, redis_url, "mac-viewer")

    def send(method: str, url: str, body: Any = None) -> int:
        return sender(method, url, body)[0]

    assert send("GET", bridge["macTable"]) == 200
    assert send("GET", entry["uri"]) == 200
    assert send("POST", bridge["macTable"], {"macAddr": MAC2, "portId": port["id"]}) == 403
    assert send("DELETE", entry["uri"]) == 403
    assert ok("GET", bridge["macTable"]) == [entry]


def test_an_agents_local_copy_learns_nothing_over_a_static_entry(api_url: str,
                                                                  redis_url: str) -> None:
    bridge, port, tagged = bridge_with_ports(api_url)
    store = Store.from_url(redis_url)
    changes = StateChanges(store)
    agent = LocalState(store)
    try:
        assert agent.state.macs.get(bridge["id"], MAC1, None) is None  # the table is loaded
        ok("POST", bridge["macTable"], {"macAddr": MAC1, "portId": port["id"]}, 201)
        tag = f"mac:{bridge['id']}:{MAC1}"
        assert wait_until(lambda: changes.get(timeout=0.2) == tag, timeout=10)
        agent.changed(tag)  # as the agent's feed thread does
        assert agent.state.macs.get(bridge["id"], MAC1, None) == port["id"]
        assert not agent.state.macs.learn(bridge["id"], MAC1, None, tagged["id"])
        assert agent.state.macs.get(bridge["id"], MAC1, None) == port["id"]
    finally:
        agent.close()
        changes.close()
