"""BGP peers of routers: the remote speakers a router's BGP sessions reach.

A peer needs its router's AS number set (the router keeps it while it has peers) and must
sit in the subnet of one of its router's ports (the session leaves through that port), at
most one peer per address on a router; a
router port whose subnet is the only one holding a peer can be neither deleted nor moved to
another subnet while the peer exists (409, naming the peer). Timers left unset take the agent's
defaults; a hold time is 0 (no keepalives) or at least 3 seconds (RFC 4271) and not shorter
than the keepalive interval. The MD5 password is stored but never shown (see the REST DTO).
``status`` is read-only: the agent that runs the session writes its BGP state and how many
routes the peer gave.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

AS_MAX = 4294967295
TIMER_MAX = 65535
MIN_HOLD_TIME = 3  # RFC 4271 4.2: zero or at least three seconds
PASSWORD_MAX = 80  # the longest TCP MD5 signature key Linux takes (TCP_MD5SIG_MAXKEYLEN)


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    router = txn.get("router", parent_id)
    if router is None:
        raise errors.NotFound("router", parent_id)
    obj["routerId"] = router["id"]
    if not router.get("asNumber"):
        raise errors.InvalidInput("asNumber", f"router {router['id']} has no AS number: set "
                                  "the router's asNumber before adding BGP peers")
    _check(txn, obj)


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    _check(txn, obj)


def router_keeps_as(txn: Txn, old: Obj | None, router: Obj) -> None:
    """Router hook: a router with BGP peers keeps an AS number (400 on ``asNumber`` 0)."""
    if router.get("asNumber") or not (old and old.get("asNumber")):
        return
    peers = txn.ids_by("bgpPeer", "routerId", router["id"])
    if peers:
        raise errors.InvalidInput("asNumber", f"router {router['id']} has BGP peers "
                                  f"({', '.join(sorted(peers))}): delete them before "
                                  "clearing its AS number")


def _check(txn: Txn, obj: Obj) -> None:
    _check_timers(obj)
    password = obj.get("password")
    if password == "":
        obj["password"] = None  # as a client clears it
    elif password is not None and len(password) > PASSWORD_MAX:
        raise errors.InvalidInput("password", f"must be at most {PASSWORD_MAX} characters")
    addr = ipaddress.IPv4Address(obj["address"])
    _check_reachable(txn, obj["routerId"], addr)
    for other in txn.list_by("bgpPeer", "routerId", obj["routerId"]):
        if other["id"] != obj["id"] and other["address"] == obj["address"]:
            raise errors.InvalidInput("address", f"router {obj['routerId']} already has a "
                                      f"BGP peer at {addr}")


def _check_timers(obj: Obj) -> None:
    hold, keep = obj.get("holdTime"), obj.get("keepAlive")
    if hold is not None and 0 < hold < MIN_HOLD_TIME:
        raise errors.InvalidInput("holdTime", f"must be 0 or at least {MIN_HOLD_TIME} seconds")
    if hold and keep is not None and keep > hold:
        raise errors.InvalidInput("keepAlive", f"{keep} s is longer than the hold time "
                                  f"({hold} s)")


def _check_reachable(txn: Txn, router_id: str, addr: ipaddress.IPv4Address) -> None:
    for port in txn.list_by("port", "deviceId", router_id):
        if port.get("portAddress") is None or port.get("networkLength") is None:
            continue
        iface = ipaddress.IPv4Interface(f"{port['portAddress']}/{port['networkLength']}")
        if addr == iface.ip:
            raise errors.InvalidInput("address", f"{addr} is the router's own port address")
        if addr in iface.network:
            return
    raise errors.InvalidInput("address", f"{addr}: peer address must be reachable through one "
                              "of the router's port subnets")


def _subnet(port: Obj) -> ipaddress.IPv4Interface | None:
    if port.get("type") != "Router" or port.get("portAddress") is None \
            or port.get("networkLength") is None:
        return None
    return ipaddress.IPv4Interface(f"{port['portAddress']}/{port['networkLength']}")


def keep_peers_reachable(txn: Txn, old: Obj, new: Obj | None) -> None:
    """Refuse (409) to delete router port ``old`` (``new`` is None) or to move it to another
    subnet when that leaves one of its router's BGP peers outside every port subnet."""
    was = _subnet(old)
    if was is None:
        return
    now = None if new is None else _subnet(new)
    others = [_subnet(p) for p in txn.list_by("port", "deviceId", old["deviceId"])
              if p["id"] != old["id"]]
    for peer in txn.list_by("bgpPeer", "routerId", old["deviceId"]):
        addr = ipaddress.IPv4Address(peer["address"])
        if addr not in was.network:
            continue
        if now is not None and addr in now.network and addr != now.ip:
            continue
        if any(o is not None and addr in o.network and addr != o.ip for o in others):
            continue
        change = "deleted" if new is None else f"moved to {now}"
        raise errors.Conflict(f"port {old['id']} ({was}) reaches BGP peer {peer['id']} "
                              f"({addr}) and cannot be {change}; delete or change the peer "
                              "first")


def port_removed(txn: Txn, port: Obj) -> None:
    """A client deletes a port: refused when a BGP peer needs it."""
    keep_peers_reachable(txn, port, None)


def _timer(lo: int) -> Field:
    return Field("int", lo=lo, hi=TIMER_MAX)


SPEC = KindSpec(
    "bgpPeer",
    {
        "routerId": Field("uuid", ref="router", index=True, create=False, update=False,
                          on_delete=OnDelete.CASCADE),
        "asNumber": Field("int", required=True, lo=1, hi=AS_MAX, nullable=False),
        "address": Field("ipv4", required=True, nullable=False),
        "keepAlive": _timer(1),
        "holdTime": _timer(0),
        "connectRetry": _timer(1),
        "password": Field("str"),
        # written by the agent running the peer's session: {"state", "learnedRoutes"}
        "status": Field("any", create=False, update=False),
    },
    parents=("router",),
    parent_field="routerId",
    on_create=_create,
    on_update=_update,
)
