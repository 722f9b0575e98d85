"""What bridges and routers share on the wire: port links, filters and peer ports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ryu_midonet.rest.kinds.port import RESOURCE as PORT
from ryu_midonet.rest.params import uuid_param
from ryu_midonet.rest.resource import LINK, MAYBE_LINK, Schema
from ryu_midonet.rest.wsgi import Reply, Request
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api, Dtos

DEVICE_LINKS: dict[str, Schema] = {"ports": LINK, "peerPorts": LINK,
                                   "inboundFilter": MAYBE_LINK, "outboundFilter": MAYBE_LINK}
"""What :func:`device_links` adds to a bridge's or router's DTO."""


def device_links(dtos: Dtos, dto: Obj, path: str) -> None:
    dto["ports"] = dtos.uri(path, dto["id"], "ports")
    dto["peerPorts"] = dtos.uri(path, dto["id"], "peer_ports")
    for direction in ("inbound", "outbound"):
        chain = dto.get(f"{direction}FilterId")
        dto[f"{direction}Filter"] = dtos.uri("chains", chain) if chain else None


def register_peer_ports(api: Api, kind: str, path: str) -> None:
    """``GET /<devices>/{id}/peer_ports``: the ports linked to the device's ports."""

    def handler(req: Request) -> Reply:
        dev_id = uuid_param(req.params["id"], kind)
        api.topo.get(kind, dev_id)
        peers = [api.topo.store.get("port", p["peerId"])
                 for p in api.topo.list("port", "deviceId", dev_id) if p.get("peerId")]
        dtos = api.dtos(req)
        return Reply(body=[dtos.of("port", p) for p in peers if p])

    api.add("GET", f"/{path}/{{id}}/peer_ports", handler, PORT.collection_media,
            f"List the ports linked to the ports of a {kind}")
