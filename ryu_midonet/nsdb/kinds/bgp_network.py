"""BGP networks of routers: the prefixes a router advertises to its BGP peers.

A prefix is given by its network address and length; an address with host bits set
(``192.0.2.5/24``) is refused rather than guessed at. A router advertises a prefix once.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.spec import KindSpec, child_hooks
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn


def network(obj: Obj) -> ipaddress.IPv4Network:
    """The prefix of a stored bgpNetwork."""
    return ipaddress.IPv4Network(f"{obj['subnetAddress']}/{obj['subnetLength']}")


def _check(txn: Txn, obj: Obj) -> None:
    text = f"{obj['subnetAddress']}/{obj['subnetLength']}"
    try:
        net = ipaddress.IPv4Network(text)
    except ValueError:
        wide = ipaddress.IPv4Network(text, strict=False)
        raise errors.InvalidInput("subnetAddress", f"{text} has host bits set (the network "
                                  f"is {wide})") from None
    for other in txn.list_by("bgpNetwork", "routerId", obj["routerId"]):
        if other["id"] != obj["id"] and network(other) == net:
            raise errors.InvalidInput("subnetAddress", f"router {obj['routerId']} already "
                                      f"advertises {net}")


_create, _update = child_hooks("router", "routerId", _check)

SPEC = KindSpec(
    "bgpNetwork",
    {
        "routerId": Field("uuid", ref="router", index=True, create=False, update=False,
                          on_delete=OnDelete.CASCADE),
        "subnetAddress": Field("ipv4", required=True, nullable=False),
        "subnetLength": Field("int", required=True, lo=0, hi=32, nullable=False),
    },
    parents=("router",),
    parent_field="routerId",
    on_create=_create,
    on_update=_update,
)
