"""networking-sfc port pair groups: one step of a chain, its port pairs sharing the load.

``port_pair_group_parameters.lb_fields`` names the packet fields whose hash picks a pair
(networking-sfc's ``eth_src`` ... ``udp_dst``; none: the whole 5-tuple). A port pair belongs to
one group at most, and the pairs of a group understand the same service header. ``group_id``
is a number the store gives each group. ``port_pairs`` may change; a pair in a group cannot be
deleted (409).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.kinds import sfc_common as c
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

LB_FIELDS = ("eth_src", "eth_dst", "ip_src", "ip_dst", "tcp_src", "tcp_dst", "udp_src",
             "udp_dst")


def _lb_fields(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise errors.InvalidInput(name, "must be a list of field names")
    bad = [v for v in value if v not in LB_FIELDS]
    if bad:
        raise errors.InvalidInput(name, f"{bad[0]!r} is not one of {', '.join(LB_FIELDS)}")
    return list(dict.fromkeys(value))


def ppg_parameters(value: Any) -> dict[str, Any]:
    return c.params("port_pair_group_parameters", value, {"lb_fields": []},
                    {"lb_fields": _lb_fields})


def group_correlation(txn: Txn, group: Obj) -> str | None:
    """The service header the group's pairs understand (None: none, or no pairs)."""
    for pair_id in group.get("port_pairs") or []:
        pair = txn.get("portPair", pair_id)
        if pair is not None:
            corr: str | None = pair["service_function_parameters"].get("correlation")
            return corr
    return None


def _check(txn: Txn, obj: Obj) -> None:
    seen: set[Any] = set()
    for pair_id in obj.get("port_pairs") or []:
        pair = txn.get("portPair", pair_id)
        if pair is None:
            raise errors.InvalidInput("port_pairs", f"portPair {pair_id} does not exist")
        for other in txn.list_by("portPairGroup", "port_pairs", pair_id):
            if other["id"] != obj["id"]:
                raise errors.InvalidInput("port_pairs", f"port pair {pair_id} is in port "
                                          f"pair group {other['id']} already")
        seen.add(pair["service_function_parameters"].get("correlation"))
    if len(seen) > 1:
        raise errors.InvalidInput("port_pairs", "the port pairs of a group must use the same "
                                  "correlation")
    for chain in txn.list_by("portChain", "port_pair_groups", obj["id"]):
        check_chain_correlation(chain, group_correlation(txn, obj), obj["id"], "port_pairs")


def check_chain_correlation(chain: Obj, corr: str | None, group_id: str, field: str) -> None:
    """A group's pairs understand the chain's service header, or none (proxied)."""
    want = chain["chain_parameters"]["correlation"]
    if corr is not None and corr != want:
        raise errors.InvalidInput(field, f"port pair group {group_id} uses correlation "
                                  f"{corr}; port chain {chain['id']} uses {want}")


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    obj["port_pair_group_parameters"] = ppg_parameters(obj.get("port_pair_group_parameters"))
    obj["group_id"] = txn.next_seq("portPairGroupId")
    _check(txn, obj)


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    _check(txn, obj)


SPEC = KindSpec(
    "portPairGroup",
    {
        **c.common_fields(),
        "group_id": Field("int", create=False, update=False),
        "port_pairs": Field("uuids", [], ref="portPair", index=True, nullable=False,
                            on_delete=OnDelete.REFUSE),
        "port_pair_group_parameters": Field("any", update=False),
    },
    on_create=_create,
    on_update=_update,
)
