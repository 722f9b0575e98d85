"""python-midonetclient 5.2.0 drives a bridge's ARP table against our API.

The 5.2.0 client has no call of its own for the bridge ARP table (later MidoNet clients
do); a client reaches it as MidoNet's ``Ip4MacPair`` resource through its generic resource
machinery: the bridge's ``arpTable`` link, the ``IP4Mac-v1`` media type, create (POST then
GET of the location), list, get and delete.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.interop

MEDIA = "application/vnd.org.midonet.IP4Mac-v1+json"
COLLECTION = "application/vnd.org.midonet.collection.IP4Mac-v1+json"


def test_arp_table_entries_as_client_resources(midonetclient: Any, api: Any) -> None:
    from midonetclient import resource_base

    class Ip4Mac(resource_base.ResourceBase):  # type: ignore[misc]
        media_type = MEDIA

    bridge = api.add_bridge().name("net").create()
    table = bridge.dto["arpTable"]
    assert table == bridge.get_uri() + "/arp_table"
    entry = Ip4Mac(table, {"ip": "10.0.0.5", "mac": "02:00:00:00:00:05"}, bridge.auth).create()
    assert entry.dto == {"uri": table + "/10.0.0.5_02-00-00-00-00-05", "ip": "10.0.0.5",
                         "mac": "02:00:00:00:00:05"}
    Ip4Mac(table, {"ip": "10.0.0.6", "mac": "02:00:00:00:00:06"}, bridge.auth).create()
    listed = bridge.get_children(table, {}, {"Accept": COLLECTION}, Ip4Mac)
    assert [(e.dto["ip"], e.dto["mac"]) for e in listed] == [
        ("10.0.0.5", "02:00:00:00:00:05"), ("10.0.0.6", "02:00:00:00:00:06")]
    assert entry.get().dto["ip"] == "10.0.0.5"
    entry.delete()
    listed = bridge.get_children(table, {}, {"Accept": COLLECTION}, Ip4Mac)
    assert [e.dto["ip"] for e in listed] == ["10.0.0.6"]
