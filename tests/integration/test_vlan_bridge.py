"""VLAN-aware bridges (the native L2 gateway, guide chapter 16).

API (a real API process, real Redis): a VLAN id is unique within a bridge and in 1..4094;
anything else is refused with 400 naming ``vlanId`` and nothing written.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_call import call, ok

pytestmark = pytest.mark.integration


def _refused(reply: tuple[int, Any]) -> None:
    status, body = reply
    assert status == 400, body
    assert [v["property"] for v in body["violations"]] == ["vlanId"], body


def test_vlan_ids_are_unique_within_a_bridge_and_in_range(api_url: str) -> None:
    vab = ok("POST", api_url + "/bridges", {"name": "vab"}, 201)
    other = ok("POST", api_url + "/bridges", {"name": "other"}, 201)
    port8 = ok("POST", vab["ports"], {"type": "Bridge", "vlanId": 8}, 201)
    assert port8["vlanId"] == 8
    _refused(call("POST", vab["ports"], {"type": "Bridge", "vlanId": 8}))
    for bad in (0, 4095, 5000, -1):
        _refused(call("POST", vab["ports"], {"type": "Bridge", "vlanId": bad}))
    assert [p["id"] for p in ok("GET", vab["ports"])] == [port8["id"]]  # nothing written
    # the same VLAN on another bridge, and trunks without one, are fine
    ok("POST", other["ports"], {"type": "Bridge", "vlanId": 8}, 201)
    trunk = ok("POST", vab["ports"], {"type": "Bridge"}, 201)
    port5 = ok("POST", vab["ports"], {"type": "Bridge", "vlanId": 5}, 201)
    # an update may not take a VLAN another port has
    _refused(call("PUT", port5["uri"], {**port5, "vlanId": 8}))
    assert ok("GET", port5["uri"])["vlanId"] == 5
    assert ok("PUT", trunk["uri"], {**trunk, "vlanId": 9})["vlanId"] == 9
