"""Rules on the wire (reached through their chain, listed in chain order)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.nsdb.rules import RULE_TYPES
from ryu_midonet.rest.resource import LINK, Resource, RestKind, Schema
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.topology import Topology
    from ryu_midonet.rest.protocols import Dtos

# fields of rule types this model does not store (l2_transform, trace)
_UNSTORED = ("targetPortId", "pushVlan", "requestId", "limit", "properties", "failOpen",
             "ingress", "popVlan")


def _dto(dtos: Dtos, dto: Obj) -> None:
    chain = dtos.topo.store.get("chain", dto["chainId"]) or {"ruleIds": []}
    ids = chain["ruleIds"]
    dto["position"] = ids.index(dto["id"]) + 1 if dto["id"] in ids else None
    dto["chain"] = dtos.uri("chains", dto["chainId"])
    for name in ("nwProto", "nwTos"):
        dto[name] = dto.get(name) or 0  # MidoNet shows "any" as 0
    for name in _UNSTORED:
        dto.setdefault(name, None)


def _list_in(topo: Topology, chain_id: str) -> list[Obj]:
    return topo.rules_of(chain_id)


_ANY_BYTE: Schema = {"type": "integer", "minimum": 0, "maximum": 255, "description": "0: any"}
_POSITION: Schema = {"anyOf": [{"type": "integer", "minimum": 1},
                               {"type": "string", "pattern": "^[1-9][0-9]*$"}, {"type": "null"}],
                     "description": "1-based place in the chain (at most one past the last)"}

_NAT = ["dnat", "snat"]
_REVERSE_NAT = ["rev_dnat", "rev_snat"]
_PLAIN = [t for t in RULE_TYPES if t not in (*_NAT, *_REVERSE_NAT)]


def _when(types: list[str], then: Schema) -> Schema:
    return {"if": {"required": ["type"], "properties": {"type": {"enum": types}}}, "then": then}


_TYPE_RULES: tuple[Schema, ...] = (
    _when(_NAT, {"required": ["natTargets"],
                 "properties": {"natTargets": {"type": "array", "minItems": 1}}}),
    _when(_REVERSE_NAT, {"properties": {"natTargets": {"maxItems": 0}}}),
    _when(_PLAIN, {"properties": {"natTargets": {"maxItems": 0},
                                  "flowAction": {"type": "null"}}}),
    _when(["jump"], {"required": ["jumpChainId"],
                     "properties": {"jumpChainId": {"type": "string"}}}),
)

REST = RestKind(
    Resource("rule", "rules", "Rule", 2), _dto, listed=False, list_in=_list_in,
    dto_fields={"position": {"type": ["integer", "null"], "minimum": 1}, "chain": LINK,
                "nwProto": _ANY_BYTE, "nwTos": _ANY_BYTE,
                **{name: {"type": "null"} for name in _UNSTORED}},
    inputs={"position": _POSITION},
    checked=("natTargets", "flowAction", "jumpChainId", "nwSrcLength", "nwDstLength",
             "icmpDataSrcIpLength", "icmpDataDstIpLength", "tpSrc", "tpDst", "fragmentPolicy",
             "position"),
    create_rules=_TYPE_RULES,
)
