"""Memory the agent keeps per cached flow: floods on bridges of 3 and 100 ports.

``python -m ryu_midonet.bench.flowsize [PORTS ...]`` simulates, for each bridge size, 2,000
frames from one port to as many unknown destinations (each a flood, each its own flow), the
way the agent's packet handler does, and prints the bytes the agent holds per flow afterwards
(its flow index: the flow's tags and the reverse entries; measured with ``tracemalloc``).
Ids are UUIDs, as the store gives them; half of the ports are on this host, half elsewhere.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
import uuid

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import PacketHandler
from ryu_midonet.builders.topology import TopologyBuilder
from ryu_midonet.datapath import packets
from ryu_midonet.sim.core.model import Packet
from ryu_midonet.sim.state import State

FLOWS = 2000
HERE, THERE = "host-here", "host-there"


def _uuid() -> str:
    return str(uuid.uuid4())


def bytes_per_flow(ports: int, flows: int = FLOWS) -> tuple[float, int]:
    """Bytes held per flood flow on a bridge of ``ports`` ports, and tags per flow."""
    b = TopologyBuilder()
    bridge = b.bridge(_uuid())
    zone = b._put("tunnelZone", _uuid(), name="tz", type="vxlan", hostIds=[HERE, THERE],
                  tzHosts=[{"hostId": HERE, "ipAddress": "10.0.0.1"},
                           {"hostId": THERE, "ipAddress": "10.0.0.2"}])
    assert zone
    ofports: dict[str, int] = {}
    for n in range(ports):
        port = b.bridge_port(bridge, host=HERE if n % 2 == 0 else THERE, port_id=_uuid(),
                             tunnelKey=n + 1, interfaceName=f"tap{n}")
        if n % 2 == 0:
            ofports[port["id"]] = n + 1
    ingress = next(iter(ofports))
    index = FlowIndex()
    handler = PacketHandler(b.view(), State.in_memory(), index, HERE, ofports, {"vxlan": 1000})

    def flood(n: int) -> None:
        packet = Packet(eth_src="02:00:00:00:00:01", eth_dst=f"02:01:00:{n >> 16 & 255:02x}:"
                        f"{n >> 8 & 255:02x}:{n & 255:02x}", eth_type=0x88B5)
        handler.handle(ingress, ofports[ingress], packet, packets.build(packet))

    flood(0)  # what the first packet creates once (the learned source, caches)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for n in range(1, flows + 1):
        flood(n)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    tags = sum(len(t) for t in index._tags_of.values()) // len(index)
    return (after - before) / flows, tags


def main(argv: list[str] | None = None) -> None:
    sizes = [int(a) for a in (argv if argv is not None else sys.argv[1:])] or [3, 100]
    for ports in sizes:
        per_flow, tags = bytes_per_flow(ports)
        print(f"bridge of {ports} ports: {per_flow:.0f} bytes per flood flow "
              f"({tags} tags each)")


if __name__ == "__main__":
    main()
