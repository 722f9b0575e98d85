"""Consistency rules for chain rules: types, NAT targets, fragment policy, positions."""

from __future__ import annotations

import ipaddress
from typing import Any

from ryu_midonet.nsdb.errors import InvalidInput

RULE_TYPES = ("accept", "continue", "drop", "jump", "reject", "return",
              "dnat", "snat", "rev_dnat", "rev_snat")
NAT_TYPES = ("dnat", "snat")
FLOW_ACTIONS = ("accept", "continue", "return")

FRAG_POLICY_INVALID_FOR_L4_RULE = (
    "FRAG_POLICY_INVALID_FOR_L4_RULE: a rule matching L4 ports (tpSrc/tpDst) only allows "
    "fragmentPolicy header or unfragmented")
FRAG_POLICY_INVALID_FOR_NAT_RULE = (
    "FRAG_POLICY_INVALID_FOR_NAT_RULE: dynamic NAT (an address range or ports) only allows "
    "fragmentPolicy unfragmented")


def has_l4_fields(rule: dict[str, Any]) -> bool:
    return rule.get("tpSrc") is not None or rule.get("tpDst") is not None


def is_dynamic_nat(rule: dict[str, Any]) -> bool:
    """A NAT rule whose target is more than one address with no ports (static NAT is 1:1)."""
    if rule["type"] not in NAT_TYPES:
        return False
    for t in rule.get("natTargets") or []:
        if t["addressFrom"] != t["addressTo"] or t["portFrom"] != 0 or t["portTo"] != 0:
            return True
    return False


def normalise(rule: dict[str, Any]) -> None:
    """Fill defaults that depend on other fields and refuse inconsistent combinations."""
    kind = rule["type"]
    if kind in NAT_TYPES:
        if not rule.get("natTargets"):
            raise InvalidInput("natTargets", f"a {kind} rule needs at least one NAT target")
    elif rule.get("natTargets"):
        raise InvalidInput("natTargets", f"a {kind} rule takes no NAT target")
    if kind in NAT_TYPES or kind in ("rev_dnat", "rev_snat"):
        rule["flowAction"] = rule.get("flowAction") or "accept"
    elif rule.get("flowAction") is not None:
        raise InvalidInput("flowAction", f"a {kind} rule takes no flowAction")
    if kind == "jump" and not rule.get("jumpChainId"):
        raise InvalidInput("jumpChainId", "a jump rule needs the chain to jump to")
    if kind != "jump":
        rule["jumpChainId"] = None
    for name in ("nwProto", "nwTos"):
        # MidoNet clients send 0 for "any protocol" / "any ToS"; store that as unset
        if rule.get(name) == 0 and not rule.get(f"inv{name[0].upper()}{name[1:]}"):
            rule[name] = None
    for side in ("Src", "Dst", "DataSrcIp", "DataDstIp"):
        _normalise_prefix(rule, side)
    for name in ("tpSrc", "tpDst"):
        _check_l4_range(rule, name)
    _normalise_fragment_policy(rule)


def _normalise_prefix(rule: dict[str, Any], side: str) -> None:
    if side.startswith("Data"):
        addr_f, len_f = f"icmp{side}Address", f"icmp{side}Length"
    else:
        addr_f, len_f = f"nw{side}Address", f"nw{side}Length"
    addr, length = rule.get(addr_f), rule.get(len_f)
    if addr is None:
        if length is not None:
            raise InvalidInput(len_f, f"is set without {addr_f}")
        return
    ip = ipaddress.ip_address(addr)
    if length is None:
        length = ip.max_prefixlen
    if length > ip.max_prefixlen:
        raise InvalidInput(len_f, f"must be at most {ip.max_prefixlen} for {addr}")
    rule[len_f] = length


def _check_l4_range(rule: dict[str, Any], name: str) -> None:
    """TCP/UDP ports are 1-65535; on ICMP rules the ranges hold the type (tpSrc) and code
    (tpDst), as in MidoNet and Neutron security groups, so 0 (echo reply) is valid there."""
    span = rule.get(name)
    if span is None:
        return
    hi = 255 if rule.get("nwProto") == 1 else 65535
    lo = 0 if rule.get("nwProto") == 1 else 1
    if span["start"] < lo or span.get("end", span["start"]) > hi:
        what = "ICMP type/code" if hi == 255 else "port"
        raise InvalidInput(name, f"{what} range must be within {lo}-{hi}")


def _normalise_fragment_policy(rule: dict[str, Any]) -> None:
    policy = rule.get("fragmentPolicy")
    if is_dynamic_nat(rule):
        if policy not in (None, "unfragmented"):
            raise InvalidInput("fragmentPolicy", FRAG_POLICY_INVALID_FOR_NAT_RULE)
        rule["fragmentPolicy"] = "unfragmented"
    elif has_l4_fields(rule):
        if policy in ("any", "nonheader"):
            raise InvalidInput("fragmentPolicy", FRAG_POLICY_INVALID_FOR_L4_RULE)
        rule["fragmentPolicy"] = policy or "header"
    else:
        rule["fragmentPolicy"] = policy or "any"


def check_position(position: Any, count: int) -> int:
    """A 1-based insertion position in a chain holding ``count`` rules."""
    if position is None:
        return 1
    if isinstance(position, bool) or not isinstance(position, int | str):
        raise InvalidInput("position", "must be an integer")
    try:
        position = int(position)
    except ValueError:
        raise InvalidInput("position", "must be an integer") from None
    if position < 1 or position > count + 1:
        raise InvalidInput("position", f"must be between 1 and {count + 1}")
    return position
