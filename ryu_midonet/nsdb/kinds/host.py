"""Hosts: registered by their agents, with liveness, interfaces and port bindings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field
from ryu_midonet.nsdb.ids import client_id
from ryu_midonet.nsdb.kinds.tunnel_zone import drop_member
from ryu_midonet.nsdb.ops import Ops
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

ALIVE_TTL_MS = 5000


def _delete(txn: Txn, host: Obj) -> None:
    alive_key = txn.store.key_state(f"alive:{host['id']}")
    if txn.pipe.exists(alive_key):
        raise errors.Conflict(f"host {host['id']} is alive; only an inactive host can be deleted")
    bound = txn.ids_by("port", "hostId", host["id"])
    if bound:
        raise errors.Conflict(f"host {host['id']} has {len(bound)} port binding(s); "
                              "unbind them first")
    for tz in txn.list_by("tunnelZone", "hostIds", host["id"]):
        drop_member(tz, host["id"])
        txn.put("tunnelZone", tz)


SPEC = KindSpec(
    "host",
    {
        "name": Field("str", create=False),
        "addresses": Field("strs", [], create=False, update=False),
        "interfaces": Field("any", [], create=False, update=False),
        "floodingProxyWeight": Field("int", 1, lo=0, hi=65535, nullable=False),
        "containerWeight": Field("int", 1, lo=0, hi=65535, nullable=False),
        "containerLimit": Field("int", -1, lo=-1, hi=65535, nullable=False),  # -1: no limit
        "enforceContainerLimit": Field("bool", False, nullable=False),
    },
    creatable=False,
    on_delete=_delete,
)


def binding_view(port: Obj) -> Obj:
    return {"hostId": port["hostId"], "portId": port["id"], "interfaceName": port["interfaceName"]}


class Hosts(Ops):
    """Host registration and liveness (written by agents)."""

    def register_host(self, host_id: str, name: str, addresses: list[str] | None = None,
                      interfaces: list[Obj] | None = None) -> Obj:
        checked = client_id(host_id)

        def work(txn: Txn) -> Obj:
            host = txn.get("host", checked) or {**SPEC.new(), "id": checked}
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


class Bindings(Ops):
    """Ports bound to interfaces of hosts."""

    def bind(self, host_id: str, port_id: Any, interface_name: Any) -> Obj:
        if not isinstance(port_id, str):
            raise errors.InvalidInput("portId", "must be a port UUID")
        port_id = client_id(port_id, "portId")
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
