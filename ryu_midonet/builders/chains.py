"""Rule chains, port groups and IP address groups for plain-dict topologies (tests, tools).

Objects are built on a :class:`~ryu_midonet.builders.topology.TopologyBuilder` with the store's
field names and defaults; rules are normalised as the store does on create
(:func:`ryu_midonet.nsdb.rules.normalise`: fragment-policy defaults, NAT flow action, prefix
lengths), so a chain built here behaves like one created through the API.
"""

from __future__ import annotations

from typing import Any

from ryu_midonet.builders.topology import TopologyBuilder
from ryu_midonet.nsdb import rules as store_rules
from ryu_midonet.nsdb.schema import KINDS, check_value, defaults
from ryu_midonet.types import Obj


def _put(b: TopologyBuilder, kind: str, obj_id: str, **fields: Any) -> Obj:
    obj = defaults(kind)
    obj.update(fields, id=obj_id)
    b.objects.setdefault(kind, {})[obj_id] = obj
    return obj


def chain(b: TopologyBuilder, name: str) -> Obj:
    return _put(b, "chain", name, name=name)


def rule(b: TopologyBuilder, in_chain: Obj, type: str, pos: int | None = None,
         rule_id: str | None = None, **fields: Any) -> Obj:
    """A rule of ``type`` at 1-based position ``pos`` of ``in_chain`` (default: the end).

    ``natTargets`` may be given as ``"ip[-ip][:port[-port]]"`` strings.
    """
    ids = in_chain["ruleIds"]
    rule_id = rule_id or f"{in_chain['id']}/rule{len(ids)}"
    if "natTargets" in fields:
        targets = [_target(t) if isinstance(t, str) else t for t in fields["natTargets"]]
        fields["natTargets"] = check_value("natTargets", KINDS["rule"]["natTargets"], targets)
    obj = _put(b, "rule", rule_id, type=type, chainId=in_chain["id"], **fields)
    store_rules.normalise(obj)
    ids.insert(len(ids) if pos is None else pos - 1, rule_id)
    return obj


def _target(text: str) -> dict[str, Any]:
    addresses, _, ports = text.partition(":")
    first, _, last = addresses.partition("-")
    p_from, _, p_to = ports.partition("-")
    return {"addressFrom": first, "addressTo": last or first,
            "portFrom": int(p_from or 0), "portTo": int(p_to or p_from or 0)}


def port_group(b: TopologyBuilder, name: str, ports: list[str], stateful: bool = False) -> Obj:
    return _put(b, "portGroup", name, name=name, stateful=stateful, portIds=list(ports))


def ip_group(b: TopologyBuilder, name: str, addresses: list[str]) -> Obj:
    return _put(b, "ipAddrGroup", name, name=name, addresses=list(addresses))
