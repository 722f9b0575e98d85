"""A tenant network for NAT tests: two VMs on a bridge behind a router with an uplink.

    vm1 10.0.0.11, vm2 10.0.0.12 --[br]-- br:up ~ r:in 10.0.0.1/24
                                        router r   r:out 198.51.100.1/24 (uplink, default route)

The router's inbound chain is ``pre`` and its outbound chain ``post`` (both empty); the state
knows the VMs' and the upstream gateway's MACs.
"""

from __future__ import annotations

from typing import Any

from ryu_midonet.sim.core.model import Packet
from ryu_midonet.sim.state import State
from tests.support import packets
from tests.support.topology import MemoryTopology

VM1, VM2, RIN, ROUT, FAR = (f"02:00:00:00:00:0{n}" for n in range(1, 6))
GW_IP, REMOTE = "198.51.100.2", "8.8.8.8"


def vms_behind_router(uplink: str) -> tuple[MemoryTopology, dict[str, Any]]:
    """vm1 and vm2 on bridge ``br``, linked to router ``r`` (``r:in`` 10.0.0.1/24), whose
    ``r:out`` port on host ``gw`` has address ``uplink``; returns the builder and ``r:out``."""
    b = MemoryTopology()
    br, r = b.bridge("br"), b.router("r")
    b.bridge_port(br, port_id="vm1")
    b.bridge_port(br, port_id="vm2")
    b.link(b.bridge_port(br, port_id="br:up"),
           b.router_port(r, "10.0.0.1/24", RIN, port_id="r:in"))
    return b, b.router_port(r, uplink, ROUT, host="gw", port_id="r:out")


def tenant() -> MemoryTopology:
    b, up = vms_behind_router("198.51.100.1/24")
    b.route(b.objects["router"]["r"], "0.0.0.0/0", up, gw="198.51.100.254")
    b.chain("pre")
    b.chain("post")
    b.objects["router"]["r"].update(inboundFilterId="pre", outboundFilterId="post")
    return b


def tenant_state() -> State:
    state = State.in_memory()
    state.arps.put("r", "198.51.100.254", FAR)
    state.arps.put("r", "10.0.0.11", VM1)
    state.arps.put("r", "10.0.0.12", VM2)
    state.macs.learn("br", VM1, None, "vm1")
    state.macs.learn("br", VM2, None, "vm2")
    return state


def tcp(src_mac: str, dst_mac: str, src: str, dst: str, sport: int, dport: int,
        **more: Any) -> Packet:
    return packets.tcp(src_mac, dst_mac, src, dst, sport, dport, **more)
