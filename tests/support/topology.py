"""One topology builder for every kind of test, with interchangeable back ends.

The same calls build a virtual topology in memory (plain dicts the simulator reads), in the
real store (through :class:`~ryu_midonet.nsdb.topology.Topology`) or through the REST API:

    bridge(name, **fields)       router(name, **fields)
    port(device, cidr=None, mac=None, **fields)   a bridge port, or a router port on ``cidr``
    link(a, b)                   route(router, dst, port=None, *, gw=None, weight=100, type=...)
    chain(name, **fields)        rule(chain, type, pos=None, **fields)   (pos None: at the end)
    bind(port, host_id, interface)

Every call returns the object as the back end holds it (a dict with at least ``id``).
"""

from __future__ import annotations

import ipaddress
import json
import urllib.request
from typing import Any, Protocol

from ryu_midonet.builders import chains as memory_chains
from ryu_midonet.builders.topology import TopologyBuilder
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.types import Obj


class Builder(Protocol):
    """What every back end offers."""

    def bridge(self, name: str, **fields: Any) -> Obj: ...

    def router(self, name: str, **fields: Any) -> Obj: ...

    def port(self, device: Obj, cidr: str | None = None, mac: str | None = None,
             **fields: Any) -> Obj: ...

    def link(self, a: Obj, b: Obj) -> None: ...

    def route(self, router: Obj, dst: str, port: Obj | None = None, *, gw: str | None = None,
              weight: int = 100, type: str = "Normal") -> Obj: ...

    def chain(self, name: str, **fields: Any) -> Obj: ...

    def rule(self, chain: Obj, type: str, pos: int | None = None, **fields: Any) -> Obj: ...

    def bind(self, port: Obj, host_id: str, interface: str) -> None: ...


def _route_body(dst: str, port: Obj | None, gw: str | None, weight: int,
                type: str) -> dict[str, Any]:
    net = ipaddress.IPv4Network(dst, strict=False)
    body: dict[str, Any] = {"dstNetworkAddr": str(net.network_address),
                            "dstNetworkLength": net.prefixlen, "type": type, "weight": weight}
    if port is not None:
        body["nextHopPort"] = port["id"]
    if gw:
        body["nextHopGateway"] = gw
    return body


def _router_port_body(cidr: str, mac: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    addr, length = cidr.split("/")
    body: dict[str, Any] = {"portAddress": addr, "networkLength": int(length), **fields}
    if mac:
        body["portMac"] = mac
    return body


class MemoryTopology(TopologyBuilder):
    """In memory, for the simulator: ``view()`` is what it reads; ids are the names given."""

    def port(self, device: Obj, cidr: str | None = None, mac: str | None = None,
             **fields: Any) -> Obj:
        if device["id"] in self.objects.get("router", {}):
            assert cidr is not None, "a router port needs an address"
            n = len(self.objects.get("port", {}))
            mac = mac or f"02:aa:00:00:{n // 256:02x}:{n % 256:02x}"
            return self.router_port(device, cidr, mac, **fields)
        return self.bridge_port(device, **fields)

    def chain(self, name: str, **fields: Any) -> Obj:
        obj = memory_chains.chain(self, name)
        obj.update(fields)
        return obj

    def rule(self, chain: Obj, type: str, pos: int | None = None, **fields: Any) -> Obj:
        return memory_chains.rule(self, chain, type, pos, **fields)

    def bind(self, port: Obj, host_id: str, interface: str) -> None:
        port.update(hostId=host_id, interfaceName=interface)


class StoreTopology:
    """In the store, through the same operations the REST API calls."""

    def __init__(self, topo: Topology) -> None:
        self.topo = topo

    def bridge(self, name: str, **fields: Any) -> Obj:
        return self.topo.create("bridge", {"name": name, **fields})

    def router(self, name: str, **fields: Any) -> Obj:
        return self.topo.create("router", {"name": name, **fields})

    def port(self, device: Obj, cidr: str | None = None, mac: str | None = None,
             **fields: Any) -> Obj:
        body = fields if cidr is None else _router_port_body(cidr, mac, fields)
        return self.topo.create("port", body, device["id"])

    def link(self, a: Obj, b: Obj) -> None:
        self.topo.link(a["id"], b["id"])

    def route(self, router: Obj, dst: str, port: Obj | None = None, *, gw: str | None = None,
              weight: int = 100, type: str = "Normal") -> Obj:
        return self.topo.create("route", _route_body(dst, port, gw, weight, type), router["id"])

    def chain(self, name: str, **fields: Any) -> Obj:
        return self.topo.create("chain", {"name": name, **fields})

    def rule(self, chain: Obj, type: str, pos: int | None = None, **fields: Any) -> Obj:
        position = pos if pos is not None else len(self.topo.rules_of(chain["id"])) + 1
        return self.topo.create("rule", {"type": type, "position": position, **fields},
                                chain["id"])

    def bind(self, port: Obj, host_id: str, interface: str) -> None:
        self.topo.bind(host_id, port["id"], interface)


class RestTopology:
    """Through the REST API at ``url`` (its ``/midonet-api`` root), as a client would."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw.strip() else None

    def post(self, path: str, body: dict[str, Any] | None = None) -> Obj:
        return dict(self.call("POST", path, body or {}))

    def bridge(self, name: str, **fields: Any) -> Obj:
        return self.post("bridges", {"name": name, **fields})

    def router(self, name: str, **fields: Any) -> Obj:
        return self.post("routers", {"name": name, **fields})

    def port(self, device: Obj, cidr: str | None = None, mac: str | None = None,
             **fields: Any) -> Obj:
        if cidr is None:
            return self.post(f"bridges/{device['id']}/ports", fields)
        return self.post(f"routers/{device['id']}/ports", _router_port_body(cidr, mac, fields))

    def link(self, a: Obj, b: Obj) -> None:
        self.post(f"ports/{a['id']}/link", {"peerId": b["id"]})

    def route(self, router: Obj, dst: str, port: Obj | None = None, *, gw: str | None = None,
              weight: int = 100, type: str = "Normal") -> Obj:
        return self.post(f"routers/{router['id']}/routes",
                         _route_body(dst, port, gw, weight, type))

    def chain(self, name: str, **fields: Any) -> Obj:
        return self.post("chains", {"name": name, **fields})

    def rule(self, chain: Obj, type: str, pos: int | None = None, **fields: Any) -> Obj:
        if pos is None:
            pos = len(self.call("GET", f"chains/{chain['id']}/rules")) + 1
        return self.post(f"chains/{chain['id']}/rules", {"type": type, "position": pos, **fields})

    def bind(self, port: Obj, host_id: str, interface: str) -> None:
        self.post(f"hosts/{host_id}/ports", {"portId": port["id"], "interfaceName": interface})
