"""Operations on the virtual topology, each one atomic and referentially consistent.

This is the only writer of topology objects: the REST API, the CLI (through the API) and the
agents call it. Every public method runs as one :meth:`Store.transaction`.
"""

from __future__ import annotations

import ipaddress
import random
import uuid
from typing import Any

from ryu_midonet.nsdb import errors, rules
from ryu_midonet.nsdb.schema import KINDS, clean, defaults, ref_fields
from ryu_midonet.nsdb.store import Store, Txn

Obj = dict[str, Any]

# Kinds a client creates at the top level, and the kind of their parent for nested ones.
PARENT_FIELD = {"port": "deviceId", "route": "routerId", "rule": "chainId"}
DEVICE_KINDS = ("bridge", "router")
CHAIN_USERS = ("bridge", "router", "port")
SYSTEM_ID = "system"
ALIVE_TTL_MS = 5000


def new_id() -> str:
    return str(uuid.uuid4())


def random_mac() -> str:
    """A locally administered unicast MAC, as MidoNet gives router ports (02:...)."""
    return "02:" + ":".join(f"{random.randrange(256):02x}" for _ in range(5))


class Topology:
    """The topology model on top of a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- generic reads ---------------------------------------------------------------------
    def get(self, kind: str, obj_id: str) -> Obj:
        obj = self.store.get(kind, obj_id)
        if obj is None:
            raise errors.NotFound(kind, obj_id)
        return obj

    def list(self, kind: str, field: str | None = None, value: str | None = None) -> list[Obj]:
        if field is None:
            return self.store.list(kind)
        return self.store.read(lambda txn: txn.list_by(kind, field, value))

    def tenants(self) -> list[str]:
        seen: dict[str, None] = {}
        for kind in ("bridge", "router", "chain", "portGroup", "ipAddrGroup"):
            for obj in self.store.list(kind):
                if obj.get("tenantId"):
                    seen.setdefault(obj["tenantId"], None)
        return list(seen)

    # -- generic create / update / delete --------------------------------------------------
    def create(self, kind: str, data: Any, parent_id: str | None = None) -> Obj:
        """Create an object from client data; ``parent_id`` names the owning device or chain."""
        values = clean(kind, data, creating=True)
        obj_id = data.get("id") if isinstance(data, dict) else None
        obj_id = _client_id(obj_id)
        extra: dict[str, Any] = {}
        if kind == "port":
            extra["tunnelKey"] = self.store.next_seq("tunnelKey")

        def work(txn: Txn) -> Obj:
            if obj_id and txn.get(kind, obj_id) is not None:
                raise errors.Conflict(f"{kind} {obj_id} already exists")
            obj = defaults(kind)
            obj.update(values)
            obj.update(extra)
            obj["id"] = obj_id or new_id()
            creator = _CREATORS.get(kind)
            if creator is not None:
                creator(txn, obj, parent_id, data)
            _check_refs(txn, kind, obj)
            txn.put(kind, obj)
            return obj

        return self.store.transaction(work)

    def update(self, kind: str, obj_id: str, data: Any) -> Obj:
        values = clean(kind, data, creating=False)

        def work(txn: Txn) -> Obj:
            obj = txn.require(kind, obj_id)
            old = dict(obj)
            obj.update(values)
            updater = _UPDATERS.get(kind)
            if updater is not None:
                updater(txn, old, obj)
            _check_refs(txn, kind, obj)
            txn.put(kind, obj)
            return obj

        return self.store.transaction(work)

    def delete(self, kind: str, obj_id: str) -> None:
        def work(txn: Txn) -> None:
            txn.require(kind, obj_id)
            delete_cascade(txn, kind, obj_id)

        self.store.transaction(work)

    # -- ports -----------------------------------------------------------------------------
    def link(self, port_id: str, peer_id: Any) -> Obj:
        if not isinstance(peer_id, str):
            raise errors.InvalidInput("peerId", "must be the UUID of the port to link to")
        peer_id = _client_id(peer_id)

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
                raise errors.InvalidInput("peerId", "two bridge ports cannot be linked")
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
            port = txn.require("port", port_id)
            _unlink(txn, port)

        self.store.transaction(work)

    # -- host bindings ---------------------------------------------------------------------
    def bind(self, host_id: str, port_id: Any, interface_name: Any) -> Obj:
        if not isinstance(port_id, str):
            raise errors.InvalidInput("portId", "must be a port UUID")
        port_id = _client_id(port_id)
        if not isinstance(interface_name, str) or not interface_name.strip():
            raise errors.InvalidInput("interfaceName", "must be a non-empty interface name")
        if len(interface_name) > 15 or any(c in interface_name for c in " /\t\n"):
            raise errors.InvalidInput("interfaceName",
                                      f"{interface_name!r} is not a valid interface name")

        def work(txn: Txn) -> Obj:
            txn.require("host", host_id)
            if not txn.ids_by("tunnelZone", "hostIds", host_id):
                raise errors.Conflict(f"host {host_id} is not in any tunnel zone; add it to one "
                                      "before binding ports to its interfaces")
            port = txn.get("port", port_id)
            if port is None:
                raise errors.InvalidInput("portId", f"port {port_id} does not exist")
            if port.get("peerId"):
                raise errors.Conflict(f"port {port_id} is linked to port {port['peerId']}; "
                                      "an interior port cannot be bound")
            for other in txn.list_by("port", "hostId", host_id):
                if other["interfaceName"] == interface_name and other["id"] != port_id:
                    raise errors.Conflict(f"interface {interface_name} on host {host_id} is "
                                          f"already bound to port {other['id']}")
            port["hostId"], port["interfaceName"] = host_id, interface_name
            txn.put("port", port)
            return binding_view(port)

        return self.store.transaction(work)

    def unbind(self, host_id: str, port_id: str) -> None:
        def work(txn: Txn) -> None:
            port = txn.get("port", port_id)
            if port is None or port.get("hostId") != host_id:
                raise errors.NotFound("binding", f"{host_id}/{port_id}")
            port["hostId"] = port["interfaceName"] = None
            txn.put("port", port)

        self.store.transaction(work)

    def bindings(self, host_id: str) -> list[Obj]:
        self.get("host", host_id)
        return [binding_view(p) for p in self.list("port", "hostId", host_id)]

    # -- hosts (written by agents) ---------------------------------------------------------
    def register_host(self, host_id: str, name: str, addresses: list[str] | None = None,
                      interfaces: list[Obj] | None = None) -> Obj:
        host_id = _client_id(host_id)

        def work(txn: Txn) -> Obj:
            host = txn.get("host", host_id) or {**defaults("host"), "id": host_id}
            host.update(name=name, addresses=list(addresses or []),
                        interfaces=list(interfaces or []))
            txn.put("host", host)
            return host

        return self.store.transaction(work, system=True)

    def heartbeat(self, host_id: str, ttl_ms: int = ALIVE_TTL_MS) -> bool:
        """Mark a host alive for ``ttl_ms``; agents call this periodically.

        Returns whether the store still holds the host's record (a store that lost its data
        does not, and the agent then registers its host again).
        """
        with self.store.redis.pipeline(transaction=False) as pipe:
            pipe.set(self.store.key_state(f"alive:{host_id}"), "1", px=ttl_ms)
            pipe.exists(self.store.key_obj("host", host_id))
            _, exists = pipe.execute()
        return bool(exists)

    def host_down(self, host_id: str) -> None:
        self.store.redis.delete(self.store.key_state(f"alive:{host_id}"))

    def is_alive(self, host_id: str) -> bool:
        return bool(self.store.redis.exists(self.store.key_state(f"alive:{host_id}")))

    # -- tunnel zone members ---------------------------------------------------------------
    def add_tunnel_zone_member(self, tz_id: str, host_id: Any, address: Any) -> Obj:
        if not isinstance(host_id, str):
            raise errors.InvalidInput("hostId", "must be a host UUID")
        host_id = _client_id(host_id)
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
            _drop_member(tz, host_id)
            txn.put("tunnelZone", tz)

        self.store.transaction(work)

    # -- port group members ----------------------------------------------------------------
    def add_port_group_member(self, pg_id: str, port_id: Any) -> Obj:
        if not isinstance(port_id, str):
            raise errors.InvalidInput("portId", "must be a port UUID")
        port_id = _client_id(port_id)

        def work(txn: Txn) -> Obj:
            pg = txn.require("portGroup", pg_id)
            if txn.get("port", port_id) is None:
                raise errors.InvalidInput("portId", f"port {port_id} does not exist")
            if port_id in pg["portIds"]:
                raise errors.Conflict(f"port {port_id} is already in port group {pg_id}")
            pg["portIds"].append(port_id)
            txn.put("portGroup", pg)
            return {"portGroupId": pg_id, "portId": port_id}

        return self.store.transaction(work)

    def remove_port_group_member(self, pg_id: str, port_id: str) -> None:
        def work(txn: Txn) -> None:
            pg = txn.require("portGroup", pg_id)
            if port_id not in pg["portIds"]:
                raise errors.NotFound("port group member", f"{pg_id}/{port_id}")
            pg["portIds"].remove(port_id)
            txn.put("portGroup", pg)

        self.store.transaction(work)

    # -- IP address group addresses --------------------------------------------------------
    def add_ip_addr(self, group_id: str, addr: Any) -> str:
        try:
            addr = str(ipaddress.ip_address(addr))
        except (ValueError, TypeError):
            raise errors.InvalidInput("addr", f"{addr!r} is not an IP address") from None

        def work(txn: Txn) -> str:
            group = txn.require("ipAddrGroup", group_id)
            if addr not in group["addresses"]:
                group["addresses"].append(addr)
                txn.put("ipAddrGroup", group)
            return addr

        return self.store.transaction(work)

    def remove_ip_addr(self, group_id: str, addr: str) -> None:
        try:
            addr = str(ipaddress.ip_address(addr))
        except ValueError:
            raise errors.NotFound("address", addr) from None

        def work(txn: Txn) -> None:
            group = txn.require("ipAddrGroup", group_id)
            if addr not in group["addresses"]:
                raise errors.NotFound("address", addr)
            group["addresses"].remove(addr)
            txn.put("ipAddrGroup", group)

        self.store.transaction(work)

    # -- rules -----------------------------------------------------------------------------
    def rules_of(self, chain_id: str) -> list[Obj]:
        def work(txn: Txn) -> list[Obj]:
            chain = txn.require("chain", chain_id)
            return [r for r in (txn.get("rule", rid) for rid in chain["ruleIds"]) if r]

        return self.store.read(work)

    # -- system state ----------------------------------------------------------------------
    def system_state(self) -> Obj:
        return self.store.get("systemState", SYSTEM_ID) or {**defaults("systemState"),
                                                             "id": SYSTEM_ID}

    def set_system_state(self, data: Any) -> Obj:
        values = clean("systemState", data, creating=False)

        def work(txn: Txn) -> Obj:
            state = txn.get("systemState", SYSTEM_ID) or {**defaults("systemState"),
                                                          "id": SYSTEM_ID}
            state.update(values)
            txn.put("systemState", state)
            return state

        return self.store.transaction(work)


def binding_view(port: Obj) -> Obj:
    return {"hostId": port["hostId"], "portId": port["id"], "interfaceName": port["interfaceName"]}


def member_view(tz: Obj, host_id: str) -> Obj:
    for m in tz["tzHosts"]:
        if m["hostId"] == host_id:
            return {"tunnelZoneId": tz["id"], "hostId": host_id, "ipAddress": m["ipAddress"]}
    raise errors.NotFound("tunnel zone member", f"{tz['id']}/{host_id}")


def _client_id(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise errors.InvalidInput("id", f"{value!r} is not a UUID") from None


def _check_refs(txn: Txn, kind: str, obj: Obj) -> None:
    """Every uuid field that names another object must name an existing one."""
    for name, f in KINDS[kind].items():
        if f.ref is None or not (f.create or f.update) or f.kind not in ("uuid", "uuids"):
            continue
        value = obj.get(name)
        for ref_id in value if isinstance(value, list) else [value]:
            if ref_id and txn.get(f.ref, ref_id) is None:
                raise errors.InvalidInput(name, f"{f.ref} {ref_id} does not exist")


# -- per-kind create/update hooks ------------------------------------------------------------

def _create_port(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    device = None
    for kind in DEVICE_KINDS:
        device = txn.get(kind, parent_id)
        if device is not None:
            obj["type"] = "Bridge" if kind == "bridge" else "Router"
            break
    if device is None:
        raise errors.NotFound("device", parent_id)
    obj["deviceId"] = device["id"]
    _check_port_fields(obj)
    if obj["type"] == "Router":
        _normalise_router_port(obj)
        _add_port_routes(txn, obj)


ROUTER_PORT_FIELDS = ("portAddress", "networkAddress", "networkLength", "portMac")


def _check_port_fields(port: Obj) -> None:
    if port["type"] == "Bridge":
        for name in ROUTER_PORT_FIELDS:
            if port.get(name) is not None:
                raise errors.InvalidInput(name, "only router ports have addresses")
    elif port.get("vlanId") is not None:
        raise errors.InvalidInput("vlanId", "only bridge ports have a VLAN")


def _update_port(txn: Txn, old: Obj, obj: Obj) -> None:
    _check_port_fields(obj)
    if obj["type"] != "Router":
        return
    moved = any(old.get(k) != obj.get(k) for k in ("portAddress", "networkLength"))
    if moved and old.get("networkAddress") == obj.get("networkAddress"):
        obj["networkAddress"] = None  # follows the new address unless given explicitly
    _normalise_router_port(obj)
    keys = ("portAddress", "networkAddress", "networkLength")
    if any(old.get(k) != obj.get(k) for k in keys):
        for route in txn.list_by("route", "nextHopPort", obj["id"]):
            if route["weight"] == 0 and _is_port_route(route, old):
                txn.delete("route", route["id"])
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


def _is_port_route(route: Obj, port: Obj) -> bool:
    own = (route["dstNetworkAddr"], route["dstNetworkLength"])
    return own in ((port.get("portAddress"), 32),
                   (port.get("networkAddress"), port.get("networkLength")))


def _add_port_routes(txn: Txn, port: Obj) -> None:
    """The routes MidoNet gives every router port: its own /32 and its subnet, both via it."""
    targets = [(port["portAddress"], 32)]
    if port["networkLength"] != 32:
        targets.append((port["networkAddress"], port["networkLength"]))
    for addr, length in targets:
        route = defaults("route")
        route.update(id=new_id(), routerId=port["deviceId"], dstNetworkAddr=addr,
                     dstNetworkLength=length, nextHopPort=port["id"], weight=0)
        txn.put("route", route)


def _create_route(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    router = txn.get("router", parent_id)
    if router is None:
        raise errors.NotFound("router", parent_id)
    obj["routerId"] = router["id"]
    _check_route(txn, obj)


def _update_route(txn: Txn, old: Obj, obj: Obj) -> None:
    _check_route(txn, obj)


def _check_route(txn: Txn, obj: Obj) -> None:
    for prefix in ("src", "dst"):
        addr, length = obj[f"{prefix}NetworkAddr"], obj[f"{prefix}NetworkLength"]
        net = ipaddress.IPv4Network(f"{addr}/{length}", strict=False)
        obj[f"{prefix}NetworkAddr"] = str(net.network_address)
    port_id = obj.get("nextHopPort")
    if obj["type"] == "Normal" and not port_id:
        raise errors.InvalidInput("nextHopPort", "a normal route needs a next-hop port")
    if port_id:
        port = txn.get("port", port_id)
        if port is None:
            raise errors.InvalidInput("nextHopPort", f"port {port_id} does not exist")
        if port["deviceId"] != obj["routerId"]:
            raise errors.InvalidInput("nextHopPort",
                                      f"port {port_id} is not a port of router {obj['routerId']}")


def _create_rule(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    chain = txn.get("chain", parent_id)
    if chain is None:
        raise errors.NotFound("chain", parent_id)
    obj["chainId"] = chain["id"]
    rules.normalise(obj)
    if obj["type"] == "jump":
        target = txn.get("chain", obj.get("jumpChainId"))
        if target is None:
            raise errors.InvalidInput("jumpChainId",
                                      f"chain {obj.get('jumpChainId')} does not exist")
        if target["id"] == chain["id"]:
            raise errors.InvalidInput("jumpChainId", "a chain cannot jump to itself")
        obj["jumpChainName"] = target.get("name")
    position = data.get("position", 1) if isinstance(data, dict) else 1
    position = rules.check_position(position, len(chain["ruleIds"]))
    chain["ruleIds"].insert(position - 1, obj["id"])
    txn.put("chain", chain)


def _unique_zone_name(txn: Txn, zone: Obj) -> None:
    for other in txn.list("tunnelZone"):
        if other["name"] == zone["name"] and other["id"] != zone["id"]:
            raise errors.Conflict(f"a tunnel zone named {zone['name']!r} already exists")


def _create_tunnel_zone(txn: Txn, zone: Obj, parent_id: str | None, data: Any) -> None:
    _unique_zone_name(txn, zone)


def _update_tunnel_zone(txn: Txn, old: Obj, zone: Obj) -> None:
    _unique_zone_name(txn, zone)
    if zone["hostIds"] and old["type"] != zone["type"]:
        raise errors.Conflict("the type of a tunnel zone that has members cannot change")


_CREATORS = {"port": _create_port, "route": _create_route, "rule": _create_rule,
             "tunnelZone": _create_tunnel_zone}
_UPDATERS = {"port": _update_port, "route": _update_route, "tunnelZone": _update_tunnel_zone}


# -- deletion with referential integrity -----------------------------------------------------

def delete_cascade(txn: Txn, kind: str, obj_id: str) -> None:
    """Delete an object and everything that cannot exist without it."""
    obj = txn.get(kind, obj_id)
    if obj is None:
        return
    if kind in DEVICE_KINDS:
        for port in txn.list_by("port", "deviceId", obj_id):
            delete_cascade(txn, "port", port["id"])
        if kind == "router":
            for route in txn.list_by("route", "routerId", obj_id):
                txn.delete("route", route["id"])
    elif kind == "port":
        _unlink(txn, obj)
        for route in txn.list_by("route", "nextHopPort", obj_id):
            txn.delete("route", route["id"])
        for pg in txn.list_by("portGroup", "portIds", obj_id):
            pg["portIds"].remove(obj_id)
            txn.put("portGroup", pg)
    elif kind == "chain":
        _delete_chain(txn, obj)
    elif kind == "rule":
        chain = txn.get("chain", obj["chainId"])
        if chain is not None and obj_id in chain["ruleIds"]:
            chain["ruleIds"].remove(obj_id)
            txn.put("chain", chain)
    elif kind in ("portGroup", "ipAddrGroup"):
        _refuse_if_used_by_rules(txn, kind, obj_id)
    elif kind == "host":
        _delete_host(txn, obj)
    txn.delete(kind, obj_id)


def _unlink(txn: Txn, port: Obj) -> None:
    peer_id = port.get("peerId")
    if not peer_id:
        return
    peer = txn.get("port", peer_id)
    if peer is not None and peer.get("peerId") == port["id"]:
        peer["peerId"] = None
        txn.put("port", peer)
    port["peerId"] = None
    txn.put("port", port)


def _delete_chain(txn: Txn, chain: Obj) -> None:
    chain_id = chain["id"]
    for rule_id in chain["ruleIds"]:
        txn.delete("rule", rule_id)
    for jump in txn.list_by("rule", "jumpChainId", chain_id):
        delete_cascade(txn, "rule", jump["id"])
    for kind in CHAIN_USERS:
        for field in ref_fields(kind, "chain"):
            for user in txn.list_by(kind, field, chain_id):
                user[field] = None
                txn.put(kind, user)


def _refuse_if_used_by_rules(txn: Txn, kind: str, obj_id: str) -> None:
    users = []
    for field in ref_fields("rule", kind):
        users += [r["id"] for r in txn.list_by("rule", field, obj_id)]
    if users:
        raise errors.Conflict(f"{kind} {obj_id} is used by rule(s) {', '.join(users)}; "
                              "delete those rules first")


def _delete_host(txn: Txn, host: Obj) -> None:
    alive_key = txn.store.key_state(f"alive:{host['id']}")
    if txn.pipe.exists(alive_key):
        raise errors.Conflict(f"host {host['id']} is alive; only an inactive host can be deleted")
    bound = txn.ids_by("port", "hostId", host["id"])
    if bound:
        raise errors.Conflict(f"host {host['id']} has {len(bound)} port binding(s); "
                              "unbind them first")
    for tz in txn.list_by("tunnelZone", "hostIds", host["id"]):
        _drop_member(tz, host["id"])
        txn.put("tunnelZone", tz)


def _drop_member(tz: Obj, host_id: str) -> None:
    tz["tzHosts"] = [m for m in tz["tzHosts"] if m["hostId"] != host_id]
    tz["hostIds"] = [h for h in tz["hostIds"] if h != host_id]
