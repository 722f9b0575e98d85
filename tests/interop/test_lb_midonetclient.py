"""python-midonetclient 5.2.0 drives L4 load balancing against our API.

The client library creates, lists, gets, updates and deletes load balancers, pools, pool
members, VIPs and health monitors (through the application's collections, a load balancer's
``add_pool``, a pool's ``add_pool_member`` and ``add_vip``, and the application's getters and
deleters by id), and attaches a load balancer to a router from the router's side. The
midonet-cli script shipped with it runs the guide's first load-balancing commands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webob.exc

pytestmark = pytest.mark.interop


def test_every_lb_resource_through_the_library(api: Any) -> None:
    router = api.add_router().name("tenant").create()
    lb = api.add_load_balancer().create()
    assert lb.get_admin_state_up() is True and lb.get_router_id() is None
    router.load_balancer_id(lb.get_id()).update()
    assert api.get_load_balancer(lb.get_id()).get_router_id() == router.get_id()
    assert [b.get_id() for b in api.get_load_balancers()] == [lb.get_id()]

    pool = lb.add_pool().lb_method("ROUND_ROBIN").create()
    assert (pool.get_load_balancer_id(), pool.get_lb_method(), pool.get_protocol(),
            pool.get_health_monitor_id()) == (lb.get_id(), "ROUND_ROBIN", "TCP", None)
    other = api.add_pool().load_balancer_id(lb.get_id()).lb_method("ROUND_ROBIN").create()
    assert sorted(p.get_id() for p in lb.get_pools()) == sorted([pool.get_id(),
                                                                 other.get_id()])
    assert len(api.get_pools()) == 2
    with pytest.raises(webob.exc.HTTPBadRequest):
        lb.add_pool().lb_method("LEAST_CONNECTIONS").create()

    member = pool.add_pool_member().address("192.168.100.100").protocol_port(80).create()
    assert (member.get_pool_id(), member.get_address(), member.get_protocol_port(),
            member.get_weight(), member.get_status()) == (pool.get_id(), "192.168.100.100",
                                                          80, 1, "ACTIVE")
    member.weight(3).admin_state_up(False).update()
    got = api.get_pool_member(member.get_id())
    assert (got.get_weight(), got.get_admin_state_up()) == (3, False)
    with pytest.raises(webob.exc.HTTPBadRequest):
        pool.add_pool_member().address("192.168.100.101").protocol_port(0).create()
    with pytest.raises(webob.exc.HTTPBadRequest):
        member.weight(-1).update()
    assert [m.get_id() for m in pool.get_pool_members()] == [member.get_id()]
    assert len(api.get_pool_members()) == 1

    vip = pool.add_vip().address("203.0.113.2").protocol_port(8080) \
        .session_persistence("SOURCE_IP").create()
    assert (vip.get_pool_id(), vip.get_load_balancer_id(), vip.get_address(),
            vip.get_protocol_port(), vip.get_session_persistence()) == (
                pool.get_id(), lb.get_id(), "203.0.113.2", 8080, "SOURCE_IP")
    vip.session_persistence(None).update()
    assert api.get_vip(vip.get_id()).get_session_persistence() is None
    assert [v.get_id() for v in pool.get_vips()] == [vip.get_id()]
    assert [v.get_id() for v in lb.get_vips()] == [vip.get_id()]
    assert len(api.get_vips()) == 1
    with pytest.raises(webob.exc.HTTPBadRequest):
        api.add_vip().address("203.0.113.3").protocol_port(80).create()  # no pool

    hm = api.add_health_monitor().type("TCP").delay(5).timeout(2).max_retries(3).create()
    assert (hm.get_type(), hm.get_delay(), hm.get_timeout(), hm.get_max_retries(),
            hm.get_admin_state_up()) == ("TCP", 5, 2, 3, False)
    pool.health_monitor_id(hm.get_id()).update()
    hm.admin_state_up(True).delay(10).update()
    got = api.get_health_monitor(hm.get_id())
    assert (got.get_admin_state_up(), got.get_delay()) == (True, 10)
    assert [p.get_id() for p in got.get_pools()] == [pool.get_id()]
    assert [h.get_id() for h in api.get_health_monitors()] == [hm.get_id()]
    assert list(api.get_pool_statistics()) == []  # MidoNet kept none

    api.delete_health_monitor(hm.get_id())
    assert api.get_pool(pool.get_id()).get_health_monitor_id() is None
    api.delete_pool_member(member.get_id())
    assert list(pool.get_pool_members()) == []
    vip.delete()
    api.delete_pool(other.get_id())
    pool.add_pool_member().address("192.168.100.101").protocol_port(80).create()
    api.delete_pool(pool.get_id())  # its member goes with it
    assert list(api.get_pool_members()) == [] and list(api.get_vips()) == []
    api.delete_load_balancer(lb.get_id())
    assert list(api.get_load_balancers()) == []
    assert api.get_router(router.get_id()).get_load_balancer_id() is None


def test_the_client_midonet_cli_manages_load_balancers(
        api: Any, midonet_cli_script: Callable[..., Any], api_url: str) -> None:
    """The script shipped with the client creates a load balancer, attaches it to a router
    and creates a pool and a health monitor."""

    def cli(command: str) -> str:
        done = midonet_cli_script(api_url, command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        return str(done.stdout.strip())

    router = api.add_router().name("tenant").create().get_id()
    lb = cli("load-balancer create")
    assert api.get_load_balancer(lb).get_admin_state_up() is True
    cli(f"router {router} set load-balancer {lb}")
    assert api.get_load_balancer(lb).get_router_id() == router
    hm = cli("health-monitor create type TCP delay 100 max-retries 50 timeout 500")
    assert api.get_health_monitor(hm).get_max_retries() == 50
    assert cli("health-monitor list") == \
        f"hm {hm} delay 100 timeout 500 max-retries 50 state down status ACTIVE type TCP"
