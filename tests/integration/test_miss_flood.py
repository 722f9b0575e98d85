"""A VM opening new flows flat out does not stop the others, on a sandbox of its own (``fld``).

One host, one bridge, three VMs: ``a`` floods frames to ever new destinations (each one a new
flow, hence a packet-in) for 10 s; meanwhile ``b`` opens TCP connections to ``s``, each
from a MAC address it never used before, so that every connection needs new flows of both
``b``'s and ``s``'s ports, hence the agent, while ``a``'s flood goes on. They all complete;
the agent's memory stays bounded; the switch's meter of ``a``'s port dropped part of the
flood, ``b``'s nothing (``ovs-ofctl dump-meters`` / ``meter-stats``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ryu_midonet.bench.flood import FLOOD
from ryu_midonet.bench.section import one_host_sandbox
from ryu_midonet.bench.vmtools import TCP_SERVER, Background, system_python
from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.sandbox import Sandbox
from tests.support.topology import StoreTopology

SANDBOX = one_host_sandbox("fld", 94, ("a", "b", "s"))
FLOOD_SECONDS = 10
CONNECTIONS = 5
PORT = 7500
RSS_LIMIT_KB = 200 * 1024

# Opens argv[3] TCP connections to argv[1]:argv[2], each from a new MAC address of eth0
# (the neighbour cache flushed, so the server learns it); prints what each took.
NEW_MAC_CONNECTIONS = r"""
import json, socket, subprocess, sys, time
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
results = []
for n in range(count):
    # announced (arp_notify): the bridge answers ARP for known addresses itself, so s
    # learns a new MAC of b from b's gratuitous ARP, not from b's requests
    subprocess.run(["sysctl", "-qw", "net.ipv4.conf.eth0.arp_notify=1"], check=True)
    subprocess.run(["ip", "link", "set", "dev", "eth0", "address",
                    "02:00:00:00:95:%02x" % n], check=True)
    subprocess.run(["ip", "neigh", "flush", "dev", "eth0"], check=True)
    start, tries, ok, error = time.monotonic(), 0, False, ""
    while not ok and time.monotonic() - start < 30:
        tries += 1
        try:
            with socket.create_connection((host, port), timeout=5) as c:
                c.settimeout(5)
                c.sendall(b"x")
                ok = c.recv(1) == b"y"
        except OSError as exc:
            error = str(exc)
    results.append({"ok": ok, "tries": tries, "seconds": time.monotonic() - start,
                    "error": "" if ok else error})
print(json.dumps(results))
"""


class Lab:
    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.host = sb.host("h1")
        topo = Topology(Store.from_url(sb.redis_url))
        build = StoreTopology(topo)
        zone = topo.create("tunnelZone", {"name": "fld", "type": "vxlan"})
        topo.add_tunnel_zone_member(zone["id"], self.host.host_id, self.host.underlay_ip)
        bridge = build.bridge("fld")
        self.keys: dict[str, int] = {}
        for vm in ("a", "b", "s"):
            port = build.port(bridge)
            build.bind(port, self.host.host_id, f"rm-{vm}-tap")
            self.keys[vm] = int(topo.get("port", port["id"])["tunnelKey"])

    def agent_status(self, field: str) -> int:
        """A ``/proc/<pid>/status`` figure of the agent (kB)."""
        pid = int((Path(self.host.run_dir) / "agent.pid").read_text().split()[0])
        status = Path(f"/proc/{pid}/status").read_text()
        found = re.search(rf"^{field}:\s+(\d+) kB", status, re.M)
        assert found is not None, status
        return int(found.group(1))

    def meter_drops(self) -> dict[int, int]:
        """Packets each meter's band dropped, by meter id."""
        text = str(self.host.ofctl("meter-stats", self.host.bridge))
        drops: dict[int, int] = {}
        for block in re.split(r"(?=meter:)", text)[1:]:
            meter = re.match(r"meter:(\d+)", block)
            band = re.search(r"0: packet_count:(\d+)", block)
            assert meter is not None and band is not None, block
            drops[int(meter.group(1))] = int(band.group(1))
        return drops


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with Sandbox.from_yaml(SANDBOX, tmp_path_factory.mktemp("fld")) as sb:
        yield Lab(sb)


def test_new_connections_of_one_vm_complete_while_another_floods_new_flows(lab: Lab) -> None:
    a, b, s = (lab.sb.vm(name) for name in ("a", "b", "s"))
    assert b.wait_ping(s.ip, timeout=30), "the bridge never carried b's ping to s"
    meters = str(lab.host.ofctl("dump-meters", lab.host.bridge))
    assert {int(m) for m in re.findall(r"meter=(\d+)", meters)} == set(lab.keys.values())

    with Background.script(s, TCP_SERVER, [str(PORT), "1000", "120"]) as server, \
            Background.script(a, FLOOD, [str(FLOOD_SECONDS)]) as flood:
        assert server.wait_line(10) == "ready"
        time.sleep(1)  # the flood is on
        done = b.exec([system_python(), "-c", NEW_MAC_CONNECTIONS, s.ip, str(PORT),
                       str(CONNECTIONS)], timeout=CONNECTIONS * 35)
        assert done.returncode == 0, done.stderr
        flooded = json.loads(flood.communicate(FLOOD_SECONDS + 10))

    connections = json.loads(done.stdout)
    assert [c["ok"] for c in connections] == [True] * CONNECTIONS, connections
    assert flooded["sent"] > 10_000  # a flood indeed
    # a's meter dropped what the agent would not have had time for; b's dropped nothing
    drops = lab.meter_drops()
    assert drops[lab.keys["a"]] > 0 and drops[lab.keys["b"]] == 0, drops
    peak = lab.agent_status("VmHWM")  # the agent's peak resident memory
    print(f"flood: {flooded['sent']} frames sent, meter drops {drops}; agent peak RSS "
          f"{peak // 1024} MB; b's connections: {connections}")
    assert peak < RSS_LIMIT_KB


def test_the_meters_are_created_again_when_the_agent_reconnects(lab: Lab) -> None:
    """Open vSwitch keeps meters when its controller goes; the agent that connects removes
    them with the flows and creates them again, without an error from the switch."""
    log = Path(lab.host.run_dir) / "ovs-vswitchd.log"
    seen = len(log.read_text(errors="replace"))
    lab.sb.stop_agent("h1", kill=True)
    assert "meter=" in str(lab.host.ofctl("dump-meters", lab.host.bridge))  # still there
    lab.sb.start_agent("h1")
    b, s = lab.sb.vm("b"), lab.sb.vm("s")
    assert b.wait_ping(s.ip, timeout=30)
    meters = str(lab.host.ofctl("dump-meters", lab.host.bridge))
    assert {int(m) for m in re.findall(r"meter=(\d+)", meters)} == set(lab.keys.values())
    misses = str(lab.host.ofctl("dump-flows", lab.host.bridge, "table=1"))
    for key in lab.keys.values():
        assert f"cookie={0x0400000000000000 | key:#x}," in misses, misses
        assert f"meter:{key}," in misses, misses
    errors = [line for line in log.read_text(errors="replace")[seen:].splitlines()
              if "error reply" in line]
    assert errors == []
