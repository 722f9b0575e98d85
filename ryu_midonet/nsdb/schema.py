"""Object kinds of the topology store, their fields, defaults and value checks.

Objects are stored with the camelCase field names of the MidoNet v5 REST DTOs, so the REST layer
only adds URIs and derived fields. ``Field.kind`` names the checker in :data:`CHECKERS`.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ryu_midonet.nsdb.errors import InvalidInput


@dataclass(frozen=True)
class Field:
    """One attribute of a stored object."""

    kind: str = "str"
    default: Any = None
    ref: str | None = None  # kind of object a uuid (or list of uuids) points at
    index: bool = False  # keep a reverse index field value -> object ids
    choices: tuple[Any, ...] = ()
    lo: int | None = None
    hi: int | None = None
    create: bool = True  # the client may give it on create
    update: bool = True  # the client may change it on update
    required: bool = False
    nullable: bool = True


def _chain(index: bool = True) -> Field:
    return Field("uuid", ref="chain", index=index)


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
    "portGroup": Field("uuid", ref="portGroup", index=True),
    "invPortGroup": Field("bool", False, nullable=False),
    "inPortGroup": Field("uuid", ref="portGroup", index=True),
    "invInPortGroup": Field("bool", False, nullable=False),
    "outPortGroup": Field("uuid", ref="portGroup", index=True),
    "invOutPortGroup": Field("bool", False, nullable=False),
    "ipAddrGroupSrc": Field("uuid", ref="ipAddrGroup", index=True),
    "invIpAddrGroupSrc": Field("bool", False, nullable=False),
    "ipAddrGroupDst": Field("uuid", ref="ipAddrGroup", index=True),
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

RULE_TYPES = ("accept", "continue", "drop", "jump", "reject", "return",
              "dnat", "snat", "rev_dnat", "rev_snat")
NAT_TYPES = ("dnat", "snat")
FLOW_ACTIONS = ("accept", "continue", "return")

KINDS: dict[str, dict[str, Field]] = {
    "host": {
        "name": Field("str", create=False),
        "addresses": Field("strs", [], create=False, update=False),
        "interfaces": Field("any", [], create=False, update=False),
        "floodingProxyWeight": Field("int", 1, lo=0, hi=65535, nullable=False),
        "containerWeight": Field("int", 1, lo=0, hi=65535, nullable=False),
        "containerLimit": Field("int", -1, lo=-1, hi=65535, nullable=False),  # -1: no limit
        "enforceContainerLimit": Field("bool", False, nullable=False),
    },
    "tunnelZone": {
        "name": Field("str", required=True, nullable=False),
        "type": Field("enum", "gre", choices=("gre", "vxlan", "vtep"), nullable=False),
        # members: list of {"hostId": ..., "ipAddress": ...}; hostIds mirrors it for the index
        "tzHosts": Field("any", [], create=False, update=False),
        "hostIds": Field("uuids", [], ref="host", index=True, create=False, update=False),
    },
    "bridge": {
        "tenantId": Field("str", index=True),
        "name": Field("str"),
        "adminStateUp": Field("bool", True, nullable=False),
        "inboundFilterId": _chain(),
        "outboundFilterId": _chain(),
        "inboundMirrorIds": Field("uuids", [], create=False, update=False),
        "outboundMirrorIds": Field("uuids", [], create=False, update=False),
    },
    "router": {
        "tenantId": Field("str", index=True),
        "name": Field("str"),
        "adminStateUp": Field("bool", True, nullable=False),
        "inboundFilterId": _chain(),
        "outboundFilterId": _chain(),
        "forwardChainId": _chain(),
        "localRedirectChainId": _chain(),
        "loadBalancerId": Field("uuid", create=False, update=False),
        "asNumber": Field("int", 0, lo=0, hi=4294967295, nullable=False),
        "inboundMirrorIds": Field("uuids", [], create=False, update=False),
        "outboundMirrorIds": Field("uuids", [], create=False, update=False),
    },
    "port": {
        "type": Field("enum", choices=("Bridge", "Router"), update=False),
        "deviceId": Field("uuid", index=True, create=False, update=False),
        "adminStateUp": Field("bool", True, nullable=False),
        "inboundFilterId": _chain(),
        "outboundFilterId": _chain(),
        "tunnelKey": Field("int", create=False, update=False),
        "vifId": Field("str"),
        "hostId": Field("uuid", ref="host", index=True, create=False, update=False),
        "interfaceName": Field("str", create=False, update=False),
        "peerId": Field("uuid", ref="port", create=False, update=False),
        "vlanId": Field("int", lo=0, hi=4095),
        "portAddress": Field("ipv4"),
        "networkAddress": Field("ipv4"),
        "networkLength": Field("int", lo=0, hi=32),
        "portMac": Field("mac"),
        "inboundMirrorIds": Field("uuids", [], create=False, update=False),
        "outboundMirrorIds": Field("uuids", [], create=False, update=False),
    },
    "route": {
        "routerId": Field("uuid", index=True, create=False, update=False),
        "type": Field("enum", "Normal", choices=("Normal", "BlackHole", "Reject"),
                      nullable=False),
        "srcNetworkAddr": Field("ipv4", "0.0.0.0", nullable=False),
        "srcNetworkLength": Field("int", 0, lo=0, hi=32, nullable=False),
        "dstNetworkAddr": Field("ipv4", required=True, nullable=False),
        "dstNetworkLength": Field("int", required=True, lo=0, hi=32, nullable=False),
        "nextHopPort": Field("uuid", ref="port", index=True),
        "nextHopGateway": Field("ipv4"),
        "weight": Field("int", 100, lo=0, hi=2147483647, nullable=False),
        "learned": Field("bool", False, nullable=False),
        "attributes": Field("str"),
    },
    "chain": {
        "tenantId": Field("str", index=True),
        "name": Field("str"),
        "ruleIds": Field("uuids", [], create=False, update=False),
    },
    "rule": {
        "chainId": Field("uuid", ref="chain", index=True, create=False, update=False),
        "type": Field("enum", choices=RULE_TYPES, required=True, nullable=False),
        "flowAction": Field("enum", choices=FLOW_ACTIONS),
        "natTargets": Field("nattargets"),
        "jumpChainId": Field("uuid", ref="chain", index=True),
        "jumpChainName": Field("str", create=False, update=False),
        "meterName": Field("str"),
        **CONDITION,
    },
    "portGroup": {
        "tenantId": Field("str", index=True),
        "name": Field("str"),
        "stateful": Field("bool", False, nullable=False),
        "portIds": Field("uuids", [], ref="port", index=True, create=False, update=False),
    },
    "ipAddrGroup": {
        "tenantId": Field("str", index=True),
        "name": Field("str"),
        "addresses": Field("strs", [], create=False, update=False),
    },
    "systemState": {
        "state": Field("enum", "ACTIVE", choices=("ACTIVE", "UPGRADE"), nullable=False),
        "availability": Field("enum", "READWRITE", choices=("READWRITE", "READONLY"),
                              nullable=False),
        "writeVersion": Field("str", "5.0", create=False, update=False),
    },
}


def indexed_fields(kind: str) -> list[str]:
    return [name for name, f in KINDS.get(kind, {}).items() if f.index]


def ref_fields(kind: str, target: str) -> list[str]:
    """Names of ``kind`` fields that reference objects of kind ``target``."""
    return [name for name, f in KINDS[kind].items() if f.ref == target]


# -- value checks ----------------------------------------------------------------------------

_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
_MACMASK = re.compile(r"^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$")


def _check_str(name: str, f: Field, v: Any) -> Any:
    if not isinstance(v, str):
        raise InvalidInput(name, "must be a string")
    if len(v) > 255:
        raise InvalidInput(name, "must be at most 255 characters")
    return v


def _check_bool(name: str, f: Field, v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    raise InvalidInput(name, "must be true or false")


def _check_int(name: str, f: Field, v: Any) -> Any:
    if isinstance(v, bool):
        raise InvalidInput(name, "must be an integer")
    if isinstance(v, str):
        try:
            v = int(v.strip())
        except ValueError:
            raise InvalidInput(name, "must be an integer") from None
    if not isinstance(v, int):
        raise InvalidInput(name, "must be an integer")
    if (f.lo is not None and v < f.lo) or (f.hi is not None and v > f.hi):
        raise InvalidInput(name, f"must be between {f.lo} and {f.hi}")
    return v


def _check_uuid(name: str, f: Field, v: Any) -> Any:
    if not isinstance(v, str):
        raise InvalidInput(name, "must be a UUID")
    try:
        return str(uuid.UUID(v))
    except ValueError:
        raise InvalidInput(name, f"{v!r} is not a UUID") from None


def _check_uuids(name: str, f: Field, v: Any) -> Any:
    if not isinstance(v, list):
        raise InvalidInput(name, "must be a list of UUIDs")
    out = [_check_uuid(name, f, item) for item in v]
    if len(set(out)) != len(out):
        raise InvalidInput(name, "must not repeat a UUID")
    return out


def _check_strs(name: str, f: Field, v: Any) -> Any:
    if not isinstance(v, list) or not all(isinstance(i, str) for i in v):
        raise InvalidInput(name, "must be a list of strings")
    return v


def _check_ipv4(name: str, f: Field, v: Any) -> Any:
    try:
        return str(ipaddress.IPv4Address(v))
    except (ValueError, TypeError):
        raise InvalidInput(name, f"{v!r} is not an IPv4 address") from None


def _check_ip(name: str, f: Field, v: Any) -> Any:
    try:
        return str(ipaddress.ip_address(v))
    except (ValueError, TypeError):
        raise InvalidInput(name, f"{v!r} is not an IP address") from None


def _check_mac(name: str, f: Field, v: Any) -> Any:
    if not isinstance(v, str) or not _MAC.match(v):
        raise InvalidInput(name, f"{v!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
    return v.lower()


def _check_macmask(name: str, f: Field, v: Any) -> Any:
    if isinstance(v, str) and _MAC.match(v):
        v = "".join(v.split(":"))
        v = f"{v[0:4]}.{v[4:8]}.{v[8:12]}"
    if not isinstance(v, str) or not _MACMASK.match(v):
        raise InvalidInput(name, f"{v!r} is not a MAC mask (ffff.ffff.ffff)")
    return v.lower()


def _check_enum(name: str, f: Field, v: Any) -> Any:
    if v not in f.choices:
        raise InvalidInput(name, f"{v!r} is not one of {', '.join(map(str, f.choices))}")
    return v


def _check_range(name: str, f: Field, v: Any) -> Any:
    if not isinstance(v, dict) or set(v) - {"start", "end"}:
        raise InvalidInput(name, "must be an object with start and end")
    start = v.get("start")
    end = v.get("end", start)
    if start is None:
        start = end
    inner = Field("int", lo=f.lo, hi=f.hi)
    start = _check_int(name, inner, start)
    end = _check_int(name, inner, end)
    if start > end:
        raise InvalidInput(name, "start must not exceed end")
    return {"start": start, "end": end}


def _check_nattargets(name: str, f: Field, v: Any) -> Any:
    if not isinstance(v, list):
        raise InvalidInput(name, "must be a list of NAT targets")
    out = []
    for t in v:
        if not isinstance(t, dict):
            raise InvalidInput(name, "each NAT target must be an object")
        a_from = _check_ipv4(f"{name}.addressFrom", f, t.get("addressFrom"))
        a_to = _check_ipv4(f"{name}.addressTo", f, t.get("addressTo", a_from))
        if ipaddress.IPv4Address(a_from) > ipaddress.IPv4Address(a_to):
            raise InvalidInput(name, "addressFrom must not exceed addressTo")
        ports = Field("int", lo=0, hi=65535)
        p_from = _check_int(f"{name}.portFrom", ports, t.get("portFrom", 0))
        p_to = _check_int(f"{name}.portTo", ports, t.get("portTo", p_from))
        if p_from > p_to:
            raise InvalidInput(name, "portFrom must not exceed portTo")
        if (p_from == 0) != (p_to == 0):
            raise InvalidInput(name, "ports must be within 1-65535 (or both 0 for no ports)")
        out.append({"addressFrom": a_from, "addressTo": a_to, "portFrom": p_from,
                    "portTo": p_to})
    return out


CHECKERS: dict[str, Callable[[str, Field, Any], Any]] = {
    "str": _check_str, "bool": _check_bool, "int": _check_int, "uuid": _check_uuid,
    "uuids": _check_uuids, "strs": _check_strs, "ipv4": _check_ipv4, "ip": _check_ip,
    "mac": _check_mac, "macmask": _check_macmask, "enum": _check_enum, "range": _check_range,
    "nattargets": _check_nattargets, "any": lambda name, f, v: v,
}


def check_value(name: str, f: Field, value: Any) -> Any:
    """Normalise ``value`` for field ``f`` or raise :class:`InvalidInput` naming the field."""
    if value is None:
        if f.required:
            raise InvalidInput(name, "must not be null")
        if not f.nullable:
            if f.default is None:
                raise InvalidInput(name, "must not be null")
            return f.default  # as a Java DTO would read null into a primitive
        return None
    return CHECKERS[f.kind](name, f, value)


def defaults(kind: str) -> dict[str, Any]:
    """A new object of ``kind`` with every field at its default."""
    out = {}
    for name, f in KINDS[kind].items():
        d = f.default
        out[name] = list(d) if isinstance(d, list) else d
    return out


def clean(kind: str, data: Any, *, creating: bool) -> dict[str, Any]:
    """Check client-supplied fields of ``kind``; unknown and read-only fields are ignored.

    Returns only the fields the client may set in this operation.
    """
    if not isinstance(data, dict):
        raise InvalidInput(kind, "the request body must be a JSON object")
    out: dict[str, Any] = {}
    for name, f in KINDS[kind].items():
        allowed = f.create if creating else f.update
        if not allowed or name not in data:
            if creating and allowed and f.required:
                raise InvalidInput(name, "is required")
            continue
        out[name] = check_value(name, f, data[name])
    return out
