"""midonet-cli: the grammar, alias numbering and command execution, on an in-memory API."""

from __future__ import annotations

import pytest
from cli_fake_api import (
    BPORT_A0,
    CHAIN_A,
    CHAIN_B,
    HOST_A,
    ROUTER_A,
    ROUTER_B,
    RPORT_A0,
    RPORT_A1,
    TZ_A,
    FakeApi,
    session,
)

from ryu_midonet.cli import model as m
from ryu_midonet.cli.aliases import AliasTable, Namespace, split_alias
from ryu_midonet.cli.commands import NoMatches, run_line
from ryu_midonet.cli.errors import CliError
from ryu_midonet.cli.kinds.router import ROUTER
from ryu_midonet.cli.parser import parse
from ryu_midonet.cli.session import Session
from ryu_midonet.cli.tokens import tokenize


def run(s: Session, line: str) -> list[str]:
    out: list[str] = []
    run_line(line, s, out.append)
    return out


def api_of(s: Session) -> FakeApi:
    return s.api  # type: ignore[return-value]


def test_namespace_numbers_in_order_and_never_reuses() -> None:
    ns = Namespace("rule")
    assert [ns.assign(i) for i in ("a", "b", "a", "c")] == ["rule0", "rule1", "rule0", "rule2"]
    assert ns.lookup("rule1") == "b" and ns.lookup("rule9") is None
    table = AliasTable()
    assert table.space("r", "port", "port") is table.space("r", "port", "port")
    assert table.space("r", "port", "port") is not table.space("s", "port", "port")
    assert split_alias("ip-address-group12") == ("ip-address-group", 12)
    assert split_alias("router") is None


@pytest.mark.parametrize("line", [
    "list router", "router list", "l router", "router lis",
])
def test_list_forms_agree(line: str) -> None:
    assert run(session(), line) == ["router router0 name test-router state up infilter chain0",
                                    "router router1 name test-router2 state up"]


def test_object_path_verb_positions() -> None:
    s = session()
    for line in ("router router0 list port", "router router0 port list",
                 "list router router0 port"):
        assert run(s, line) == [
            "port port0 device router0 state up mac 02:a6:81:08:ab:5d addresses 10.100.1.1/24 "
            "peer bridge0:port0",
            "port port1 device router0 state up mac 02:fa:5f:87:bb:d2 addresses 10.100.1.2/24"]
    for line in ("router router0 port port1 show", "show router router0 port port1",
                 "router router0 port port1", f"router {ROUTER_A} port {RPORT_A1} show"):
        assert run(s, line) == [
            "port port1 device router0 state up mac 02:fa:5f:87:bb:d2 addresses 10.100.1.2/24"]
    assert run(s, "router router0 port port1 show mac") == ["02:fa:5f:87:bb:d2"]
    assert run(s, "router router0 port port1 mac show") == ["02:fa:5f:87:bb:d2"]
    assert run(s, "router router0 port port1 mac") == ["02:fa:5f:87:bb:d2"]
    assert run(s, "system-state availability") == ["READWRITE"]
    assert run(s, "show router router1 id") == [ROUTER_B]


def test_parse_structure() -> None:
    s = session()
    cmd = parse(tokenize("router router0 add route src 0.0.0.0/0 dst 0.0.0.0/0"), s)
    assert cmd.verb == "create" and cmd.collection is ROUTER.children["route"]
    assert [n.id for n in cmd.chain] == [ROUTER_A]
    assert cmd.args == ["src", "0.0.0.0/0", "dst", "0.0.0.0/0"]
    cmd = parse(tokenize("router router0 route add type normal"), s)
    assert cmd.verb == "create" and cmd.args == ["type", "normal"]
    cmd = parse(tokenize("create bridge name b"), s)
    assert cmd.verb == "create" and cmd.collection is m.ROOT.children["bridge"]
    assert cmd.args == ["name", "b"]
    cmd = parse(tokenize("set system-state availability READONLY"), s)
    assert cmd.singleton == "system-state" and cmd.args == ["availability", "READONLY"]


def test_member_selected_by_attribute_values() -> None:
    s = session()
    assert run(s, "tunnel-zone tzone0 list member") == [
        "zone tzone0 host host0 address 172.19.0.2"]
    assert run(s, "tunnel-zone tzone0 member host host0 show") == [
        "tunnel-zone-host zone tzone0 host host0 address 172.19.0.2"]
    run(s, "tunnel-zone tzone0 member host host0 delete")
    assert api_of(s).writes() == [("DELETE", f"tunnel_zones/{TZ_A}/hosts/{HOST_A}", None)]
    with pytest.raises(CliError, match="no member with host host1"):
        run(s, "tunnel-zone tzone0 member host host1 show")


def test_create_prints_the_next_alias_and_sends_fields() -> None:
    s = session()
    assert run(s, "router router0 add port addresses 169.254.255.3/30") == ["router0:port2"]
    assert api_of(s).writes()[-1] == ("POST", f"routers/{ROUTER_A}/ports", {
        "portAddress": "169.254.255.3", "networkAddress": None, "networkLength": 30})
    assert run(s, "create chain name \"dnat-test\"") == ["chain2"]
    assert run(s, "chain create name x") == ["chain3"]
    out = run(s, "chain chain0 add rule dst 198.51.100.4 in-ports router0:port0 pos 1 "
                 "type dnat action accept target 10.100.1.150")
    assert out == ["chain0:rule0"]
    body = api_of(s).writes()[-1][2]
    assert body["inPorts"] == [RPORT_A0] and body["invInPorts"] is False
    assert body["nwDstAddress"] == "198.51.100.4" and body["nwDstLength"] == 32
    assert body["position"] == 1 and body["type"] == "dnat" and body["flowAction"] == "accept"
    assert body["natTargets"] == [{"addressFrom": "10.100.1.150", "addressTo": "10.100.1.150",
                                   "portFrom": 0, "portTo": 0}]


def test_reference_as_an_object_path_and_relative_port() -> None:
    s = session()
    run(s, "router router0 add route src 0.0.0.0/0 dst 0.0.0.0/0 type normal "
           "port router router0 port port0 gw 172.19.0.1")
    body = api_of(s).writes()[-1][2]
    assert body["nextHopPort"] == RPORT_A0 and body["nextHopGateway"] == "172.19.0.1"
    assert body["type"] == "Normal" and body["srcNetworkLength"] == 0
    run(s, "router router0 route add dst 10.0.0.0/8 port port1")
    assert api_of(s).writes()[-1][2]["nextHopPort"] == RPORT_A1
    run(s, "host host0 add binding port bridge bridge0 port port0 interface eth1")
    assert api_of(s).writes()[-1] == ("POST", f"hosts/{HOST_A}/ports", {
        "portId": BPORT_A0, "interfaceName": "eth1"})
    with pytest.raises(CliError, match="name ports by their path"):
        run(s, "chain chain0 add rule in-ports port0 type drop")
    with pytest.raises(CliError, match="port: router0 is a router, not a port"):
        run(s, "host host0 add binding port router router0 interface eth1")


def test_set_clear_and_peer_link() -> None:
    s = session()
    run(s, "bridge bridge0 port port0 set infilter chain1")
    method, path, body = api_of(s).writes()[-1]
    assert (method, path) == ("PUT", f"ports/{BPORT_A0}") and body["inboundFilterId"] == CHAIN_B
    run(s, "bridge bridge0 port port0 clear infilter")
    assert api_of(s).writes()[-1][2]["inboundFilterId"] is None
    run(s, "router router0 port port0 clear peer")
    assert api_of(s).writes()[-1] == ("DELETE", f"ports/{RPORT_A0}/link", None)
    run(s, f"port {RPORT_A1} set peer bridge0:port0")
    assert api_of(s).writes()[-1] == ("POST", f"ports/{RPORT_A1}/link", {"peerId": BPORT_A0})
    run(s, "port router0:port1 set peer bridge0:port0")
    assert api_of(s).writes()[-1] == ("POST", f"ports/{RPORT_A1}/link", {"peerId": BPORT_A0})
    run(s, "router router0 set infilter chain1 outfilter chain0")
    body = api_of(s).writes()[-1][2]
    assert body["inboundFilterId"] == CHAIN_B and body["outboundFilterId"] == CHAIN_A
    run(s, "delete tunnel-zone tzone0")
    assert api_of(s).writes()[-1] == ("DELETE", f"tunnel_zones/{TZ_A}", None)
    run(s, "bridge bridge0 delete port port0")
    assert api_of(s).writes()[-1] == ("DELETE", f"ports/{BPORT_A0}", None)


def test_filters_and_tenant() -> None:
    s = session()
    assert run(s, "router list name test-router2") == [
        "router router1 name test-router2 state up"]
    assert run(s, "list bridge name External") == ["bridge bridge0 name External state up"]
    with pytest.raises(NoMatches):
        run(s, "bridge list name nothing")
    assert run(s, "sett 7a4937fa604a425e867f085427cc351e") == [
        "tenant_id: 7a4937fa604a425e867f085427cc351e"]
    run(s, "list router")
    assert ("GET", "routers", {"tenant_id": "7a4937fa604a425e867f085427cc351e"}) in \
        api_of(s).calls
    run(s, "port-group create name SPG stateful true")
    assert api_of(s).writes()[-1] == ("POST", "port_groups", {
        "name": "SPG", "stateful": True, "tenantId": "7a4937fa604a425e867f085427cc351e"})
    assert run(s, "cleart") == ["tenant_id: None"]


def test_root_port_list_prints_alias_paths() -> None:
    data = FakeApi().data
    data["ports"] = [data[f"ports/{RPORT_A0}"], data[f"ports/{BPORT_A0}"]]
    s = session(data)
    assert run(s, "list port") == [
        "port router0:port0 device router0 state up mac 02:a6:81:08:ab:5d "
        "addresses 10.100.1.1/24 peer bridge0:port0",
        "port bridge0:port0 device bridge0 state up peer router0:port0"]


@pytest.mark.parametrize("line, message", [
    ("frobnicate", "unknown command or object type 'frobnicate'"),
    ("router router9 show", "no router router9 (known: router0, router1)"),
    ("router router0 port port7 show", "no port port7 in router router0 (known: port0, port1)"),
    ("router router0 add route src 0.0.0.0/0", "missing required attribute for route: dst"),
    ("chain chain0 add rule ethertype 2048", "missing required attribute for rule: type"),
    ("router router0 add port", "missing required attribute for port: addresses or address"),
    ("chain chain0 add rule fragment-policy header pos 2 header type drop",
     "rule has no attribute 'header'"),
    ("bridge bridge0 set infiltrer chain0", "bridge has no attribute 'infiltrer'"),
    ("bridge bridge0 set name", "set: attribute 'name' needs a value"),
    ("router router0", None),
    ("list", "list what?"),
    ("router", "incomplete command"),
    ("router router0 delete extra", "unexpected words after delete"),
    ("host host0 set alive false", "alive is a read-only attribute"),
    ("bridge bridge0 clear name", "name cannot be cleared"),
    ("chain chain0 set name x extra", "chain has no attribute 'extra'"),
    ('chain create name "x', "syntax error"),
    ("sett", "usage: sett TENANT_ID"),
])
def test_errors_are_one_clear_line(line: str, message: str | None) -> None:
    s = session()
    if message is None:
        assert run(s, line) == ["router router0 name test-router state up infilter chain0"]
        return
    with pytest.raises(CliError) as info:
        run(s, line)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_aliases_persist_within_a_session() -> None:
    s = session()
    assert run(s, "chain chain1 add rule type accept") == ["chain1:rule0"]
    # a rule added without pos goes to the head; the first one keeps rule0
    api = api_of(s)
    rules = api.data[f"chains/{CHAIN_B}/rules"]
    rules[0]["position"] = 2
    assert run(s, "chain chain1 add rule type drop") == ["chain1:rule1"]
    rules[1]["position"] = 1
    assert run(s, "chain chain1 list rule") == ["rule rule1 proto 0 tos 0 pos 1 type drop",
                                                "rule rule0 proto 0 tos 0 pos 2 type accept"]
    fresh = Session(api)  # type: ignore[arg-type]
    assert run(fresh, "chain chain1 list rule") == [
        "rule rule0 proto 0 tos 0 pos 1 type drop", "rule rule1 proto 0 tos 0 pos 2 type accept"]
