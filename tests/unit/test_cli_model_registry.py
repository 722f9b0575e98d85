"""The CLI's object types agree with the registered kinds and the API's routing table: every
path the CLI reads or writes is served with the method it uses, and what the store's specs say
about a kind (tenant, creatable, rule types) is what the CLI assumes."""

from __future__ import annotations

import pytest

from ryu_midonet.cli import model
from ryu_midonet.cli.kinds import rule, system_state
from ryu_midonet.nsdb import rules
from ryu_midonet.nsdb.schema import spec
from ryu_midonet.rest.api import Api
from ryu_midonet.rest.kinds import RESOURCES

ROUTES = Api.routes_only()
KIND_BY_PATH = {rk.resource.path: rk.kind for rk in RESOURCES}
PARENT = {"id": "p1"}
ELEMENT = {"id": "e1", "name": "eth0", "portId": "port1", "hostId": "host1", "addr": "10.0.0.1",
           "subnetPrefix": "10.0.0.0", "subnetLength": 24, "portName": "swp1", "vlanId": 10}


def served(method: str, path: str) -> bool:
    return any(r.method == method and r.regex.match("/" + path) for r in ROUTES)


def collections() -> list[tuple[str, model.Collection, dict | None]]:
    out: list[tuple[str, model.Collection, dict | None]] = []
    for name, top in model.ROOT.children.items():
        out.append((name, top, None))
        for otype in top.types:
            out += [(f"{name} {child}", c, PARENT) for child, c in otype.children.items()]
    return out


@pytest.mark.parametrize("name, coll, parent", collections(), ids=[c[0] for c in collections()])
def test_every_path_the_cli_uses_is_served(name: str, coll: model.Collection,
                                            parent: dict | None) -> None:
    assert served("GET", coll.list_path(parent))
    item = coll.item_path(parent, ELEMENT)
    assert served("GET", item)
    assert served("PUT", item) or not coll.updatable
    assert served("DELETE", item) or not coll.deletable
    if coll.create_path is not None:
        assert served("POST", coll.create_path(parent))
    if coll.by_id is not None:
        assert served("GET", coll.by_id("e1"))


@pytest.mark.parametrize("name", [n for n in model.ROOT.children if n != "port"])
def test_top_level_types_follow_their_specs(name: str) -> None:
    top = model.ROOT.children[name]
    kind_spec = spec(KIND_BY_PATH[top.list_path(None)])
    assert (top.create_path is not None) == kind_spec.creatable
    assert top.otype.tenant == top.tenant_filter
    # MidoNet's CLI shows IP address groups without a tenant; the store keeps one for them.
    assert kind_spec.tenant or not top.otype.tenant


def test_rule_types_are_the_stores() -> None:
    assert rule.RULE_TYPES == rules.RULE_TYPES


def test_the_system_state_is_served() -> None:
    assert served("GET", system_state.PATH) and served("PUT", system_state.PATH)
