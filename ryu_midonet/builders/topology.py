"""Plain-dict topologies for simulator tests and tools.

Objects carry every stored field with the store's defaults (:func:`ryu_midonet.nsdb.schema.
defaults`), and router ports get the routes the store gives them (their own /32 and their
network, weight 0), so a built topology reads like one loaded from the store. Ids are the names
given (readable traces); ports are named ``<device>:<n>`` unless named explicitly.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ryu_midonet.nsdb.schema import defaults
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.types import Obj


class TopologyBuilder:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Obj]] = {}
        self._counters: dict[str, int] = {}

    def view(self) -> DictView:
        return DictView(self.objects)

    def _put(self, kind: str, obj_id: str, **fields: Any) -> Obj:
        obj = defaults(kind)
        obj.update(fields, id=obj_id)
        self.objects.setdefault(kind, {})[obj_id] = obj
        return obj

    def _next(self, prefix: str) -> str:
        n = self._counters.get(prefix, 0)
        self._counters[prefix] = n + 1
        return f"{prefix}:{n}"

    def bridge(self, name: str, **fields: Any) -> Obj:
        return self._put("bridge", name, name=name, **fields)

    def router(self, name: str, **fields: Any) -> Obj:
        return self._put("router", name, name=name, **fields)

    def bridge_port(self, bridge: Obj, host: str | None = "host0", port_id: str | None = None,
                    **fields: Any) -> Obj:
        """A bridge port, bound to ``host`` (None: unbound, or to be linked)."""
        return self._put("port", port_id or self._next(bridge["id"]), type="Bridge",
                         deviceId=bridge["id"], hostId=host, **fields)

    def router_port(self, router: Obj, cidr: str, mac: str, host: str | None = None,
                    port_id: str | None = None, **fields: Any) -> Obj:
        """A router port with address ``cidr`` (e.g. 10.0.0.1/24) and its two port routes."""
        iface = ipaddress.IPv4Interface(cidr)
        port = self._put("port", port_id or self._next(router["id"]), type="Router",
                         deviceId=router["id"], hostId=host, portAddress=str(iface.ip),
                         networkAddress=str(iface.network.network_address),
                         networkLength=iface.network.prefixlen, portMac=mac, **fields)
        self.route(router, f"{iface.ip}/32", port, weight=0)
        if iface.network.prefixlen != 32:
            self.route(router, str(iface.network), port, weight=0)
        return port

    def link(self, a: Obj, b: Obj) -> None:
        """Peer two ports (interior ports are not bound)."""
        a.update(peerId=b["id"], hostId=None)
        b.update(peerId=a["id"], hostId=None)

    def route(self, router: Obj, dst: str, port: Obj | None = None, *, gw: str | None = None,
              src: str = "0.0.0.0/0", weight: int = 100, type: str = "Normal",
              route_id: str | None = None) -> Obj:
        dst_net = ipaddress.IPv4Network(dst, strict=False)
        src_net = ipaddress.IPv4Network(src, strict=False)
        return self._put("route", route_id or self._next(f"{router['id']}/route"),
                         routerId=router["id"], type=type,
                         dstNetworkAddr=str(dst_net.network_address),
                         dstNetworkLength=dst_net.prefixlen,
                         srcNetworkAddr=str(src_net.network_address),
                         srcNetworkLength=src_net.prefixlen,
                         nextHopPort=None if port is None else port["id"], nextHopGateway=gw,
                         weight=weight)
