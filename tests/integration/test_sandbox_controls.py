"""Stopping, killing and starting one part of a running sandbox: agents, a host's Open vSwitch,
redis-server and the API; what ``status`` says afterwards; the Python API on an attached run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.sandbox import Sandbox, procs
from ryu_midonet.sandbox.procs import ProcessRecord
from ryu_midonet.sandbox.state import State
from tests.support import credentials
from tests.support.topology import StoreTopology
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("ryu-midonet-sandbox"))
SANDBOX = {
    "name": "ctl", "api": True, "agent": "default",
    "hosts": [{"name": "h1"}, {"name": "h2"}],
    "vms": [{"name": "vm1", "host": "h1", "ip": "10.0.0.11/24"},
            {"name": "vm2", "host": "h2", "ip": "10.0.0.12/24"}],
}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """Two hosts with agents, vm1 on h1 and vm2 on h2 on one virtual bridge."""
    run_dir = Path(tempfile.mkdtemp(prefix="rmctl-", dir="/tmp"))
    sandbox = Sandbox.from_yaml(SANDBOX, run_dir).up()
    credentials.remember_sandbox(sandbox)
    try:
        topo = Topology(Store.from_url(sandbox.redis_url))
        zone = topo.create("tunnelZone", {"name": "ctl", "type": "vxlan"})
        build = StoreTopology(topo)
        bridge = build.bridge("net")
        for vm in sandbox.vms.values():
            topo.add_tunnel_zone_member(zone["id"], vm.host.host_id, vm.host.underlay_ip)
            build.bind(build.port(bridge), vm.host.host_id, vm.interface)
        assert sandbox.vm("vm1").wait_ping("10.0.0.12", timeout=20)
        yield sandbox
    finally:
        sandbox.down()
        shutil.rmtree(run_dir, ignore_errors=True)


def records(sb: Sandbox, name: str) -> list[ProcessRecord]:
    st = State.load(sb.run_dir)
    assert st is not None
    return [r for r in st.processes if r.name == name]


def cli(sb: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args, "--run-dir", str(sb.run_dir)], capture_output=True,
                          text=True, timeout=120)


def status(sb: Sandbox) -> dict[str, object]:
    done = cli(sb, "status", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_agent_restart_kill_and_start_on_an_attached_run(sb: Sandbox) -> None:
    attached = Sandbox.attach(sb.run_dir)
    [old] = records(sb, "agent-h1")
    attached.restart_part("agent", "h1")
    [new] = records(sb, "agent-h1")
    assert new.pid != old.pid and new.alive() and not old.alive()
    assert status(sb)["hosts"]["h1"]["agent"] is True  # type: ignore[index]

    attached.stop_agent("h1", kill=True)
    assert not new.alive()
    assert status(sb)["hosts"]["h1"]["agent"] is False  # type: ignore[index]
    attached.start_agent("h1")  # returns once the switch is connected to it
    assert sb.host("h1").vsctl("get", "Controller", "br-int", "is_connected") == "true"
    assert status(sb)["hosts"]["h1"]["agent"] is True  # type: ignore[index]
    assert len(records(sb, "agent-h1")) == 1
    assert sb.vm("vm1").wait_ping("10.0.0.12", timeout=10)


def test_ovs_killed_and_started_again_keeps_its_configuration(sb: Sandbox) -> None:
    h2 = sb.host("h2")
    config = [h2.vsctl("list-ports", "br-int"), h2.vsctl("list-ports", "br-phy"),
              h2.vsctl("get", "Controller", "br-int", "target", "max_backoff"),
              h2.vsctl("get", "Open_vSwitch", ".", "external_ids:system-id")]
    old = records(sb, "ovs-vswitchd") + records(sb, "ovsdb-server")

    done = cli(sb, "kill", "ovs", "h2")
    assert done.returncode == 0, done.stderr
    assert status(sb)["hosts"]["h2"]["ovs_vswitchd"] is False  # type: ignore[index]
    done = cli(sb, "start", "ovs", "h2")
    assert done.returncode == 0, done.stderr

    assert status(sb)["hosts"]["h2"]["ovs_vswitchd"] is True  # type: ignore[index]
    ovs = [r for r in records(sb, "ovs-vswitchd") + records(sb, "ovsdb-server")
           if r.netns == h2.netns]
    assert len(ovs) == 2 and all(r.alive() and r not in old for r in ovs)
    assert [h2.vsctl("list-ports", "br-int"), h2.vsctl("list-ports", "br-phy"),
            h2.vsctl("get", "Controller", "br-int", "target", "max_backoff"),
            h2.vsctl("get", "Open_vSwitch", ".", "external_ids:system-id")] == config
    assert f"{h2.underlay_ip}/24" in h2.exec("ip -br addr show br-phy", check=True).stdout
    assert wait_until(lambda: h2.switch.controller_connected("br-int"))
    assert sb.vm("vm1").wait_ping("10.0.0.12", timeout=15)  # tunnels work again


def test_api_controls_and_bad_input(sb: Sandbox) -> None:
    assert sb.api_url is not None
    assert cli(sb, "stop", "api").returncode == 0
    assert status(sb)["api"]["alive"] is False  # type: ignore[index]
    assert cli(sb, "stop", "api").returncode == 0  # stopping a stopped part does nothing
    assert cli(sb, "start", "api").returncode == 0
    with urllib.request.urlopen(sb.api_url + "/", timeout=5) as resp:
        assert resp.status == 200
    pid = records(sb, "rest-api")[0].pid
    for args, message in [
        (("start", "api"), f"api is already running (pid {pid})"),
        (("stop", "nope"), "no part named 'nope' (parts: agent, ovs, redis, api)"),
        (("start", "agent"), "'agent' needs a host: one of h1, h2"),
        (("restart", "ovs", "h9"), "no host named 'h9' (hosts: h1, h2)"),
        (("kill", "redis", "h1"), "'redis' takes no host"),
        (("start", "agent", "h1", "--empty"), "only a redis-server can be started empty"),
    ]:
        done = cli(sb, *args)
        assert done.returncode == 1
        assert done.stderr == f"ryu-midonet-sandbox: {message}\n"


def test_redis_comes_back_with_its_data_or_empty(sb: Sandbox) -> None:
    client = redis.Redis.from_url(sb.redis_url, decode_responses=True)
    keys = client.dbsize()
    assert client.set("probe", "acknowledged")
    sb.stop_part("redis", kill=True)  # right after the write: no time to flush anything later
    assert status(sb)["redis"]["alive"] is False  # type: ignore[index]
    sb.start_part("redis")
    assert status(sb)["redis"]["alive"] is True  # type: ignore[index]
    assert client.get("probe") == "acknowledged" and client.dbsize() == keys + 1
    assert len(records(sb, "redis-server")) == 1

    done = cli(sb, "restart", "redis", "--empty")
    assert done.returncode == 0, done.stderr
    assert client.get("probe") is None
    [rec] = records(sb, "redis-server")
    assert rec.alive() and procs.start_time(rec.pid) == rec.start
