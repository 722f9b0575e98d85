"""Chains: ordered lists of rules that bridges, routers and ports use as filters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.ops import Ops
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn


def chain_ref() -> Field:
    """A device's or port's filter: cleared when the chain is deleted."""
    return Field("uuid", ref="chain", index=True, on_delete=OnDelete.CLEAR)


def _delete(txn: Txn, chain: Obj) -> None:
    for rule_id in chain["ruleIds"]:
        txn.delete("rule", rule_id)


SPEC = KindSpec(
    "chain",
    {
        "tenantId": Field("str", index=True),
        "name": Field("str"),
        "ruleIds": Field("uuids", [], create=False, update=False),
    },
    on_delete=_delete,
)


class ChainRules(Ops):
    """Reading a chain's rules in order."""

    def rules_of(self, chain_id: str) -> list[Obj]:
        def work(txn: Txn) -> list[Obj]:
            chain = txn.require("chain", chain_id)
            return [r for r in (txn.get("rule", rid) for rid in chain["ruleIds"]) if r]

        return self.store.read(work)
