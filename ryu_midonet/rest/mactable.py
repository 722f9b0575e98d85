"""A bridge's MAC table on the wire (MidoNet v5: MacPort-v2): learned and static entries.

``/bridges/{id}/mac_table`` lists every live entry (learned by the agents, or static) and
creates static ones; ``/bridges/{id}/vlans/{vlan}/mac_table`` does the same for one VLAN. An
entry is named by its MAC and port, ``.../mac_table/aa-bb-cc-dd-ee-ff_<port id>`` (colons are
accepted too). A static entry is what a cloud's control plane knows before a VM speaks (the
VM port's MAC): it goes into the same table the simulator reads
(:class:`~ryu_midonet.statestore.tables.RedisMacTable`), never ages out, learning never
overwrites it, and the flows built on the entry go when it changes, as for a learned one.
The port must be a port of the bridge (on the VLAN given); bad input is a 400 naming the
field, and nothing is written.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field
from ryu_midonet.rest.params import json_body, uuid_param
from ryu_midonet.rest.resource import UUID, Resource, Shape
from ryu_midonet.rest.schemas import body_schema, nullable, value_schema
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.statestore.tables import RedisMacTable
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

_MAC = value_schema(Field("mac"))
_VLAN = value_schema(Field("int", lo=0, hi=4095), lenient=True)
MAC_PORT = Resource("macPort", "mac_table", "MacPort", 2, Shape(
    {"uri": {"type": "string"}, "macAddr": _MAC, "portId": UUID, "bridgeId": UUID,
     "vlanId": nullable({"type": "integer"}), "static": {"type": "boolean"}},
    inputs={"macAddr": _MAC, "portId": {"type": "string"}, "vlanId": nullable(_VLAN)},
    required=("macAddr", "portId"), checked=("portId", "vlanId")))
_ENTRY = re.compile(r"^([0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5})_([0-9a-fA-F-]{36})$")


def table(api: Api) -> RedisMacTable:
    """The shared MAC table of the API's store."""
    return RedisMacTable(api.topo.store)


def mac_segment(mac: str) -> str:
    """A MAC as an entry's URI names it: ``aa-bb-cc-dd-ee-ff``."""
    return mac.lower().replace(":", "-")


def entry_dto(dtos: Dtos, bridge_id: str, mac: str, vlan: int | None, port_id: str,
              static: bool) -> Obj:
    return {"uri": dtos.uri("bridges", bridge_id, "mac_table", f"{mac_segment(mac)}_{port_id}"),
            "macAddr": mac, "portId": port_id, "bridgeId": bridge_id, "vlanId": vlan,
            "static": static}


def _bridge(api: Api, req: Request) -> str:
    bridge_id = uuid_param(req.params["id"], "bridge")
    api.topo.get("bridge", bridge_id)
    return bridge_id


def _vlan(req: Request) -> int | None:
    """The VLAN the path names (None: every VLAN, or the untagged segment to write)."""
    text = req.params.get("vlan")
    if text is None:
        return None
    if not text.isdigit() or not 0 <= int(text) <= 4095:
        raise errors.NotFound("VLAN", text)
    return int(text) or None


def _port(api: Api, bridge_id: str, port_id: str, vlan: int | None) -> str:
    """``port_id`` checked: a port of the bridge, a trunk or the port of ``vlan`` (400 naming
    the field)."""
    try:
        port = api.topo.get("port", uuid_param(port_id, "port"))
    except errors.NotFound:
        raise errors.InvalidInput("portId", f"no port {port_id}") from None
    if port.get("deviceId") != bridge_id:
        raise errors.InvalidInput("portId", f"port {port_id} is not a port of bridge"
                                  f" {bridge_id}")
    if (port.get("vlanId") or None) not in (None, vlan):  # a trunk carries every VLAN
        raise errors.InvalidInput("vlanId", f"port {port_id} is on VLAN"
                                  f" {port.get('vlanId') or 0}, not {vlan or 0}")
    return str(port["id"])


def _named(api: Api, req: Request, bridge_id: str) -> tuple[str, int | None, str, bool]:
    """The live entry the path names (404 if none)."""
    segment = req.params["entry"]
    m = _ENTRY.fullmatch(segment)
    if m is None:
        raise errors.NotFound("MAC table entry", segment)
    mac, port_id = m[1].replace("-", ":").lower(), m[2].lower()
    vlan = _vlan(req)
    for entry in table(api).listing(bridge_id):
        if entry[0] == mac and entry[2] == port_id and (
                "vlan" not in req.params or entry[1] == vlan):
            return entry
    raise errors.NotFound("MAC table entry", f"{segment} of bridge {bridge_id}")


def register(api: Api) -> None:
    """Add the MAC table routes to ``api``."""
    body_of = body_schema(MAC_PORT)

    def list_entries(req: Request) -> Reply:
        bridge_id = _bridge(api, req)
        vlan, every = _vlan(req), "vlan" not in req.params
        dtos = api.dtos(req)
        return Reply(body=[entry_dto(dtos, bridge_id, *entry)
                           for entry in table(api).listing(bridge_id)
                           if every or entry[1] == vlan])

    def create_entry(req: Request) -> Reply:
        bridge_id = _bridge(api, req)
        body = json_body(req, body_of)
        vlan = _vlan(req) if "vlan" in req.params else (body.get("vlanId") or None)
        if "vlan" in req.params and (body.get("vlanId") or None) not in (None, vlan):
            raise errors.InvalidInput("vlanId", "differs from the VLAN of the URI")
        vlan = None if vlan is None else int(vlan) or None
        port_id = _port(api, bridge_id, str(body["portId"]), vlan)
        mac = str(body["macAddr"]).replace("-", ":").lower()
        table(api).add_static(bridge_id, mac, vlan, port_id)
        dto = entry_dto(api.dtos(req), bridge_id, mac, vlan, port_id, True)
        return Reply(201, dto, location=dto["uri"])

    def get_entry(req: Request) -> Reply:
        bridge_id = _bridge(api, req)
        return Reply(body=entry_dto(api.dtos(req), bridge_id, *_named(api, req, bridge_id)))

    def delete_entry(req: Request) -> Reply:
        bridge_id = _bridge(api, req)
        mac, vlan, _, _ = _named(api, req, bridge_id)
        table(api).forget(bridge_id, mac, vlan)
        return Reply(204)

    for prefix in ("/bridges/{id}", "/bridges/{id}/vlans/{vlan}"):
        entries, one = f"{prefix}/mac_table", f"{prefix}/mac_table/{{entry}}"
        on = " on a VLAN" if "vlan" in prefix else ""
        api.add("GET", entries, list_entries, MAC_PORT.collection_media,
                f"List the MAC table of a bridge{on} (learned and static entries)")
        api.add("POST", entries, create_entry, MAC_PORT.media,
                f"Add a static MAC table entry to a bridge{on}")
        api.add("GET", one, get_entry, MAC_PORT.media,
                f"Show a MAC table entry{on} (named mac_portId)")
        api.add("DELETE", one, delete_entry, None, f"Delete a MAC table entry{on}")
