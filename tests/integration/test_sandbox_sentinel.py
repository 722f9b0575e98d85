"""The sandbox's Sentinel mode: a master, a replica and three sentinels on the root namespace's
underlay address; a master killed with SIGKILL fails over and writes continue through the same
``redis+sentinel://`` URL, with everything written before the kill."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ryu_midonet.nsdb.connect import client_from_url
from ryu_midonet.sandbox import Sandbox, netns, procs
from ryu_midonet.sandbox.state import State
from tests.support import credentials
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("ryu-midonet-sandbox"))
SANDBOX = {"name": "sen", "api": True, "agent": "default", "redis": {"sentinel": True},
           "hosts": [{"name": "h1"}, {"name": "h2"}]}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    run_dir = Path(tempfile.mkdtemp(prefix="rmsen-", dir="/tmp"))
    sandbox = Sandbox.from_yaml(SANDBOX, run_dir).up()
    credentials.remember_sandbox(sandbox)
    try:
        yield sandbox
    finally:
        sandbox.down()
        shutil.rmtree(run_dir, ignore_errors=True)


def hosts_in_api(sb: Sandbox) -> int:
    assert sb.api_url is not None
    try:
        with urllib.request.urlopen(sb.api_url + "/hosts", timeout=5) as resp:
            return len(json.loads(resp.read()))
    except OSError:
        return -1


def test_store_reachable_from_every_namespace(sb: Sandbox) -> None:
    addr = sb.store_address
    assert addr == "10.99.0.254"  # the highest address of the underlay no host uses
    ports = [s.port for s in sb.sentinels.values()]
    assert sb.redis_url == (f"redis+sentinel://{addr}:{ports[0]},{addr}:{ports[1]},"
                            f"{addr}:{ports[2]}/sandbox/0")
    master = sb.redis_servers["redis"]
    for host in sb.hosts.values():  # hosts reach it through their br-phy, over the underlay
        out = host.exec(["redis-cli", "-h", addr, "-p", str(ports[0]), "sentinel",
                         "get-master-addr-by-name", "sandbox"], check=True).stdout.split()
        assert out == [addr, str(master.port)]
    # The agents registered their hosts through the sentinels, the API reads them.
    assert wait_until(lambda: hosts_in_api(sb) == 2, timeout=20)
    status = sb.status()["redis"]
    assert status["sentinel"] and status["master"] == "redis" and status["alive"]
    assert all(s["alive"] for s in {**status["servers"], **status["sentinels"]}.values())


def test_master_killed_fails_over_and_writes_continue(sb: Sandbox) -> None:
    client = client_from_url(sb.redis_url)
    for i in range(100):
        client.set(f"before:{i}", i)
    assert client.wait(1, 2000) >= 1  # the replica has them too

    started = time.monotonic()
    sb.stop_part("redis-master", kill=True)

    def written() -> bool:
        try:
            return bool(client.set("after", "1"))
        except redis.RedisError:
            return False

    assert wait_until(written, timeout=20), "no master took over"
    failover = time.monotonic() - started
    assert failover < 10, f"failover took {failover:.1f} s"
    assert sb.redis_master() == "redis-2"
    assert [client.get(f"before:{i}") for i in range(100)] == [str(i) for i in range(100)]
    status = sb.status()["redis"]
    assert status["master"] == "redis-2" and status["alive"]
    assert status["servers"]["redis"]["alive"] is False
    text = subprocess.run([CLI, "status", "--run-dir", str(sb.run_dir)], capture_output=True,
                          text=True, check=True).stdout
    assert "master=redis-2" in text

    # The API follows the new master too.
    assert wait_until(lambda: hosts_in_api(sb) == 2, timeout=20)

    # The old master comes back with the same arguments and the sentinels make it a replica.
    done = subprocess.run([CLI, "start", "redis", "--run-dir", str(sb.run_dir)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    old = sb.redis_servers["redis"].client()
    # (a sentinel whose timer ran over 2 s late, as on a loaded machine, pauses 30 s in TILT)
    assert wait_until(lambda: old.role()[0] == "slave", timeout=75)
    assert wait_until(lambda: old.get("after") == "1", timeout=10)
    assert sb.redis_master() == "redis-2"
    assert status_of(sb, "redis-server") and status_of(sb, "redis-server-2")


def status_of(sb: Sandbox, name: str) -> bool:
    st = State.load(sb.run_dir)
    assert st is not None
    [rec] = [r for r in st.processes if r.name == name]
    return rec.alive()


def test_down_removes_the_store_link_and_stops_every_server(tmp_path: Path) -> None:
    spec = {**SANDBOX, "name": "sen2", "api": False, "agent": "none",
            "underlay": {"cidr": "10.98.0.0/24"}, "redis": {"sentinel": True,
                                                           "address": "10.98.0.100"}}
    sandbox = Sandbox.from_yaml(spec, tmp_path).up()
    st = State.load(tmp_path)
    assert st is not None
    names = {r.name for r in st.processes}
    assert {"redis-server", "redis-server-2", "redis-sentinel-1", "redis-sentinel-2",
            "redis-sentinel-3"} <= names
    assert netns.links(None, "rm-sen2-st") == ["rm-sen2-st"]
    assert sandbox.store_address == "10.98.0.100"
    sandbox.down()
    assert not any(procs.start_time(r.pid) == r.start for r in st.processes)
    assert netns.links(None, "rm-sen2-") == [] and netns.list_netns("rm-sen2-") == []
