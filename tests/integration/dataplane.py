"""A two-host sandbox with agents, and helpers to build virtual topologies on it.

Hosts h1 and h2 are joined by VXLAN. VMs (namespaces) and what they are for:

======  ====  ================  ==========================================================
vm      host  address           use
======  ====  ================  ==========================================================
vm1     h1    10.0.0.11/24      the usual sender
vm2     h2    10.0.0.12/24      same subnet, other host
vm3     h1    10.0.0.13/24      same subnet, same host
vm4     h2    10.0.1.14/24      behind a router
vm5     h2    10.0.2.15/24      behind a second router
vm6     h1    10.0.0.16/24      migrates to vm6b (same MAC and address) on h2
vm6b    h2    10.0.0.16/24
======  ====  ================  ==========================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.sandbox import Sandbox
from tests.support.topology import StoreTopology


def _vm(name: str, host: str, ip: str, gateway: str, mac: str) -> dict[str, str]:
    return {"name": name, "host": host, "interface": f"rm-{name}-tap", "mac": mac, "ip": ip,
            "gateway": gateway}


SANDBOX = {
    "name": "dp",
    "tunnel": "vxlan",
    "underlay": {"cidr": "10.99.0.0/24"},
    "hosts": [{"name": "h1", "underlay_ip": "10.99.0.1"},
              {"name": "h2", "underlay_ip": "10.99.0.2"}],
    "vms": [
        _vm("vm1", "h1", "10.0.0.11/24", "10.0.0.1", "02:00:00:00:00:11"),
        _vm("vm2", "h2", "10.0.0.12/24", "10.0.0.1", "02:00:00:00:00:12"),
        _vm("vm3", "h1", "10.0.0.13/24", "10.0.0.1", "02:00:00:00:00:13"),
        _vm("vm4", "h2", "10.0.1.14/24", "10.0.1.1", "02:00:00:00:00:14"),
        _vm("vm5", "h2", "10.0.2.15/24", "10.0.2.1", "02:00:00:00:00:15"),
        _vm("vm6", "h1", "10.0.0.16/24", "10.0.0.1", "02:00:00:00:00:16"),
        _vm("vm6b", "h2", "10.0.0.16/24", "10.0.0.1", "02:00:00:00:00:16"),
    ],
    "api": True,
    "agent": "default",
}
# the miss flows' cookies: the table-miss flow (0x0400000000000000, printed without the
# leading zero) and each local port's (0x04 then its tunnel key)
MISS_COOKIE = r"cookie=0x4[0-9a-f]{14},"


class Net:
    """The sandbox plus the topology store, with undo of everything a test built."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.topo = Topology(Store.from_url(sb.redis_url))
        self.build = StoreTopology(self.topo)
        self._made: list[tuple[str, str]] = []
        zone = self.topo.create("tunnelZone", {"name": "sandbox", "type": "vxlan"})
        for name in ("h1", "h2"):
            host = sb.host(name)
            self.topo.add_tunnel_zone_member(zone["id"], host.host_id, host.underlay_ip)

    # -- building --------------------------------------------------------------------------
    def _keep(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        self._made.append((kind, obj["id"]))
        return obj

    def bridge(self, name: str) -> dict[str, Any]:
        return self._keep("bridge", self.build.bridge(name))

    def router(self, name: str) -> dict[str, Any]:
        return self._keep("router", self.build.router(name))

    def plug(self, bridge: dict[str, Any], vm: str) -> dict[str, Any]:
        """A bridge port bound to ``vm``'s interface on its host."""
        port = self.build.port(bridge)
        self.bind(port, vm)
        return port

    def bind(self, port: dict[str, Any], vm: str) -> None:
        spec = next(v for v in SANDBOX["vms"] if v["name"] == vm)
        self.build.bind(port, self.sb.host(spec["host"]).host_id, spec["interface"])

    def router_port(self, router: dict[str, Any], cidr: str) -> dict[str, Any]:
        return self.build.port(router, cidr)

    def attach(self, router: dict[str, Any], cidr: str, bridge: dict[str, Any]
               ) -> dict[str, Any]:
        """A router port on ``cidr`` linked to a new port of ``bridge``."""
        rport = self.router_port(router, cidr)
        self.build.link(rport, self.build.port(bridge))
        return rport

    def route(self, router: dict[str, Any], dst: str, port: dict[str, Any] | None = None,
              gw: str | None = None, kind: str = "Normal", weight: int = 100
              ) -> dict[str, Any]:
        return self.build.route(router, dst, port, gw=gw, type=kind, weight=weight)

    def cleanup(self) -> None:
        for kind, obj_id in reversed(self._made):
            try:
                self.topo.delete(kind, obj_id)
            except Exception:  # noqa: BLE001 - already gone with its parent
                pass
        self._made.clear()
        for vm in self.sb.vms.values():
            vm.exec(["ip", "neigh", "flush", "all"])

    # -- observing -------------------------------------------------------------------------
    def ping(self, vm: str, ip: str, count: int = 1, timeout: float = 2.0) -> str:
        done = self.sb.vm(vm).exec(["ping", "-n", "-c", str(count), "-i", "0.2", "-W",
                                    str(timeout), ip])
        return str(done.stdout) + str(done.stderr)

    def pings(self, vm: str, ip: str, timeout: float = 15.0) -> bool:
        ok = self.sb.vm(vm).wait_ping(ip, timeout=timeout)
        if not ok:  # say what the switches and agents did, for the failure report
            for host in ("h1", "h2"):
                print(f"--- {host} flows", *self.flows(host), sep="\n")
                log = Path(self.sb.host(host).run_dir) / "agent.log"
                print(f"--- {host} agent log", log.read_text()[-4000:], sep="\n")
        return ok

    def flows(self, host: str, table: int | None = None) -> list[str]:
        args = ["dump-flows", self.sb.host(host).bridge]
        if table is not None:
            args.append(f"table={table}")
        out = self.sb.host(host).ofctl(*args)
        text = out if isinstance(out, str) else str(out.stdout)
        return [line.strip() for line in text.splitlines() if "cookie=" in line]

    def misses(self, host: str) -> int:
        """Packets that reached the agent (the flow table's miss flows: the table-miss flow
        and each local port's own)."""
        counts = [int(re.search(r"n_packets=(\d+)", line).group(1))
                  for line in self.flows(host, 1) if re.match(MISS_COOKIE, line)]
        if not counts:
            raise AssertionError(f"no table-miss flow on {host}")
        return sum(counts)


def start(run_dir: Path) -> Iterator[Net]:
    with Sandbox.from_yaml(SANDBOX, run_dir) as sb:
        net = Net(sb)
        yield net
