"""networking-sfc port chains: classified traffic passes each port pair group in order.

``chain_parameters``: ``correlation`` is the service header between hops (``mpls``, the
default, or ``nsh``), ``symmetric`` sends the replies back through the same functions in reverse
order (each classifier then names its ``logical_destination_port``, where replies enter).
``chain_id`` (1-65535; 1-2047 with mpls, whose label has 20 bits) goes in the header; 0 or
none asks the store for a free one. A group or
a classifier serves one chain at most; ``port_pair_groups`` (at least one) and
``flow_classifiers`` may change, the parameters and the id may not. A group or classifier in a
chain cannot be deleted (409).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.kinds import sfc_common as c
from ryu_midonet.nsdb.kinds.sfc_port_pair_group import check_chain_correlation, group_correlation
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

MAX_CHAIN_ID = 65535
MAX_MPLS_CHAIN_ID = 2047  # an MPLS label's 20 bits: 8 of service index, 1 of direction


def chain_parameters(value: Any) -> dict[str, Any]:
    return c.params("chain_parameters", value, {"correlation": "mpls", "symmetric": False},
                    {"correlation": c.correlation(nullable=False), "symmetric": c.boolean})


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    obj["chain_parameters"] = chain_parameters(obj.get("chain_parameters"))
    taken = {pc["chain_id"]: pc["id"] for pc in txn.list("portChain")}
    limit = MAX_MPLS_CHAIN_ID if obj["chain_parameters"]["correlation"] == "mpls" \
        else MAX_CHAIN_ID
    if obj.get("chain_id"):
        if obj["chain_id"] > limit:
            raise errors.InvalidInput("chain_id", f"must be at most {limit} with "
                                      f"{obj['chain_parameters']['correlation']} correlation")
        if obj["chain_id"] in taken:
            raise errors.InvalidInput("chain_id", f"port chain {taken[obj['chain_id']]} has "
                                      f"chain id {obj['chain_id']}")
    else:
        free = next((n for n in range(1, limit + 1) if n not in taken), None)
        if free is None:
            raise errors.Conflict("no chain id is left for a new port chain")
        obj["chain_id"] = free
    _check(txn, obj)


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    _check(txn, obj)


def _check(txn: Txn, obj: Obj) -> None:
    groups = obj.get("port_pair_groups") or []
    if not groups:
        raise errors.InvalidInput("port_pair_groups", "a port chain needs at least one port "
                                  "pair group")
    for group_id in groups:
        group = txn.get("portPairGroup", group_id)
        if group is None:
            raise errors.InvalidInput("port_pair_groups",
                                      f"portPairGroup {group_id} does not exist")
        _only_ours(txn, obj, "port_pair_groups", group_id, "port pair group")
        check_chain_correlation(obj, group_correlation(txn, group), group_id,
                                "port_pair_groups")
    symmetric = obj["chain_parameters"]["symmetric"]
    for fc_id in obj.get("flow_classifiers") or []:
        fc = txn.get("flowClassifier", fc_id)
        if fc is None:
            raise errors.InvalidInput("flow_classifiers",
                                      f"flowClassifier {fc_id} does not exist")
        _only_ours(txn, obj, "flow_classifiers", fc_id, "flow classifier")
        if symmetric and not fc.get("logical_destination_port"):
            raise errors.InvalidInput("flow_classifiers", f"flow classifier {fc_id} has no "
                                      "logical_destination_port: a symmetric chain needs it")


def _only_ours(txn: Txn, obj: Obj, field: str, ref_id: str, what: str) -> None:
    for other in txn.list_by("portChain", field, ref_id):
        if other["id"] != obj["id"]:
            raise errors.InvalidInput(field, f"{what} {ref_id} is in port chain "
                                      f"{other['id']} already")


SPEC = KindSpec(
    "portChain",
    {
        **c.common_fields(),
        "chain_id": Field("int", 0, lo=0, hi=MAX_CHAIN_ID, update=False, nullable=False),
        "port_pair_groups": Field("uuids", [], ref="portPairGroup", index=True, required=True,
                                  nullable=False, on_delete=OnDelete.REFUSE),
        "flow_classifiers": Field("uuids", [], ref="flowClassifier", index=True,
                                  nullable=False, on_delete=OnDelete.REFUSE),
        "chain_parameters": Field("any", update=False),
    },
    on_create=_create,
    on_update=_update,
)
