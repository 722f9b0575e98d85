"""Stored objects -> MidoNet v5 DTOs: the same camelCase fields plus URIs and derived values."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ryu_midonet.nsdb.topology import Topology, binding_view, member_view
from ryu_midonet.rest.wsgi import media_type

Obj = dict[str, Any]


@dataclass(frozen=True)
class Resource:
    """How a stored kind appears on the wire."""

    kind: str
    path: str  # top-level collection segment, e.g. "bridges"
    name: str  # vendor media type name, e.g. "Bridge"
    version: int

    @property
    def media(self) -> str:
        return media_type(self.name, self.version)

    @property
    def collection_media(self) -> str:
        return media_type(self.name, self.version, collection=True)


RESOURCES: dict[str, Resource] = {r.kind: r for r in (
    Resource("bridge", "bridges", "Bridge", 4),
    Resource("router", "routers", "Router", 3),
    Resource("port", "ports", "Port", 3),
    Resource("route", "routes", "Route", 1),
    Resource("chain", "chains", "Chain", 1),
    Resource("rule", "rules", "Rule", 2),
    Resource("host", "hosts", "Host", 3),
    Resource("tunnelZone", "tunnel_zones", "TunnelZone", 1),
    Resource("portGroup", "port_groups", "PortGroup", 1),
    Resource("ipAddrGroup", "ip_addr_groups", "IpAddrGroup", 1),
)}

INTERFACE = Resource("interface", "interfaces", "Interface", 1)
BINDING = Resource("binding", "ports", "HostInterfacePort", 1)
TZ_MEMBER = Resource("tunnelZoneHost", "hosts", "TunnelZoneHost", 1)
GRE_TZ_MEMBER = Resource("tunnelZoneHost", "hosts", "GreTunnelZoneHost", 1)
PG_MEMBER = Resource("portGroupPort", "ports", "PortGroupPort", 1)
IP_ADDR = Resource("ipAddrGroupAddr", "ip_addrs", "IpAddrGroupAddr", 1)
TENANT = Resource("tenant", "tenants", "Tenant", 2)
SYSTEM_STATE = Resource("systemState", "system_state", "SystemState", 2)
PORT_LINK = Resource("portLink", "link", "PortLink", 1)
APPLICATION = Resource("application", "", "Application", 5)
TOKEN = Resource("token", "login", "Token", 1)


class Dtos:
    """Builds DTOs for one request (``base`` is the absolute URI of /midonet-api)."""

    def __init__(self, topo: Topology, base: str) -> None:
        self.topo = topo
        self.base = base

    def uri(self, *parts: object) -> str:
        return "/".join([self.base, *(str(p) for p in parts)])

    def of(self, kind: str, obj: Obj) -> Obj:
        res = RESOURCES[kind]
        dto = dict(obj)
        dto["uri"] = self.uri(res.path, obj["id"])
        extra = _EXTRAS.get(kind)
        if extra is not None:
            extra(self, dto)
        return dto

    # -- per kind --------------------------------------------------------------------------
    def _device(self, dto: Obj, path: str) -> None:
        dto["ports"] = self.uri(path, dto["id"], "ports")
        dto["peerPorts"] = self.uri(path, dto["id"], "peer_ports")
        for direction in ("inbound", "outbound"):
            chain = dto.get(f"{direction}FilterId")
            dto[f"{direction}Filter"] = self.uri("chains", chain) if chain else None

    def _bridge(self, dto: Obj) -> None:
        self._device(dto, "bridges")
        dto["dhcpSubnets"] = self.uri("bridges", dto["id"], "dhcp")
        dto["dhcpSubnetV6s"] = self.uri("bridges", dto["id"], "dhcpV6")
        dto["macTable"] = self.uri("bridges", dto["id"], "mac_table")
        dto["arpTable"] = self.uri("bridges", dto["id"], "arp_table")
        dto.setdefault("vxLanPortIds", [])
        dto["vxLanPortId"] = None
        dto["vxLanPorts"] = self.uri("bridges", dto["id"], "vxlan_ports")

    def _router(self, dto: Obj) -> None:
        self._device(dto, "routers")
        dto["routes"] = self.uri("routers", dto["id"], "routes")
        dto["bgpNetworks"] = self.uri("routers", dto["id"], "bgp_networks")
        dto["bgpPeers"] = self.uri("routers", dto["id"], "bgp_peers")

    def _port(self, dto: Obj) -> None:
        pid = dto["id"]
        device_path = "bridges" if dto["type"] == "Bridge" else "routers"
        dto["device"] = self.uri(device_path, dto["deviceId"])
        if dto["type"] == "Bridge":
            dto["bridgeId"] = dto["deviceId"]
        else:
            dto["routerId"] = dto["deviceId"]
            dto["portSubnet"] = [f"{dto['networkAddress']}/{dto['networkLength']}"]
        dto["link"] = self.uri("ports", pid, "link")
        dto["peer"] = self.uri("ports", dto["peerId"]) if dto.get("peerId") else None
        dto["portGroups"] = self.uri("ports", pid, "port_groups")
        dto["portGroupIds"] = [pg["id"] for pg in self.topo.list("portGroup", "portIds", pid)]
        dto["host"] = self.uri("hosts", dto["hostId"]) if dto.get("hostId") else None
        dto["hostInterfacePort"] = (self.uri("hosts", dto["hostId"], "ports", pid)
                                    if dto.get("hostId") else None)
        dto["active"] = bool(dto.get("hostId")) and self.topo.is_alive(dto["hostId"])
        for name in ("bgpStatus", "rtrPortVni", "serviceContainerId", "vtepId", "vni",
                     "previousHostId", "l2insertionInfilterId", "l2insertionOutfilterId",
                     "qosPolicyId"):
            dto.setdefault(name, None)
        dto.setdefault("offRampVxlan", None)
        for name in ("postInFilterMirrorIds", "preOutFilterMirrorIds", "insertionIds",
                     "serviceInsertionIds", "fipNatRuleIds", "traceRequestIds"):
            dto.setdefault(name, [])
        dto["peeringTable"] = self.uri("ports", pid, "peering_table")

    def _route(self, dto: Obj) -> None:
        dto["router"] = self.uri("routers", dto["routerId"])

    def _chain(self, dto: Obj) -> None:
        dto["rules"] = self.uri("chains", dto["id"], "rules")

    def _rule(self, dto: Obj) -> None:
        chain = self.topo.store.get("chain", dto["chainId"]) or {"ruleIds": []}
        ids = chain["ruleIds"]
        dto["position"] = ids.index(dto["id"]) + 1 if dto["id"] in ids else None
        dto["chain"] = self.uri("chains", dto["chainId"])
        for name in ("nwProto", "nwTos"):
            dto[name] = dto.get(name) or 0  # MidoNet shows "any" as 0
        # fields of rule types this model does not store (l2_transform, trace)
        for name in ("targetPortId", "pushVlan", "requestId", "limit", "properties",
                     "failOpen", "ingress", "popVlan"):
            dto.setdefault(name, None)

    def _host(self, dto: Obj) -> None:
        dto["alive"] = self.topo.is_alive(dto["id"])
        dto["hostInterfaces"] = [self.interface(dto["id"], i) for i in dto["interfaces"]]
        dto["interfaces"] = self.uri("hosts", dto["id"], "interfaces")
        dto["ports"] = self.uri("hosts", dto["id"], "ports")
        dto["tunnelZoneIds"] = [tz["id"] for tz in self.topo.list("tunnelZone", "hostIds",
                                                                   dto["id"])]
        dto["portIds"] = [p["id"] for p in self.topo.list("port", "hostId", dto["id"])]

    def _tunnel_zone(self, dto: Obj) -> None:
        dto["hosts"] = self.uri("tunnel_zones", dto["id"], "hosts")
        dto.pop("hostIds", None)

    def _port_group(self, dto: Obj) -> None:
        dto["ports"] = self.uri("port_groups", dto["id"], "ports")

    def _ip_addr_group(self, dto: Obj) -> None:
        dto["addrs"] = self.uri("ip_addr_groups", dto["id"], "ip_addrs")
        dto["ipAddrPorts"] = [{"addr": a, "ports": []} for a in dto.get("addresses", [])]

    # -- sub-resources ---------------------------------------------------------------------
    def interface(self, host_id: str, iface: Obj) -> Obj:
        dto = {"hostId": host_id, "name": iface.get("name"), "mac": iface.get("mac"),
               "mtu": iface.get("mtu", 1500), "up": iface.get("up", True),
               "hasLink": iface.get("hasLink", True), "type": iface.get("type", "Virtual"),
               "endpoint": iface.get("endpoint", "DATAPATH"),
               "portType": iface.get("portType"), "addresses": iface.get("addresses", []),
               "status": iface.get("status", 0)}
        dto["uri"] = self.uri("hosts", host_id, "interfaces", dto["name"])
        return dto

    def binding(self, port: Obj) -> Obj:
        dto = binding_view(port)
        dto["uri"] = self.uri("hosts", port["hostId"], "ports", port["id"])
        dto["host"] = self.uri("hosts", port["hostId"])
        dto["port"] = self.uri("ports", port["id"])
        return dto

    def tz_member(self, tz: Obj, host_id: str) -> Obj:
        dto = member_view(tz, host_id)
        dto["uri"] = self.uri("tunnel_zones", tz["id"], "hosts", host_id)
        dto["tunnelZone"] = self.uri("tunnel_zones", tz["id"])
        dto["host"] = self.uri("hosts", host_id)
        return dto

    def pg_member(self, pg_id: str, port_id: str) -> Obj:
        return {"portGroupId": pg_id, "portId": port_id,
                "uri": self.uri("port_groups", pg_id, "ports", port_id),
                "portGroup": self.uri("port_groups", pg_id),
                "port": self.uri("ports", port_id)}

    def ip_addr(self, group_id: str, addr: str) -> Obj:
        version = 6 if ":" in addr else 4
        return {"ipAddrGroupId": group_id, "addr": addr, "version": version,
                "uri": self.uri("ip_addr_groups", group_id, "versions", version, "ip_addrs",
                                urllib.parse.quote(addr, safe="")),
                "ipAddrGroup": self.uri("ip_addr_groups", group_id)}

    def tenant(self, tenant_id: str) -> Obj:
        q = f"?tenant_id={tenant_id}"
        return {"id": tenant_id, "name": tenant_id, "description": None, "enabled": True,
                "uri": self.uri("tenants", tenant_id),
                "bridges": self.uri("bridges") + q, "routers": self.uri("routers") + q,
                "chains": self.uri("chains") + q, "portGroups": self.uri("port_groups") + q}

    def system_state(self, state: Obj, information: str | None = None) -> Obj:
        return {"state": state["state"], "availability": state["availability"],
                "version": state.get("writeVersion", "5.0"), "information": information,
                "uri": self.uri("system_state")}


_EXTRAS: dict[str, Callable[[Dtos, Obj], None]] = {
    "bridge": Dtos._bridge, "router": Dtos._router, "port": Dtos._port, "route": Dtos._route,
    "chain": Dtos._chain, "rule": Dtos._rule, "host": Dtos._host,
    "tunnelZone": Dtos._tunnel_zone, "portGroup": Dtos._port_group,
    "ipAddrGroup": Dtos._ip_addr_group,
}
