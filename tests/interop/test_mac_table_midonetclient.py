"""python-midonetclient 5.2.0 drives a bridge's MAC table against our API.

The client has no MAC table calls of its own; it reaches the table as it reaches every child
collection, by the bridge DTO's link (``macTable``) and a resource class of its
``ResourceBase`` with MidoNet's media type (``MacPort-v2``): create, list, get, delete.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.interop

MEDIA = "application/vnd.org.midonet.MacPort-v2+json"
COLLECTION = "application/vnd.org.midonet.collection.MacPort-v2+json"


def test_static_mac_entries_through_the_client(midonetclient: Any, api: Any) -> None:
    base = midonetclient.resource_base.ResourceBase

    class MacPort(base):  # type: ignore[misc,valid-type]
        media_type = MEDIA

    bridge = api.add_bridge().name("net").create()
    port = bridge.add_port().create()
    table = bridge.dto["macTable"]
    entry = MacPort(table, {"macAddr": "02:00:00:00:00:0a", "portId": port.get_id()},
                    bridge.auth).create()
    assert entry.dto["uri"] == f"{table}/02-00-00-00-00-0a_{port.get_id()}"
    assert (entry.dto["macAddr"], entry.dto["portId"]) == ("02:00:00:00:00:0a", port.get_id())
    listed = list(bridge.get_children(table, {}, {"Accept": COLLECTION}, MacPort))
    assert [m.dto for m in listed] == [entry.dto]
    assert MacPort(table, {"uri": entry.dto["uri"]}, bridge.auth).get().dto == entry.dto
    entry.delete()
    assert list(bridge.get_children(table, {}, {"Accept": COLLECTION}, MacPort)) == []
