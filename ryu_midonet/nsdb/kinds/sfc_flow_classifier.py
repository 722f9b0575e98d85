"""networking-sfc flow classifiers: which packets a port chain takes.

A classifier matches packets entering at ``logical_source_port`` (required: the chain's
decision is taken where the packet enters) and, optionally, leaving at
``logical_destination_port``, by ``ethertype`` (IPv4 or IPv6), ``protocol`` (tcp, udp, icmp),
source and destination prefixes (CIDRs of the ethertype's family) and port ranges (0-65535,
min <= max, tcp or udp only). ``l7_parameters`` takes no key, as in networking-sfc. A
classifier does not change after creation but for ``name`` and ``description``; one used by a
port chain cannot be deleted (409).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.kinds import sfc_common as c
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

ETHERTYPES = ("IPv4", "IPv6")
PROTOCOLS = ("tcp", "udp", "icmp")
PORT_FIELDS = ("source_port_range_min", "source_port_range_max",
               "destination_port_range_min", "destination_port_range_max")


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    ethertype = obj.get("ethertype") or "IPv4"
    match = [e for e in ETHERTYPES if isinstance(ethertype, str) and e.lower() ==
             ethertype.lower()]
    if not match:
        raise errors.InvalidInput("ethertype", f"{ethertype!r} is not one of IPv4, IPv6")
    obj["ethertype"] = match[0]
    proto = obj.get("protocol")
    if proto is not None:
        if not isinstance(proto, str) or proto.lower() not in PROTOCOLS:
            raise errors.InvalidInput("protocol", f"{proto!r} is not one of tcp, udp, icmp")
        obj["protocol"] = proto.lower()
    for side in ("source", "destination"):
        _check_ports(obj, side)
        _check_prefix(obj, f"{side}_ip_prefix", 4 if match[0] == "IPv4" else 6)
    if obj.get("l7_parameters"):
        key = next(iter(obj["l7_parameters"])) if isinstance(obj["l7_parameters"], dict) \
            else ""
        raise errors.InvalidInput(f"l7_parameters.{key}".rstrip("."),
                                  "no L7 parameter is supported")
    obj["l7_parameters"] = {}
    for name in ("logical_source_port", "logical_destination_port"):
        port = txn.get("port", obj.get(name))
        if port is not None and port.get("type") != "Bridge":
            raise errors.InvalidInput(name, f"port {port['id']} is not a bridge port")


def _check_ports(obj: Obj, side: str) -> None:
    lo_f, hi_f = f"{side}_port_range_min", f"{side}_port_range_max"
    lo, hi = obj.get(lo_f), obj.get(hi_f)
    if lo is None and hi is None:
        return
    if obj.get("protocol") not in ("tcp", "udp"):
        raise errors.InvalidInput("protocol", "must be tcp or udp when a port range is given")
    if lo is not None and hi is not None and lo > hi:
        raise errors.InvalidInput(lo_f, f"{lo} is above {hi_f} {hi}")


def _check_prefix(obj: Obj, name: str, version: int) -> None:
    value = obj.get(name)
    if value is None:
        return
    if not isinstance(value, str) or "/" not in value:
        raise errors.InvalidInput(name, f"{value!r} is not a CIDR (address/length)")
    try:
        net = ipaddress.ip_network(value)
    except ValueError:
        raise errors.InvalidInput(name, f"{value!r} is not a CIDR with no host bits "
                                  "set") from None
    if net.version != version:
        raise errors.InvalidInput(name, f"{value} is not an IPv{version} prefix, as the "
                                  "ethertype says")
    obj[name] = str(net)


def _port(name: str, required: bool = False) -> Field:
    return Field("uuid", ref="port", index=True, update=False, required=required,
                 nullable=not required, on_delete=OnDelete.REFUSE)


SPEC = KindSpec(
    "flowClassifier",
    {
        **c.common_fields(),
        "ethertype": Field("str", "IPv4", update=False),
        "protocol": Field("str", update=False),
        **{name: Field("int", lo=0, hi=65535, update=False) for name in PORT_FIELDS},
        "source_ip_prefix": Field("str", update=False),
        "destination_ip_prefix": Field("str", update=False),
        "logical_source_port": _port("logical_source_port", required=True),
        "logical_destination_port": _port("logical_destination_port"),
        "l7_parameters": Field("any", update=False),
    },
    on_create=_create,
)
