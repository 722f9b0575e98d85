"""How one pool's probes reach its members through the load balancer's router.

As MidoNet did for its HAProxy namespaces, the pool gets a port of the router (id derived
from the pool's, so every host finds it) with a /30 of :data:`LINK_NET`: the router side
takes its first address, the namespace (``<prefix>hm-<id>``, a veth whose outside end
``<prefix>h<id>`` the port is bound to on the probing host) takes the second and routes
through the router. Probes are then forwarded like any VM's traffic: the router routes them
to the members, and the members' replies come back to the port, wherever it is bound.

The pools that ever had such a port are recorded in the set ``{p}:state:hmports`` (key family
of this module), so a port left behind by a pool that lost its monitor while its probing host
was down is found and removed.
"""

from __future__ import annotations

import ipaddress
import logging
import uuid
import zlib
from pathlib import Path
from typing import Any

from ryu_midonet.bgp import netns
from ryu_midonet.nsdb import errors

LOG = logging.getLogger(__name__)

LINK_NET = ipaddress.IPv4Network("169.254.100.0/24")
BLOCK = 30
_PORT_IDS = uuid.UUID("5d2e7d0c-4a8b-4f44-9a3e-6c1b2f0e8a10")
REGISTRY = "hmports"


def port_id(pool_id: str) -> str:
    """The id of the router port through which ``pool_id`` is probed."""
    return str(uuid.uuid5(_PORT_IDS, pool_id))


def names(prefix: str, pool_id: str) -> netns.Names:
    short = pool_id.replace("-", "")[:8]
    return netns.Names(f"{prefix}hm-{short}", f"{prefix}h{short}", f"{prefix}i{short}")


def inside_mac(pool_id: str) -> str:
    digest = uuid.uuid5(_PORT_IDS, "mac:" + pool_id).bytes
    return "0a:" + ":".join(f"{b:02x}" for b in digest[:5])


def pick_block(pool_id: str, taken: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    """A /30 of :data:`LINK_NET` that overlaps none of ``taken`` (the router's other port
    subnets), starting from one derived from the pool's id."""
    blocks = list(LINK_NET.subnets(new_prefix=BLOCK))
    start = zlib.crc32(pool_id.encode()) % len(blocks)
    for i in range(len(blocks)):
        block = blocks[(start + i) % len(blocks)]
        if not any(block.overlaps(net) for net in taken):
            return block
    raise errors.Conflict(f"no free /{BLOCK} in {LINK_NET} for pool {pool_id}")


def port_network(port: dict[str, Any]) -> ipaddress.IPv4Interface | None:
    try:
        return ipaddress.IPv4Interface(f"{port['portAddress']}/{port['networkLength']}")
    except (KeyError, TypeError, ValueError):
        return None


class Wiring:
    """The router port, namespace and binding of one pool probed from this host."""

    def __init__(self, topo: Any, host_id: str, prefix: str, pool_id: str, router_id: str,
                 bridge: str = "br-int", ovsdb: str | None = None,
                 run: netns.Run | None = None) -> None:
        self.topo = topo
        self.host_id = host_id
        self.pool_id = pool_id
        self.router_id = router_id
        self.names = names(prefix, pool_id)
        kwargs = {} if run is None else {"run": run}
        self.ns = netns.Namespace(self.names, bridge, ovsdb, **kwargs)
        self._fresh = True

    @property
    def port_id(self) -> str:
        return port_id(self.pool_id)

    def up(self) -> bool:
        """Make (or repair) the port, the namespace and the binding; whether all are there."""
        port = self._port()
        iface = port_network(port) if port is not None else None
        if port is None or iface is None:
            return False
        if self._fresh and not Path(f"/sys/class/net/{self.names.outside}").exists():
            # what a killed agent left: a userspace switch would keep reading the lost device
            # of a port of that name, so the port goes before the veth is made again
            self.ns.remove()
        self._fresh = False
        inside = ipaddress.IPv4Interface(f"{iface.network.network_address + 2}/{BLOCK}")
        self.ns.make(inside_mac(self.pool_id), str(inside.ip), BLOCK, str(iface.ip))
        if port.get("hostId") != self.host_id or port.get("interfaceName") != self.names.outside:
            try:
                self.topo.bind(self.host_id, port["id"], self.names.outside)
            except Exception as exc:  # noqa: BLE001 - tried again at the next poll
                LOG.warning("health monitor port of pool %s not bound: %s", self.pool_id, exc)
                return False
        return True

    def _port(self) -> dict[str, Any] | None:
        """The pool's router port, created on the router when missing (or on another
        router: the load balancer moved)."""
        pid = self.port_id
        try:
            port = self.topo.store.get("port", pid)
            if port is not None and port.get("deviceId") != self.router_id:
                self.topo.delete("port", pid)
                port = None
            if port is not None:
                return dict(port)
            self.topo.store.redis.sadd(self.topo.store.key_state(REGISTRY), self.pool_id)
            taken = [n.network for n in (port_network(p) for p in
                     self.topo.list("port", "deviceId", self.router_id)) if n is not None]
            block = pick_block(self.pool_id, taken)
            created: dict[str, Any] = self.topo.create("port", {
                "id": pid, "portAddress": str(block.network_address + 1),
                "networkLength": BLOCK}, self.router_id)
            LOG.info("router %s has port %s (%s) to probe pool %s", self.router_id, pid,
                     block, self.pool_id)
            return created
        except errors.Conflict:
            return None  # created meanwhile by another host: read again at the next poll
        except Exception as exc:  # noqa: BLE001 - tried again at the next poll
            LOG.warning("health monitor port of pool %s not made: %s", self.pool_id, exc)
            return None

    def down(self) -> None:
        """Remove the namespace (the port stays, for the next prober to bind)."""
        self.ns.remove()


def remove_port(topo: Any, pool_id: str) -> bool:
    """Delete ``pool_id``'s router port and forget it; whether that is done."""
    try:
        if topo.store.get("port", port_id(pool_id)) is not None:
            topo.delete("port", port_id(pool_id))
        topo.store.redis.srem(topo.store.key_state(REGISTRY), pool_id)
    except errors.NotFound:
        pass
    except Exception as exc:  # noqa: BLE001 - tried again later
        LOG.warning("health monitor port of pool %s not removed: %s", pool_id, exc)
        return False
    return True


def registered(topo: Any) -> set[str]:
    """The pools that may have left a router port behind."""
    try:
        found = topo.store.redis.smembers(topo.store.key_state(REGISTRY))
    except Exception:  # noqa: BLE001 - the next poll reads again
        return set()
    return {m.decode() if isinstance(m, bytes) else str(m) for m in found}
