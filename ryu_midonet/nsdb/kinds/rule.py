"""Rules of chains: a condition on the packet, a verdict, NAT targets or a jump."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors, rules
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.rules import FLOW_ACTIONS, RULE_TYPES
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

_PROTO = Field("int", lo=0, hi=255)
_TOS = Field("int", lo=0, hi=255)

CONDITION: dict[str, Field] = {
    "condInvert": Field("bool", False, nullable=False),
    "matchForwardFlow": Field("bool", False, nullable=False),
    "matchReturnFlow": Field("bool", False, nullable=False),
    "inPorts": Field("uuids", [], ref="port"),
    "invInPorts": Field("bool", False, nullable=False),
    "outPorts": Field("uuids", [], ref="port"),
    "invOutPorts": Field("bool", False, nullable=False),
    "portGroup": Field("uuid", ref="portGroup", index=True, on_delete=OnDelete.REFUSE),
    "invPortGroup": Field("bool", False, nullable=False),
    "inPortGroup": Field("uuid", ref="portGroup", index=True, on_delete=OnDelete.REFUSE),
    "invInPortGroup": Field("bool", False, nullable=False),
    "outPortGroup": Field("uuid", ref="portGroup", index=True, on_delete=OnDelete.REFUSE),
    "invOutPortGroup": Field("bool", False, nullable=False),
    "ipAddrGroupSrc": Field("uuid", ref="ipAddrGroup", index=True, on_delete=OnDelete.REFUSE),
    "invIpAddrGroupSrc": Field("bool", False, nullable=False),
    "ipAddrGroupDst": Field("uuid", ref="ipAddrGroup", index=True, on_delete=OnDelete.REFUSE),
    "invIpAddrGroupDst": Field("bool", False, nullable=False),
    "traversedDevice": Field("uuid"),
    "invTraversedDevice": Field("bool", False, nullable=False),
    "noVlan": Field("bool", False, nullable=False),
    "vlan": Field("int", lo=0, hi=4095),
    "dlType": Field("int", lo=-32768, hi=65535),
    "invDlType": Field("bool", False, nullable=False),
    "dlSrc": Field("mac"),
    "dlSrcMask": Field("macmask"),
    "invDlSrc": Field("bool", False, nullable=False),
    "dlDst": Field("mac"),
    "dlDstMask": Field("macmask"),
    "invDlDst": Field("bool", False, nullable=False),
    "nwTos": _TOS,
    "invNwTos": Field("bool", False, nullable=False),
    "nwProto": _PROTO,
    "invNwProto": Field("bool", False, nullable=False),
    "nwSrcAddress": Field("ip"),
    "nwSrcLength": Field("int", lo=0, hi=128),
    "invNwSrc": Field("bool", False, nullable=False),
    "nwDstAddress": Field("ip"),
    "nwDstLength": Field("int", lo=0, hi=128),
    "invNwDst": Field("bool", False, nullable=False),
    "matchNwDstRewritten": Field("bool", False, nullable=False),
    "fragmentPolicy": Field("enum", choices=("any", "header", "nonheader", "unfragmented")),
    "tpSrc": Field("range", lo=0, hi=65535),
    "invTpSrc": Field("bool", False, nullable=False),
    "tpDst": Field("range", lo=0, hi=65535),
    "invTpDst": Field("bool", False, nullable=False),
    "icmpDataSrcIpAddress": Field("ip"),
    "icmpDataSrcIpLength": Field("int", lo=0, hi=128),
    "invIcmpDataSrcIp": Field("bool", False, nullable=False),
    "icmpDataDstIpAddress": Field("ip"),
    "icmpDataDstIpLength": Field("int", lo=0, hi=128),
    "invIcmpDataDstIp": Field("bool", False, nullable=False),
}


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    chain = txn.get("chain", parent_id)
    if chain is None:
        raise errors.NotFound("chain", parent_id)
    obj["chainId"] = chain["id"]
    _check(txn, obj)
    position = data.get("position", 1) if isinstance(data, dict) else 1
    position = rules.check_position(position, len(chain["ruleIds"]))
    chain["ruleIds"].insert(position - 1, obj["id"])
    txn.put("chain", chain)


def _check(txn: Txn, obj: Obj) -> None:
    """Normalise a new or changed rule and check its jump target."""
    rules.normalise(obj)
    if obj["type"] != "jump":
        obj["jumpChainName"] = None
        return
    target = txn.get("chain", obj.get("jumpChainId"))
    if target is None:
        raise errors.InvalidInput("jumpChainId", f"chain {obj.get('jumpChainId')} does not exist")
    if target["id"] == obj["chainId"]:
        raise errors.InvalidInput("jumpChainId", "a chain cannot jump to itself")
    obj["jumpChainName"] = target.get("name")


# Fields whose stored value may be derived from others: a client sending back the value it read
# (the whole DTO, as python-midonetclient does) gets it derived anew when the change made it
# invalid; a value the client did change is checked as given.
_DERIVED = ("flowAction", "natTargets", "fragmentPolicy", "nwSrcLength", "nwDstLength",
            "icmpDataSrcIpLength", "icmpDataDstIpLength")


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    """A changed rule keeps its chain and its place in it (``position`` is not changed)."""
    for _ in _DERIVED:
        try:
            rules.normalise(dict(obj))
            break
        except errors.InvalidInput as exc:
            name = exc.field
            if name not in _DERIVED or obj.get(name) is None or obj[name] != old.get(name):
                raise
            obj[name] = None
    _check(txn, obj)


def _delete(txn: Txn, rule: Obj) -> None:
    chain = txn.get("chain", rule["chainId"])
    if chain is not None and rule["id"] in chain["ruleIds"]:
        chain["ruleIds"].remove(rule["id"])
        txn.put("chain", chain)


SPEC = KindSpec(
    "rule",
    {
        "chainId": Field("uuid", ref="chain", index=True, create=False, update=False),
        "type": Field("enum", choices=RULE_TYPES, required=True, nullable=False),
        "flowAction": Field("enum", choices=FLOW_ACTIONS),
        "natTargets": Field("nattargets"),
        "jumpChainId": Field("uuid", ref="chain", index=True, on_delete=OnDelete.CASCADE),
        "jumpChainName": Field("str", create=False, update=False),
        "meterName": Field("str"),
        **CONDITION,
    },
    parents=("chain",),
    parent_field="chainId",
    on_create=_create,
    on_update=_update,
    on_delete=_delete,
)
