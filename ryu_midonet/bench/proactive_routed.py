"""Pre-computing flows through a provider router: how fast the proactive compiler goes.

``python -m ryu_midonet.bench.proactive_routed [TENANTS VMS MAX_PER_PORT]`` (default 20 5
256) builds a provider router and TENANTS tenants on one provider bridge, each a router and
a bridge of VMS VMs bound on this host, every VM's MAC and address known; compiles every
port once (most flows cross three routers: the tenant's, the provider, the other tenant's)
and prints flows and pre-simulations per second; then announces one new address behind a
tenant router and prints how long compiling the ports concerned again takes.
"""

from __future__ import annotations

import sys
import time

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.proactive import Compiler
from ryu_midonet.builders.topology import TopologyBuilder
from ryu_midonet.datapath.flows import FlowSpec
from ryu_midonet.sim.state import State, arp_tag

HOST = "hostA"


def provider(tenants: int, vms: int) -> tuple[TopologyBuilder, State, dict[str, int]]:
    """The topology, its filled tables, and the local ports' OpenFlow numbers."""
    b = TopologyBuilder()
    state = State.in_memory(clock=lambda: 1000.0)
    r0, pub = b.router("r0"), b.bridge("pub")
    up0 = b.router_port(r0, "100.64.0.1/16", "02:00:00:00:00:01")
    b.link(b.bridge_port(pub, host=None), up0)
    ofports: dict[str, int] = {}
    for t in range(tenants):
        hi, lo = divmod(t, 256)
        router, bridge = b.router(f"r{t + 1}"), b.bridge(f"b{t}")
        b.link(b.bridge_port(bridge, host=None),
               b.router_port(router, f"10.{hi}.{lo}.1/24", f"02:01:00:00:{hi:02x}:{lo:02x}"))
        up = b.router_port(router, f"100.64.{1 + hi}.{lo}/16", f"02:02:00:00:{hi:02x}:{lo:02x}")
        b.link(b.bridge_port(pub, host=None), up)
        b.route(router, "0.0.0.0/0", up, gw="100.64.0.1")
        b.route(r0, f"10.{hi}.{lo}.0/24", up0, gw=up["portAddress"])
        for v in range(vms):
            port = b.bridge_port(bridge, host=HOST)
            mac = f"02:03:{hi:02x}:{lo:02x}:00:{v:02x}"
            state.macs.learn(bridge["id"], mac, None, port["id"])
            state.arps.put(router["id"], f"10.{hi}.{lo}.{10 + v}", mac)
            ofports[port["id"]] = len(ofports) + 1
    b._put("tunnelZone", "tz", name="tz", type="vxlan", hostIds=[HOST],
           tzHosts=[{"hostId": HOST, "ipAddress": "192.0.2.1"}])
    for key, port in enumerate(b.objects["port"].values(), start=1):
        port["tunnelKey"] = key
    return b, state, ofports


def main(argv: list[str]) -> None:
    tenants, vms, most = (int(a) for a in (argv + ["20", "5", "256"][len(argv):])[:3])
    b, state, ofports = provider(tenants, vms)
    compiler = Compiler(b.view(), state, FlowIndex(), HOST, ofports, {"vxlan": 100},
                        max_per_port=most)
    compiler.everything()
    start = time.perf_counter()
    flows = [m for m in compiler.compile() if isinstance(m, FlowSpec)]
    took = time.perf_counter() - start
    routers: dict[int, int] = {}
    for flow in flows:
        n = sum(1 for a in flow.actions if a.kind == "dec_ttl")
        routers[n] = routers.get(n, 0) + 1
    print(f"{tenants} tenants x {vms} VMs, at most {most} flows a port: {len(ofports)} ports,"
          f" {len(flows)} flows (by routers crossed: {dict(sorted(routers.items()))}),"
          f" {compiler.simulations} pre-simulations in {took:.2f} s:"
          f" {len(flows) / took:.0f} flows/s")
    state.arps.put("r1", "10.0.0.99", "02:03:00:00:00:99")
    compiler.state_changed(arp_tag("r1", "10.0.0.99"))
    start = time.perf_counter()
    again = sum(1 for m in compiler.compile() if isinstance(m, FlowSpec))
    print(f"one new address behind r1: {again} flows in"
          f" {(time.perf_counter() - start) * 1000:.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
