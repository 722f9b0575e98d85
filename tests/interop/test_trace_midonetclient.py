"""python-midonetclient 5.2.0 drives trace requests against our API: its ``TraceRequest``
resource (name, device, condition, limit, enabled) through create, list, get, update and
delete."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.interop


def test_trace_requests_through_the_client(api: Any) -> None:
    bridge = api.add_bridge().name("net").create()
    made = (api.add_tracerequest().set_name("web").set_bridge(bridge.get_id()).set_limit(5)
            .dl_type(0x0800).nw_dst_address("10.0.0.2").nw_dst_length(32).nw_proto(6)
            .tp_dst({"start": 80, "end": 80}).create())
    assert (made.get_name(), made.get_bridge(), made.get_limit(), made.get_enabled()) == \
        ("web", bridge.get_id(), 5, False)
    got = api.get_tracerequest(made.get_id())
    assert got.get_nw_dst_address() == "10.0.0.2" and got.get_tp_dst() == {"start": 80,
                                                                            "end": 80}
    got.set_enabled(True).update()
    assert [t.get_enabled() for t in api.get_tracerequests({})] == [True]
    api.delete_tracerequest(made.get_id())
    assert api.get_tracerequests({}) == []
