"""Chains and their rules."""

from __future__ import annotations

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.kinds.common import ID, TENANT
from ryu_midonet.cli.kinds.rule import RULE
from ryu_midonet.cli.objtype import CliKind, Collection, ObjType, parent_id, top

CHAIN = ObjType("chain", "chain", "chain", (ID, TENANT, a.Attr("name", "name")), tenant=True)
CHAIN.children = {
    "rule": Collection(
        "rule", (RULE,), lambda c: f"chains/{parent_id(c)}/rules",
        lambda c, r: f"rules/{r['id']}", create_path=lambda c: f"chains/{parent_id(c)}/rules",
        sort_key="position", updatable=False),
}

CLI = CliKind(top("chain", CHAIN, "chains", tenant_filter=True))
