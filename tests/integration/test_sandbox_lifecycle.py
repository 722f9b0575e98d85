"""Bringing sandboxes up and down: processes by PID, namespaces, failures, crashes, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ryu_midonet.sandbox import Sandbox, netns, procs
from ryu_midonet.sandbox.state import STATE_FILE, State, registered
from tests.support import credentials

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).with_name("ryu-midonet-sandbox"))
NAME = f"t{os.getpid()}"


@pytest.fixture
def run_dir() -> Iterator[Path]:
    """A short run directory (unix socket paths have a length limit)."""
    path = Path(tempfile.mkdtemp(prefix="rmsb-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def description(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": NAME, "api": False, "agent": "none",
        "hosts": [{"name": "h1"}, {"name": "h2"}],
        "vms": [{"name": "vm1", "host": "h1", "ip": "10.0.0.11/24", "gateway": "10.0.0.1"},
                {"name": "vm2", "host": "h2", "ip": "10.0.0.12/24"}],
    }
    base.update(extra)
    return base


def namespaces(prefix: str = f"rm-{NAME}-") -> list[str]:
    return netns.list_netns(prefix)


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_up_builds_hosts_and_vms_and_down_removes_everything(run_dir: Path) -> None:
    with Sandbox.from_yaml(description(), run_dir) as sb:
        assert sorted(namespaces()) == sorted(
            f"rm-{NAME}-{n}" for n in ("underlay", "h1", "h2", "vm1", "vm2"))
        h1 = sb.host("h1")
        assert h1.ovsdb == f"unix:{run_dir}/hosts/h1/db.sock" and h1.ofport == 6653
        assert h1.underlay_ip == "10.99.0.1" and sb.host("h2").underlay_ip == "10.99.0.2"
        assert (run_dir / "hosts/h1/host_id").read_text().strip() == h1.host_id
        assert h1.vsctl("get", "Bridge", "br-int", "datapath_type") == "netdev"
        assert h1.vsctl("get", "Bridge", "br-int", "fail_mode") == "secure"
        assert h1.vsctl("get", "Bridge", "br-int", "protocols") == "[OpenFlow13]"
        assert h1.vsctl("get", "Controller", "br-int", "target") == '"tcp:127.0.0.1:6653"'
        assert h1.vsctl("get", "Interface", "tun-vxlan", "options") == (
            '{dst_port="6677", key=flow, remote_ip=flow, ttl="255"}')
        assert "OFPT_FEATURES_REPLY" in h1.ofctl("show", "br-int")
        # The VM's host-side interface is up in the host namespace, on no bridge.
        assert "rm-vm1-tap" in h1.exec("ip -br link show up", check=True).stdout
        assert "rm-vm1-tap" not in h1.vsctl("list-ports", "br-int")
    assert namespaces() == []


def test_vm_gets_its_address_mac_and_route(run_dir: Path) -> None:
    with Sandbox.from_yaml(description(), run_dir) as sb:
        vm1 = sb.vm("vm1")
        link = json.loads(vm1.exec("ip -j addr show eth0", check=True).stdout)[0]
        assert link["address"] == vm1.mac == "02:00:00:00:00:01"
        assert any(a["local"] == "10.0.0.11" and a["prefixlen"] == 24 for a in link["addr_info"])
        assert "default via 10.0.0.1" in vm1.exec("ip route", check=True).stdout
        assert not vm1.ping("10.0.0.12", timeout=0.5)  # no agent, no flows: nothing passes


def test_down_stops_processes_and_is_idempotent(run_dir: Path) -> None:
    sb = Sandbox.from_yaml(description(), run_dir).up()
    records = State.load(run_dir).processes  # type: ignore[union-attr]
    assert {r.name for r in records} == {"redis-server", "ovsdb-server", "ovs-vswitchd"}
    assert all(r.alive() for r in records)
    # A process started inside a VM by a test goes with its namespace.
    sleeper = subprocess.Popen(["ip", "netns", "exec", sb.vm("vm2").netns, "sleep", "60"])
    sb.down()
    sleeper.wait(timeout=10)
    assert not any(r.alive() for r in records)
    assert namespaces() == []
    assert not (run_dir / STATE_FILE).exists() and run_dir not in registered()
    sb.down()
    Sandbox.from_yaml(description(), run_dir).down()


def test_redis_on_tcp_and_unix_socket_and_the_rest_api(run_dir: Path) -> None:
    with Sandbox.from_yaml(description(api=True, vms=[]), run_dir) as sb:
        assert sb.api_url is not None
        creds = sb.credentials()
        assert creds is not None and creds.user == "admin"
        assert creds.password_file.stat().st_mode & 0o777 == 0o600
        assert creds.midonetrc.stat().st_mode & 0o777 == 0o600
        assert f"password = {creds.password}" in creds.midonetrc.read_text()
        with pytest.raises(urllib.error.HTTPError) as refused:  # auth is on
            urllib.request.build_opener().open(sb.api_url + "/", timeout=5)
        assert refused.value.code == 401
        credentials.remember_sandbox(sb)
        with urllib.request.urlopen(sb.api_url + "/", timeout=5) as resp:
            assert resp.status == 200
        api = sb.status()["api"]
        assert api["user"] == "admin" and api["password_file"] == str(creds.password_file)
        sock = str(sb.redis_sock)
        # Agents run inside host namespaces: only the unix socket reaches redis from there.
        out = sb.host("h2").exec(["redis-cli", "-s", sock, "set", "probe", "1"], check=True)
        assert out.stdout.strip() == "OK"
        port = sb.redis_url.rsplit(":", 1)[1].split("/")[0]
        got = subprocess.run(["redis-cli", "-p", port, "get", "probe"], capture_output=True,
                             text=True, check=True)
        assert got.stdout.strip() == "1"
        assert sb.redis_unix_url == f"unix://{sock}?db=0"


def test_agent_template_starts_one_controller_per_host(run_dir: Path) -> None:
    agent = {"command": "{bin}/ryu-midonet-manager --ofp-tcp-listen-port {ofport}",
             "connect_timeout": 60}
    with Sandbox.from_yaml(description(agent=agent, vms=[]), run_dir) as sb:
        status = sb.status()["hosts"]
        for host in sb.hosts.values():
            assert status[host.name]["agent"] is True
            assert host.vsctl("get", "Controller", "br-int", "is_connected") == "true"
        agents = [r for r in State.load(run_dir).processes  # type: ignore[union-attr]
                  if r.name.startswith("agent-")]
        assert sorted(r.netns for r in agents) == sorted(h.netns for h in sb.hosts.values())
    assert not any(r.alive() for r in agents)


def test_failed_up_removes_what_it_built(run_dir: Path) -> None:
    agent = {"command": "false", "connect_timeout": 5}
    sb = Sandbox.from_yaml(description(agent=agent), run_dir)
    with pytest.raises(RuntimeError, match="agent of h1 exited"):
        sb.up()
    assert namespaces() == []
    assert not (run_dir / STATE_FILE).exists()
    for pidfile in run_dir.rglob("*.pid"):
        pid = int(pidfile.read_text())
        assert procs.start_time(pid) is None, pidfile


def test_up_refuses_namespaces_of_another_sandbox(run_dir: Path, tmp_path: Path) -> None:
    with Sandbox.from_yaml(description(), run_dir):
        other = Sandbox.from_yaml(description(), tmp_path / "other")
        with pytest.raises(RuntimeError, match="namespaces already exist"):
            other.up()
        with pytest.raises(RuntimeError, match="already up"):
            Sandbox.from_yaml(description(), run_dir).up()
        assert len(namespaces()) == 5  # the running sandbox was left alone


def test_a_test_run_that_died_leaves_nothing_in_the_way_of_the_next(run_dir: Path,
                                                                    tmp_path: Path) -> None:
    crashed = Sandbox.from_yaml(description(), tmp_path / "crashed")
    with crashed:
        dead = subprocess.Popen(["true"])
        dead.wait()
        st = State.load(crashed.run_dir)
        assert st is not None
        st.facts["owner"] = {"pid": dead.pid, "start": 1}  # its test run was killed
        st.save()
        pids = [r.pid for r in st.processes]
        with Sandbox.from_yaml(description(), run_dir) as sb:
            assert State.load(crashed.run_dir) is None
            assert not any(procs.start_time(p) for p in pids)
            assert len(namespaces()) == 5 and State.load(sb.run_dir) is not None
        assert namespaces() == []
    subprocess.run(["ip", "netns", "add", f"rm-{NAME}-vm1"], check=True)  # no record, idle
    with Sandbox.from_yaml(description(), run_dir):
        assert len(namespaces()) == 5
    assert namespaces() == []


def test_cli_up_status_exec_ofctl_wire_down(run_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "sb.json"
    spec.write_text(json.dumps(description()))  # YAML is a superset of JSON
    rd = ["--run-dir", str(run_dir)]
    try:
        cli("up", str(spec), *rd)
        status = json.loads(cli("status", "--json", *rd).stdout)
        assert status["up"] and status["hosts"]["h2"]["underlay_ip"] == "10.99.0.2"
        assert "10.0.0.11/24" in cli("exec", *rd, "vm1", "--", "ip", "-br", "addr").stdout
        assert "ul0" in cli("exec", *rd, "h1", "--", "ip", "-br", "link").stdout
        assert "OFPT_FEATURES_REPLY" in cli("ofctl", *rd, "h1", "show", "br-int").stdout
        assert "vm2: tunnel key" in cli("wire", *rd, "static").stdout
        assert "tun_id=0x101" in cli("ofctl", *rd, "h2", "dump-flows", "br-int").stdout
        assert cli("exec", *rd, "vm1", "--", "ping", "-c", "1", "-W", "2", "10.0.0.12")
        missing = cli("exec", *rd, "vm9", "--", "true", check=False)
        assert missing.returncode == 1 and "no host or VM named 'vm9'" in missing.stderr
    finally:
        cli("down", *rd)
    assert namespaces() == []
    assert "no sandbox is up" in cli("down", *rd).stdout


def test_clean_removes_the_leftovers_of_a_crashed_run(run_dir: Path, tmp_path: Path) -> None:
    prefix = "rmt-"  # 'clean' sweeps a whole prefix: keep clear of sandboxes running beside
    crashed = tmp_path / "crashed"
    Sandbox.from_yaml(description(prefix=prefix, api=True), run_dir).up()
    Sandbox.from_yaml(description(prefix=prefix, name=f"{NAME}b", vms=[]), crashed).up()
    pids = [int(p.read_text()) for d in (run_dir, crashed) for p in d.rglob("*.pid")]
    assert len(pids) == 6 + 5 and all(procs.start_time(p) for p in pids)
    (run_dir / STATE_FILE).unlink()  # the state is lost: only pid files and names are left
    out = cli("clean", "--prefix", prefix).stdout
    assert f"sandbox in {crashed}" in out and f"namespace {prefix}{NAME}-vm1" in out
    assert not any(procs.start_time(p) for p in pids)
    assert netns.list_netns(prefix) == []
    assert cli("clean", "--prefix", prefix).stdout == ""
