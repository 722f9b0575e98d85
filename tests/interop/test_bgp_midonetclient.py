"""python-midonetclient 5.2.0 drives BGP configuration of routers against our API.

The client library (router ``asn``, ``add_bgp_peer``, ``add_bgp_network``, the application's
``get_bgp_peer``/``delete_bgp_peer`` by id) and the midonet-cli script shipped with it. The
peer's password is written but never read back: the client's ``get_password`` finds no field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webob.exc

pytestmark = pytest.mark.interop


def edge_router(api: Any) -> Any:
    router = api.add_router().name("edge").asn(64512).create()
    for addr in ("198.51.100.2", "203.0.113.2"):
        router.add_port().port_address(addr).network_address(addr[:-1] + "0") \
            .network_length(30).create()
    return router


def test_bgp_peers_and_networks_through_the_library(api: Any) -> None:
    router = edge_router(api)
    assert router.get_asn() == 64512
    peer = router.add_bgp_peer().asn(64513).address("198.51.100.1").password("md5-key") \
        .create()
    assert (peer.get_asn(), peer.get_address(), peer.get_keep_alive()) == \
        (64513, "198.51.100.1", None)
    with pytest.raises(KeyError):
        peer.get_password()
    router.add_bgp_peer().asn(64514).address("203.0.113.1").create()
    assert [(p.get_asn(), p.get_address()) for p in router.get_bgp_peers()] == [
        (64513, "198.51.100.1"), (64514, "203.0.113.1")]

    peer.keep_alive(5).hold_time(5).connect_retry(10).update()
    got = api.get_bgp_peer(peer.get_id())
    assert (got.get_keep_alive(), got.get_hold_time(), got.get_connect_retry()) == (5, 5, 10)
    with pytest.raises(webob.exc.HTTPBadRequest):
        peer.hold_time(2).update()
    with pytest.raises(webob.exc.HTTPBadRequest):
        router.add_bgp_peer().asn(64515).address("192.0.2.1").create()  # behind no port

    net = router.add_bgp_network().subnet_address("192.0.2.0").subnet_length(24).create()
    assert (net.get_subnet_address(), net.get_subnet_length()) == ("192.0.2.0", 24)
    assert api.get_bgp_network(net.get_id()).get_subnet_address() == "192.0.2.0"
    with pytest.raises(webob.exc.HTTPBadRequest):
        router.add_bgp_network().subnet_address("192.0.2.0").subnet_length(24).create()
    api.delete_bgp_network(net.get_id())
    api.delete_bgp_peer(peer.get_id())
    assert [p.get_address() for p in router.get_bgp_peers()] == ["203.0.113.1"]
    assert list(router.get_bgp_networks()) == []
    router.delete()


def test_the_client_midonet_cli_manages_bgp(api: Any, midonet_cli_script: Callable[..., Any],
                                            api_url: str) -> None:
    """The script shipped with the client sets the AS number, adds peers and networks."""

    def cli(command: str) -> str:
        done = midonet_cli_script(api_url, command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        return str(done.stdout.strip())

    router = edge_router(api).get_id()
    cli(f"router {router} set asn 64600")
    assert api.get_router(router).get_asn() == 64600
    peer = cli(f"router {router} add bgp-peer asn 64513 address 198.51.100.1")
    assert api.get_bgp_peer(peer).get_address() == "198.51.100.1"  # it prints the new id
    cli(f"router {router} bgp-peer address 198.51.100.1 set password md5-key")
    cli(f"router {router} bgp-peer address 198.51.100.1 set hold-time 9")
    cli(f"router {router} bgp-peer address 198.51.100.1 set keep-alive 3")
    assert cli(f"router {router} list bgp-peer") == \
        f"peer {peer} asn 64513 address 198.51.100.1 keep-alive 3 hold-time 9"
    net = cli(f"router {router} add bgp-network net 192.0.2.0/24")
    assert api.get_bgp_network(net).get_subnet_length() == 24
    assert cli(f"router {router} list bgp-network") == f"net {net} net 192.0.2.0/24"
    cli(f"router {router} bgp-network net 192.0.2.0/24 delete")
    cli(f"router {router} bgp-peer address 198.51.100.1 delete")
    assert cli(f"router {router} list bgp-peer") == ""
    assert cli(f"router {router} list bgp-network") == ""
