"""Ports of bridges and routers: addresses, the routes of router ports, links to peers."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field
from ryu_midonet.nsdb.ids import client_id, new_id, random_mac
from ryu_midonet.nsdb.kinds import bgp_peer, route
from ryu_midonet.nsdb.kinds.chain import chain_ref
from ryu_midonet.nsdb.ops import Ops
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

# Tunnel keys travel in 24-bit VXLAN VNIs whose two top bits the datapath uses as flags
# (datapath.pipeline NAT_TUNNEL_FLAG and CT_COMMIT_BIT).
MAX_TUNNEL_KEY = (1 << 22) - 1

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

DEVICE_KINDS = ("bridge", "router")
ROUTER_PORT_FIELDS = ("portAddress", "networkAddress", "networkLength", "portMac")


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    device = None
    for kind in DEVICE_KINDS:
        device = txn.get(kind, parent_id)
        if device is not None:
            obj["type"] = "Bridge" if kind == "bridge" else "Router"
            break
    if device is None:
        raise errors.NotFound("device", parent_id)
    obj["deviceId"] = device["id"]
    _check_fields(obj)
    _check_vlan(txn, obj)
    if obj["type"] == "Router":
        _normalise_router_port(obj)
        _add_port_routes(txn, obj)
    key = txn.next_seq("tunnelKey")  # consumed only when the port is created
    if key > MAX_TUNNEL_KEY:
        raise errors.Conflict(f"no tunnel key is left for a new port (keys run to "
                              f"{MAX_TUNNEL_KEY} and are not reused)")
    obj["tunnelKey"] = key


def _check_fields(port: Obj) -> None:
    if port["type"] == "Bridge":
        for name in ROUTER_PORT_FIELDS:
            if port.get(name) is not None:
                raise errors.InvalidInput(name, "only router ports have addresses")
    elif port.get("vlanId") is not None:
        raise errors.InvalidInput("vlanId", "only bridge ports have a VLAN")


def _check_vlan(txn: Txn, port: Obj) -> None:
    """A VLAN id names one port of a VLAN-aware bridge: no other port of the bridge has it."""
    vlan = port.get("vlanId")
    if vlan is None or port["type"] != "Bridge":
        return
    for other in txn.list_by("port", "deviceId", port["deviceId"]):
        if other["id"] != port["id"] and other.get("vlanId") == vlan:
            raise errors.InvalidInput("vlanId", f"port {other['id']} of the bridge already"
                                      f" has VLAN {vlan}")


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    _check_fields(obj)
    if obj.get("vlanId") != old.get("vlanId"):
        _check_vlan(txn, obj)
    if obj["type"] != "Router":
        return
    moved = any(old.get(k) != obj.get(k) for k in ("portAddress", "networkLength"))
    if moved and old.get("networkAddress") == obj.get("networkAddress"):
        obj["networkAddress"] = None  # follows the new address unless given explicitly
    _normalise_router_port(obj)
    bgp_peer.keep_peers_reachable(txn, old, obj)
    keys = ("portAddress", "networkAddress", "networkLength")
    if any(old.get(k) != obj.get(k) for k in keys):
        for r in txn.list_by("route", "nextHopPort", obj["id"]):
            if r["weight"] == 0 and _is_port_route(r, old):
                txn.delete("route", r["id"])
        _add_port_routes(txn, obj)


def _normalise_router_port(obj: Obj) -> None:
    if obj.get("portAddress") is None:
        raise errors.InvalidInput("portAddress", "a router port needs an address")
    if obj.get("networkLength") is None:
        raise errors.InvalidInput("networkLength", "a router port needs a prefix length")
    net = ipaddress.IPv4Network(f"{obj['portAddress']}/{obj['networkLength']}", strict=False)
    if obj.get("networkAddress") not in (None, str(net.network_address)):
        given = ipaddress.IPv4Address(obj["networkAddress"])
        if given not in net:
            raise errors.InvalidInput("networkAddress",
                                      f"{given} is not the network of {obj['portAddress']}/"
                                      f"{obj['networkLength']}")
    obj["networkAddress"] = str(net.network_address)
    if not obj.get("portMac"):
        obj["portMac"] = random_mac()


def _is_port_route(r: Obj, port: Obj) -> bool:
    own = (r["dstNetworkAddr"], r["dstNetworkLength"])
    return own in ((port.get("portAddress"), 32),
                   (port.get("networkAddress"), port.get("networkLength")))


def _add_port_routes(txn: Txn, port: Obj) -> None:
    """The routes MidoNet gives every router port: its own /32 and its subnet, both via it."""
    targets = [(port["portAddress"], 32)]
    if port["networkLength"] != 32:
        targets.append((port["networkAddress"], port["networkLength"]))
    for addr, length in targets:
        r = route.SPEC.new()
        r.update(id=new_id(), routerId=port["deviceId"], dstNetworkAddr=addr,
                 dstNetworkLength=length, nextHopPort=port["id"], weight=0)
        txn.put("route", r)


def unlink(txn: Txn, port: Obj) -> None:
    """Break the link between ``port`` and its peer, if any."""
    peer_id = port.get("peerId")
    if not peer_id:
        return
    peer = txn.get("port", peer_id)
    if peer is not None and peer.get("peerId") == port["id"]:
        peer["peerId"] = None
        txn.put("port", peer)
    port["peerId"] = None
    txn.put("port", port)


SPEC = KindSpec(
    "port",
    {
        "type": Field("enum", choices=("Bridge", "Router"), update=False),
        "deviceId": Field("uuid", index=True, create=False, update=False),
        "adminStateUp": Field("bool", True, nullable=False),
        # the link of its interface, as the agent of its host reports it (null: not reported)
        "linkUp": Field("bool", create=False, update=False),
        "inboundFilterId": chain_ref(),
        "outboundFilterId": chain_ref(),
        "tunnelKey": Field("int", create=False, update=False),
        "vifId": Field("str"),
        "hostId": Field("uuid", ref="host", index=True, create=False, update=False),
        "interfaceName": Field("str", create=False, update=False),
        "peerId": Field("uuid", ref="port", create=False, update=False),
        "vlanId": Field("int", lo=1, hi=4094),  # 0 and 4095 are reserved by 802.1Q
        "portAddress": Field("ipv4"),
        "networkAddress": Field("ipv4"),
        "networkLength": Field("int", lo=0, hi=32),
        "portMac": Field("mac"),
        "inboundMirrorIds": Field("uuids", [], create=False, update=False),
        "outboundMirrorIds": Field("uuids", [], create=False, update=False),
        # a bridge's VXLAN port (nsdb.kinds.vtep): the VTEP it leads to, the bridge's VNI
        "vtepId": Field("uuid", create=False, update=False),
        "vni": Field("int", create=False, update=False),
    },
    parents=DEVICE_KINDS,
    parent_field="deviceId",
    on_create=_create,
    on_update=_update,
    on_delete=unlink,
    on_remove=bgp_peer.port_removed,
)


def _check_vlan_link(txn: Txn, port: Obj, peer: Obj) -> None:
    """Two bridge ports are linked only from a VLAN port of a VLAN-aware bridge to a bridge
    without VLANs (a VUB), which has no other link to a VLAN-aware bridge."""
    tagged = [p for p in (port, peer) if p.get("vlanId") is not None]
    if len(tagged) != 1:
        raise errors.InvalidInput("peerId", "two bridge ports are linked only from a VLAN port"
                                  " of a VLAN-aware bridge to a bridge without VLANs")
    vub_port = peer if tagged[0] is port else port
    for other in txn.list_by("port", "deviceId", vub_port["deviceId"]):
        if other.get("vlanId") is not None:
            raise errors.InvalidInput("peerId", f"bridge {vub_port['deviceId']} has VLAN ports:"
                                      " a VLAN port links to a bridge without VLANs")
        linked = txn.get("port", other.get("peerId")) if other["id"] != vub_port["id"] else None
        if linked is not None and linked.get("vlanId") is not None:
            raise errors.InvalidInput("peerId", f"bridge {vub_port['deviceId']} already has a"
                                      " port linked to a VLAN-aware bridge")


class PortLinks(Ops):
    """Linking two ports of different devices (interior ports) and unlinking them."""

    def link(self, port_id: str, peer_id: Any) -> Obj:
        if not isinstance(peer_id, str):
            raise errors.InvalidInput("peerId", "must be the UUID of the port to link to")
        peer_id = client_id(peer_id, "peerId")

        def work(txn: Txn) -> Obj:
            port = txn.require("port", port_id)
            peer = txn.get("port", peer_id)
            if peer is None:
                raise errors.InvalidInput("peerId", f"port {peer_id} does not exist")
            if port["id"] == peer["id"]:
                raise errors.InvalidInput("peerId", "a port cannot be linked to itself")
            if port["deviceId"] == peer["deviceId"]:
                raise errors.InvalidInput("peerId", "both ports belong to the same device")
            if port["type"] == "Bridge" and peer["type"] == "Bridge":
                _check_vlan_link(txn, port, peer)
            for p in (port, peer):
                if p.get("peerId"):
                    raise errors.Conflict(f"port {p['id']} is already linked to {p['peerId']}")
                if p.get("hostId"):
                    raise errors.Conflict(f"port {p['id']} is bound to an interface on host "
                                          f"{p['hostId']}; an exterior port cannot be linked")
            port["peerId"], peer["peerId"] = peer["id"], port["id"]
            txn.put("port", port)
            txn.put("port", peer)
            return port

        return self.store.transaction(work)

    def unlink(self, port_id: str) -> None:
        def work(txn: Txn) -> None:
            unlink(txn, txn.require("port", port_id))

        self.store.transaction(work)
