"""A bridge's ARP table on the wire (MidoNet v5: ``IP4Mac-v1``, an ``Ip4MacPair``).

``/bridges/{id}/arp_table`` lists the entries (``{ip, mac}``) the bridge learned from its VMs'
ARP and the static ones, and adds a static entry (one that never ages out; it replaces what
the table held for that address). An entry is named by address and MAC, the MAC's colons as
dashes: ``/bridges/{id}/arp_table/10.0.0.5_02-00-00-00-00-05``. The entries live in the state
tables (:class:`~ryu_midonet.statestore.RedisIp4MacTable`); every agent sees a change at once.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

from ryu_midonet.nsdb import errors
from ryu_midonet.rest.params import json_body, uuid_param
from ryu_midonet.rest.resource import LINK, Resource, Shape
from ryu_midonet.rest.schemas import body_schema
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.statestore import RedisIp4MacTable
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

_MAC = r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$"
_MAC_RE = re.compile(_MAC)
_IP_SCHEMA = {"type": "string", "format": "ipv4"}
_MAC_SCHEMA = {"type": "string", "pattern": _MAC}

PAIR = Resource("ip4Mac", "arp_table", "IP4Mac", 1, Shape(
    {"uri": LINK, "ip": _IP_SCHEMA, "mac": _MAC_SCHEMA},
    inputs={"ip": _IP_SCHEMA, "mac": _MAC_SCHEMA}, required=("ip", "mac")))


def segment(ip: str, mac: str) -> str:
    """How an entry is named in its URI: ``10.0.0.5_02-00-00-00-00-05``."""
    return f"{ip}_{mac.replace(':', '-')}"


def pair_dto(dtos: Dtos, bridge_id: str, ip: str, mac: str) -> Obj:
    return {"uri": dtos.uri("bridges", bridge_id, "arp_table", segment(ip, mac)),
            "ip": ip, "mac": mac}


def parse_ip(value: object, field: str = "ip") -> str:
    if not isinstance(value, str):
        raise errors.InvalidInput(field, "must be an IPv4 address")
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise errors.InvalidInput(field, f"{value!r} is not an IPv4 address") from None


def parse_mac(value: object, field: str = "mac") -> str:
    if not isinstance(value, str) or _MAC_RE.fullmatch(value) is None:
        raise errors.InvalidInput(field, f"{value!r} is not a MAC address")
    return value.replace("-", ":").lower()


def register(api: Api) -> None:
    """Add the bridge ARP table routes to ``api``."""
    pair_body = body_schema(PAIR)

    def table() -> RedisIp4MacTable:
        return RedisIp4MacTable(api.topo.store)

    def bridge_of(req: Request) -> str:
        bridge_id = uuid_param(req.params["id"], "bridge")
        api.topo.get("bridge", bridge_id)
        return bridge_id

    def named(req: Request) -> tuple[str, str, str]:
        """The bridge, address and MAC the path names (404 when not an entry's name)."""
        bridge_id = bridge_of(req)
        ip, _, mac = req.params["pair"].partition("_")
        try:
            return bridge_id, parse_ip(ip), parse_mac(mac)
        except errors.InvalidInput:
            raise errors.NotFound("ARP entry", req.params["pair"]) from None

    def list_pairs(req: Request) -> Reply:
        bridge_id = bridge_of(req)
        dtos = api.dtos(req)
        entries = table().entries(bridge_id)
        return Reply(body=[pair_dto(dtos, bridge_id, ip, mac)
                           for ip, mac in sorted(entries.items(),
                                                 key=lambda e: ipaddress.IPv4Address(e[0]))])

    def create_pair(req: Request) -> Reply:
        bridge_id = bridge_of(req)
        body = json_body(req, pair_body)
        ip, mac = parse_ip(body.get("ip")), parse_mac(body.get("mac"))
        table().add_static(bridge_id, ip, mac)
        dto = pair_dto(api.dtos(req), bridge_id, ip, mac)
        return Reply(201, dto, location=dto["uri"])

    def get_pair(req: Request) -> Reply:
        bridge_id, ip, mac = named(req)
        if table().get(bridge_id, ip) != mac:
            raise errors.NotFound("ARP entry", segment(ip, mac))
        return Reply(body=pair_dto(api.dtos(req), bridge_id, ip, mac))

    def delete_pair(req: Request) -> Reply:
        bridge_id, ip, mac = named(req)
        t = table()
        if t.get(bridge_id, ip) == mac:
            t.forget(bridge_id, ip)
        return Reply(204)

    pairs, one = "/bridges/{id}/arp_table", "/bridges/{id}/arp_table/{pair}"
    api.add("GET", pairs, list_pairs, PAIR.collection_media,
            "List a bridge's ARP table: addresses learned from its VMs' ARP, and static ones")
    api.add("POST", pairs, create_pair, PAIR.media,
            "Add a static entry (it does not age out) to a bridge's ARP table")
    api.add("GET", one, get_pair, PAIR.media, "Show an ARP table entry (named ip_mac)")
    api.add("DELETE", one, delete_pair, None, "Delete an ARP table entry")
