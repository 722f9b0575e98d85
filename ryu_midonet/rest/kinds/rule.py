"""Rules on the wire (reached through their chain, listed in chain order)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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

REST = RestKind(
    Resource("rule", "rules", "Rule", 2), _dto, listed=False, list_in=_list_in,
    dto_fields={"position": {"type": ["integer", "null"], "minimum": 1}, "chain": LINK,
                "nwProto": _ANY_BYTE, "nwTos": _ANY_BYTE,
                **{name: {"type": "null"} for name in _UNSTORED}},
    inputs={"position": _POSITION},
    checked=("natTargets", "flowAction", "jumpChainId", "nwSrcLength", "nwDstLength",
             "icmpDataSrcIpLength", "icmpDataDstIpLength", "tpSrc", "tpDst", "fragmentPolicy",
             "position"),
)
