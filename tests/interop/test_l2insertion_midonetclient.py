"""python-midonetclient 5.2.0 drives L2 insertions against our API: its ``L2Insertion``
resource (port, service port, mac, vlan, position, fail-open) through create, list, get,
update and delete."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.interop

MAC = "fa:16:3e:a4:dd:58"


def test_l2insertions_through_the_client(api: Any) -> None:
    bridge0 = api.add_bridge().name("bridge0").create()
    bridge1 = api.add_bridge().name("bridge1").create()
    port = bridge0.add_port().create()
    srv0, srv1 = bridge1.add_port().create(), bridge1.add_port().create()
    first = (api.add_l2insertion().port(port.get_id()).srv_port(srv0.get_id()).mac(MAC)
             .vlan(10).position(0).fail_open(True).create())
    second = (api.add_l2insertion().port(port.get_id()).srv_port(srv1.get_id()).mac(MAC)
              .vlan(20).position(0).fail_open(False).create())
    assert (second.get_port(), second.get_srv_port(), second.get_mac(), second.get_vlan(),
            second.get_position(), second.get_fail_open()) == \
        (port.get_id(), srv1.get_id(), MAC, 20, 0, False)
    got = api.get_l2insertion(first.get_id())
    assert (got.get_position(), got.get_vlan(), got.get_fail_open()) == (1, 10, True)
    got.vlan(30).position(0).update()
    listed = {i.get_srv_port(): (i.get_position(), i.get_vlan())
              for i in api.get_l2insertions({})}
    assert listed == {srv0.get_id(): (0, 30), srv1.get_id(): (1, 20)}
    api.delete_l2insertion(first.get_id())
    assert [(i.get_id(), i.get_position()) for i in api.get_l2insertions({})] == \
        [(second.get_id(), 0)]
    api.delete_l2insertion(second.get_id())
    assert api.get_l2insertions({}) == []
