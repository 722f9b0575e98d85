"""Tunnel zones and their member hosts."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field
from ryu_midonet.nsdb.ids import client_id
from ryu_midonet.nsdb.ops import Ops
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn


def _unique_name(txn: Txn, zone: Obj) -> None:
    for other in txn.list("tunnelZone"):
        if other["name"] == zone["name"] and other["id"] != zone["id"]:
            raise errors.Conflict(f"a tunnel zone named {zone['name']!r} already exists")


def _create(txn: Txn, zone: Obj, parent_id: str | None, data: Any) -> None:
    _unique_name(txn, zone)


def _update(txn: Txn, old: Obj, zone: Obj) -> None:
    _unique_name(txn, zone)
    if zone["hostIds"] and old["type"] != zone["type"]:
        raise errors.Conflict("the type of a tunnel zone that has members cannot change")


SPEC = KindSpec(
    "tunnelZone",
    {
        "name": Field("str", required=True, nullable=False),
        "type": Field("enum", "gre", choices=("gre", "vxlan", "vtep"), nullable=False),
        # members: list of {"hostId": ..., "ipAddress": ...}; hostIds mirrors it for the index
        "tzHosts": Field("any", [], create=False, update=False),
        "hostIds": Field("uuids", [], ref="host", index=True, create=False, update=False),
    },
    on_create=_create,
    on_update=_update,
)


def member_view(tz: Obj, host_id: str) -> Obj:
    for m in tz["tzHosts"]:
        if m["hostId"] == host_id:
            return {"tunnelZoneId": tz["id"], "hostId": host_id, "ipAddress": m["ipAddress"]}
    raise errors.NotFound("tunnel zone member", f"{tz['id']}/{host_id}")


def drop_member(tz: Obj, host_id: str) -> None:
    tz["tzHosts"] = [m for m in tz["tzHosts"] if m["hostId"] != host_id]
    tz["hostIds"] = [h for h in tz["hostIds"] if h != host_id]


class TunnelZoneMembers(Ops):
    """Adding hosts to tunnel zones and removing them."""

    def add_tunnel_zone_member(self, tz_id: str, host_id: Any, address: Any) -> Obj:
        if not isinstance(host_id, str):
            raise errors.InvalidInput("hostId", "must be a host UUID")
        host_id = client_id(host_id, "hostId")
        try:
            address = str(ipaddress.IPv4Address(address))
        except (ValueError, TypeError):
            raise errors.InvalidInput("ipAddress", f"{address!r} is not an IPv4 address") \
                from None

        def work(txn: Txn) -> Obj:
            tz = txn.require("tunnelZone", tz_id)
            if txn.get("host", host_id) is None:
                raise errors.InvalidInput("hostId", f"host {host_id} does not exist")
            if host_id in tz["hostIds"]:
                raise errors.Conflict(f"host {host_id} is already a member of tunnel zone "
                                      f"{tz_id}")
            overlay = tz["type"] != "vtep"
            for other in txn.list_by("tunnelZone", "hostIds", host_id):
                if (other["type"] != "vtep") == overlay:
                    raise errors.Conflict(f"host {host_id} is already in {other['type']} tunnel "
                                          f"zone {other['id']}")
            tz["tzHosts"].append({"hostId": host_id, "ipAddress": address})
            tz["hostIds"].append(host_id)
            txn.put("tunnelZone", tz)
            return member_view(tz, host_id)

        return self.store.transaction(work)

    def remove_tunnel_zone_member(self, tz_id: str, host_id: str) -> None:
        def work(txn: Txn) -> None:
            tz = txn.require("tunnelZone", tz_id)
            if host_id not in tz["hostIds"]:
                raise errors.NotFound("tunnel zone member", f"{tz_id}/{host_id}")
            drop_member(tz, host_id)
            txn.put("tunnelZone", tz)

        self.store.transaction(work)
