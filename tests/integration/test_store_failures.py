"""The cloud survives its store: Redis restarts, crashes, outages and data loss under traffic.

Two hosts with agents; long-lived TCP connections from vm1 (h1) to a VM on the same bridge and
host (vm2), on the same bridge on the other host (vm3), behind the router on the same host
(vm4) and behind the router on the other host (vm5), plus a new connection every 0.5 s. Each
test breaks something and checks that no established connection broke, that new connections
work again within 5 s of the store's return, and that hosts are registered and alive again
without anybody restarting an agent.

The tests share one sandbox and run in file order; the last one leaves the store empty.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.sandbox import Sandbox
from tests.integration.cli_guide_helpers import Cli
from tests.integration.rest_call import call
from tests.integration.traffic import EchoServers, Probe, Report
from tests.support import credentials
from tests.support.topology import StoreTopology
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def _vm(name: str, host: str, ip: str, gateway: str, mac: str) -> dict[str, str]:
    return {"name": name, "host": host, "interface": f"rm-flt{name[-1]}-tap", "mac": mac,
            "ip": ip, "gateway": gateway}


SANDBOX = {
    "name": "flt",
    "tunnel": "vxlan",
    "underlay": {"cidr": "10.99.0.0/24"},
    "hosts": [{"name": "h1", "underlay_ip": "10.99.0.1"},
              {"name": "h2", "underlay_ip": "10.99.0.2"}],
    "vms": [
        _vm("vm1", "h1", "10.0.0.11/24", "10.0.0.1", "02:00:00:00:0f:11"),
        _vm("vm2", "h1", "10.0.0.12/24", "10.0.0.1", "02:00:00:00:0f:12"),
        _vm("vm3", "h2", "10.0.0.13/24", "10.0.0.1", "02:00:00:00:0f:13"),
        _vm("vm4", "h1", "10.0.1.14/24", "10.0.1.1", "02:00:00:00:0f:14"),
        _vm("vm5", "h2", "10.0.1.15/24", "10.0.1.1", "02:00:00:00:0f:15"),
    ],
    "api": True,
    "agent": "default",
}
TARGETS = ["10.0.0.12", "10.0.0.13", "10.0.1.14", "10.0.1.15"]
NEW_CONNECTIONS_BACK = 5.0  # seconds after the store returns


class Cloud:
    """The sandbox, its topology and the checks every test makes."""

    def __init__(self, sb: Sandbox, spec: dict[str, Any]) -> None:
        self.sb = sb
        self.spec = spec
        self.topo = Topology(Store.from_url(sb.redis_url))
        credentials.remember_sandbox(sb)
        self.objects: list[tuple[str, str]] = []

    def build(self) -> None:
        topo = self.topo
        zone = topo.create("tunnelZone", {"name": "overlay", "type": "vxlan"})
        for name in ("h1", "h2"):
            host = self.sb.host(name)
            topo.add_tunnel_zone_member(zone["id"], host.host_id, host.underlay_ip)
        build = StoreTopology(topo)
        router = build.router("edge")
        for cidr, vms in (("10.0.0.1/24", ("vm1", "vm2", "vm3")),
                          ("10.0.1.1/24", ("vm4", "vm5"))):
            bridge = build.bridge(f"net-{cidr}")
            build.link(build.port(router, cidr), build.port(bridge))
            for vm in vms:
                spec = next(v for v in self.spec["vms"] if v["name"] == vm)
                build.bind(build.port(bridge), self.sb.host(spec["host"]).host_id,
                           spec["interface"])
        for ip in TARGETS:
            assert self.sb.vm("vm1").wait_ping(ip, timeout=20), f"vm1 cannot reach {ip}"

    def probe(self) -> Probe:
        return Probe(self.sb.vm("vm1"), TARGETS)

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return call(method, f"{self.sb.api_url}{path}", body)

    def hosts_alive(self) -> bool:
        try:
            hosts = {h["id"]: h for h in self.topo.store.list("host")}
            return all(h.host_id in hosts and self.topo.is_alive(h.host_id)
                       for h in self.sb.hosts.values())
        except Exception:  # noqa: BLE001 - the store may still be coming back
            return False

    def agent_pids(self) -> dict[str, int]:
        return {name: int((Path(h.run_dir) / "agent.pid").read_text())
                for name, h in self.sb.hosts.items()}

    def plugged(self, host: str) -> set[str]:
        out = self.sb.host(host).vsctl("list-ports", self.sb.host(host).bridge)
        return set(str(out).split())

    def check(self, report: Report, back_at: float) -> None:
        assert report.broken() == [], report.summary()
        assert all(c["echoes"] > 0 for c in report.connections), report.summary()
        took = report.new_ok_after(back_at)
        assert took is not None and took <= NEW_CONNECTIONS_BACK, (took, report.summary())
        assert wait_until(self.hosts_alive, 10), "hosts did not register and beat again"


def cloud_up(spec: dict[str, Any], run_dir: Path) -> Iterator[Cloud]:
    """A sandbox from ``spec`` with the topology built and echo servers in vm2-vm5."""
    with Sandbox.from_yaml(spec, run_dir) as sb:
        c = Cloud(sb, spec)
        c.build()
        servers = EchoServers([sb.vm(n) for n in ("vm2", "vm3", "vm4", "vm5")])
        try:
            yield c
        finally:
            servers.stop()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    yield from cloud_up(SANDBOX, tmp_path_factory.mktemp("failures"))


def test_agent_kill_9_and_restart_reconnects_within_2_s(cloud: Cloud) -> None:
    probe = cloud.probe()
    time.sleep(1)
    cloud.sb.stop_part("agent", "h1", kill=True)
    watch = OpenFlowWatch(cloud.sb.host("h1").netns, 6653)
    cloud.sb.start_part("agent", "h1")  # returns once the switch is connected to it
    time.sleep(4)
    report = probe.stop()
    assert report.broken() == [], report.summary()
    # The agent process needs a moment to start Python; from the moment it listens for its
    # switch, the switch is back within 2 s (it retries at once when the agent asks it to).
    assert watch.listening is not None and watch.connected is not None
    assert watch.connected - watch.listening <= 2, watch.connected - watch.listening
    took = report.new_ok_after(watch.connected)
    assert took is not None and took <= 2, (took, report.summary())


class OpenFlowWatch:
    """Notes when a new agent starts listening for its switch inside a host namespace, and when
    the switch's OpenFlow connection to it is established."""

    def __init__(self, netns: str, port: int) -> None:
        self.listening: float | None = None
        self.connected: float | None = None
        self._args = ["ip", "netns", "exec", netns, "ss", "-Htn", "state", "all",
                      f"( sport = :{port} )"]
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        deadline = time.monotonic() + 60
        while self.connected is None and time.monotonic() < deadline:
            states = {line.split()[0] for line in subprocess.run(
                self._args, capture_output=True, text=True).stdout.splitlines() if line}
            now = time.time()
            if self.listening is None and "LISTEN" in states:
                self.listening = now
            if self.listening is not None and "ESTAB" in states:
                self.connected = now
            time.sleep(0.02)


def test_redis_restart_breaks_nothing(cloud: Cloud) -> None:
    pids = cloud.agent_pids()
    probe = cloud.probe()
    time.sleep(1)
    cloud.sb.restart_part("redis")
    back = time.time()
    time.sleep(NEW_CONNECTIONS_BACK + 2)
    report = probe.stop()
    cloud.check(report, back)
    assert cloud.agent_pids() == pids


def test_redis_kill_9_right_after_an_acknowledged_write(cloud: Cloud) -> None:
    pids = cloud.agent_pids()
    probe = cloud.probe()
    time.sleep(1)
    made = []
    for n in range(10):
        status, body = cloud.api("POST", "/bridges", {"name": f"acked-{n}"})
        assert status == 201, body
        made.append(body["id"])
    cloud.sb.stop_part("redis", kill=True)
    cloud.sb.start_part("redis")
    back = time.time()
    time.sleep(NEW_CONNECTIONS_BACK + 2)
    report = probe.stop()
    cloud.check(report, back)
    status, bridges = cloud.api("GET", "/bridges")
    assert status == 200 and set(made) <= {b["id"] for b in bridges}
    assert cloud.agent_pids() == pids
    for bridge_id in made:
        assert cloud.api("DELETE", f"/bridges/{bridge_id}")[0] == 204


def test_redis_down_for_60_s(cloud: Cloud) -> None:
    pids = cloud.agent_pids()
    probe = cloud.probe()
    time.sleep(1)
    cloud.sb.stop_part("redis")
    down = time.time()
    statuses = set()
    while time.time() - down < 60:
        status, body = cloud.api("GET", "/bridges")
        statuses.add(status)
        assert status == 503 and "unavailable" in body["message"], (status, body)
        time.sleep(5)
    cloud.sb.start_part("redis")
    back = time.time()
    time.sleep(NEW_CONNECTIONS_BACK + 2)
    report = probe.stop()
    cloud.check(report, back)
    # established traffic flowed throughout: no echo waited for more than a second
    assert max(c["longest_wait"] for c in report.connections) < 1.0, report.summary()
    assert cloud.api("GET", "/bridges")[0] == 200
    assert cloud.agent_pids() == pids


def test_readonly_does_not_stop_a_starting_agent(cloud: Cloud) -> None:
    assert cloud.api("PUT", "/system_state", {"availability": "READONLY"})[0] == 200
    try:
        cloud.sb.stop_part("agent", "h2")
        cloud.topo.store.redis.delete(cloud.topo.store.key_obj("host",
                                                               cloud.sb.host("h2").host_id))
        cloud.sb.start_part("agent", "h2")
        assert wait_until(cloud.hosts_alive, 10), "the agent did not register in READONLY"
        assert cloud.sb.vm("vm1").wait_ping("10.0.0.13", timeout=10)
        assert cloud.sb.vm("vm1").wait_ping("10.0.1.15", timeout=10)
        assert cloud.api("POST", "/bridges", {"name": "frozen"})[0] == 503
    finally:
        assert cloud.api("PUT", "/system_state", {"availability": "READWRITE"})[0] == 200


def test_redis_back_empty_unplugs_nothing_until_accepted(cloud: Cloud, tmp_path: Path
                                                        ) -> None:
    plugged = {h: cloud.plugged(h) for h in ("h1", "h2")}
    pids = cloud.agent_pids()
    probe = cloud.probe()
    time.sleep(1)
    cloud.sb.stop_part("redis")
    cloud.sb.start_part("redis", empty=True)
    back = time.time()

    def reported() -> set[str]:
        status, doc = cloud.api("GET", "/store_status")
        return {r["hostName"] for r in doc["divergences"]} if status == 200 else set()

    assert wait_until(lambda: reported() == {"h1", "h2"}, 15), reported()
    time.sleep(NEW_CONNECTIONS_BACK + 2)
    report = probe.stop()
    cloud.check(report, back)
    assert {h: cloud.plugged(h) for h in ("h1", "h2")} == plugged
    assert cloud.agent_pids() == pids
    info = cloud.api("GET", "/system_state")[1]["information"]
    assert "lost its data" in info and "h1" in info and "h2" in info
    home = tmp_path / "home"
    home.mkdir()
    lines = Cli(cloud.sb.api_url, home).ok("store status")
    assert any(line.startswith("host h1 keeps cached version ") for line in lines), lines

    # The operator accepts the empty store: the agents apply it and unplug the VMs.
    assert cloud.api("POST", "/store_status/accept", {})[0] == 200
    assert wait_until(lambda: not any(p.startswith("rm-flt") for h in ("h1", "h2")
                                    for p in cloud.plugged(h)), 15)
    assert wait_until(lambda: reported() == set(), 10)
    assert not cloud.sb.vm("vm1").ping("10.0.0.13", count=1, timeout=1)
