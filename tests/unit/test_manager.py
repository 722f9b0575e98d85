"""ryu-midonet-manager, run as a real process from the virtual environment."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import ryu_midonet

PROBE_APP = Path(__file__).with_name("manager_probe_app.py")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


def manager_command() -> str:
    """The installed console script, next to the interpreter running the tests."""
    candidate = Path(sys.executable).with_name("ryu-midonet-manager")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("ryu-midonet-manager")
    if not found:
        pytest.fail("ryu-midonet-manager is not installed; run tools/install-deps.sh")
    return found


@dataclass
class Manager:
    proc: subprocess.Popen[bytes]
    log: Path
    probe: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def seen(self) -> dict[str, Any]:
        """Wait for the probe app to report the options it started with."""
        deadline = time.monotonic() + START_TIMEOUT
        while not self.probe.exists():
            if self.proc.poll() is not None:
                pytest.fail(f"manager exited with {self.proc.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"probe app did not start:\n{self.output()}")
            time.sleep(0.05)
        return dict(json.loads(self.probe.read_text()))

    def terminate(self) -> int:
        """SIGTERM the manager by pid and return its exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"manager ignored SIGTERM:\n{self.output()}")


@contextmanager
def run_manager(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Manager]:
    probe = tmp_path / "probe.json"
    log = tmp_path / "manager.log"
    child_env = {k: v for k, v in os.environ.items() if k != "OSKEN_HUB_TYPE"}
    child_env["RYU_MIDONET_PROBE_FILE"] = str(probe)
    child_env.update(env or {})
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [manager_command(), *args],
            cwd=tmp_path,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Manager(proc, log, probe)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wait_for_listener(port: int, proc: subprocess.Popen[bytes]) -> socket.socket:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_version() -> None:
    result = subprocess.run(
        [manager_command(), "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ryu-midonet-manager {ryu_midonet.__version__}"


def test_help_lists_ryu_manager_flags() -> None:
    result = subprocess.run(
        [manager_command(), "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    for flag in (
        "--config-file",
        "--ofp-tcp-listen-port",
        "--wsapi-host",
        "--wsapi-port",
        "--redis-url",
        "--verbose",
        "--default-log-level",
        "--app-lists",
        "--pid-file",
    ):
        assert flag in result.stdout


@pytest.mark.parametrize("hub_type", ["eventlet", "native"])
def test_runs_app_and_stops_cleanly_on_sigterm(
    tmp_path: Path, free_port: Callable[[], int], hub_type: str
) -> None:
    ofp_port = free_port()
    pid_file = tmp_path / "manager.pid"
    args = [
        "--redis-url", "redis://127.0.0.1:6390/4",
        "--wsapi-host", "0.0.0.0",
        "--wsapi-port", "18181",
        "--ofp-tcp-listen-port", str(ofp_port),
        "--pid-file", str(pid_file),
        str(PROBE_APP),
    ]  # fmt: skip
    with run_manager(tmp_path, *args, env={"OSKEN_HUB_TYPE": hub_type}) as manager:
        seen = manager.seen()
        assert seen["pid"] == manager.proc.pid
        assert pid_file.read_text().strip() == str(manager.proc.pid)
        assert seen["redis_url"] == "redis://127.0.0.1:6390/4"
        assert seen["wsapi_host"] == "0.0.0.0"
        assert seen["wsapi_port"] == 18181
        assert seen["ofp_tcp_listen_port"] == ofp_port
        assert seen["nsdb_prefix"] == "mn"
        assert seen["verbose"] is False
        # Still running: the app's thread keeps the manager up until it is told to stop.
        time.sleep(0.5)
        assert manager.proc.poll() is None

        assert manager.terminate() == 0, manager.output()
        assert Path(f"{manager.probe}.closed").exists(), manager.output()
        assert not pid_file.exists()
        assert "Traceback" not in manager.output()


def test_config_file_is_honoured_and_cli_overrides_it(tmp_path: Path) -> None:
    conf_file = tmp_path / "ryu-midonet.conf"
    conf_file.write_text(
        "[DEFAULT]\n"
        "redis_url = redis://127.0.0.1:6391/5\n"
        "wsapi_port = 18282\n"
        "nsdb_prefix = site-b\n"
        "verbose = true\n"
    )
    with run_manager(tmp_path, "--config-file", str(conf_file), str(PROBE_APP)) as manager:
        seen = manager.seen()
        assert seen["redis_url"] == "redis://127.0.0.1:6391/5"
        assert seen["wsapi_port"] == 18282
        assert seen["nsdb_prefix"] == "site-b"
        assert seen["verbose"] is True
        assert manager.terminate() == 0, manager.output()

    (tmp_path / "probe.json").unlink()
    args = ["--config-file", str(conf_file), "--redis-url", "redis://127.0.0.1:6392/6"]
    with run_manager(tmp_path, *args, str(PROBE_APP)) as manager:
        seen = manager.seen()
        assert seen["redis_url"] == "redis://127.0.0.1:6392/6"
        assert seen["wsapi_port"] == 18282
        assert manager.terminate() == 0, manager.output()


def test_default_app_is_the_openflow_handler(tmp_path: Path, free_port: Callable[[], int]) -> None:
    port = free_port()
    args = ["--ofp-listen-host", "127.0.0.1", "--ofp-tcp-listen-port", str(port)]
    with run_manager(tmp_path, *args) as manager:
        with wait_for_listener(port, manager.proc) as sock:
            # The controller greets every switch with OFPT_HELLO (type 0).
            header = sock.recv(8)
        assert len(header) == 8
        version, msg_type, length = header[0], header[1], int.from_bytes(header[2:4], "big")
        assert version >= 0x01 and msg_type == 0 and length >= 8
        assert "loading app os_ken.controller.ofp_handler" in manager.output()
        assert manager.terminate() == 0, manager.output()


def test_unknown_app_module_fails(tmp_path: Path) -> None:
    with run_manager(tmp_path, "ryu_midonet.no_such_app_module") as manager:
        assert manager.proc.wait(timeout=START_TIMEOUT) == 1
        assert "cannot load application" in manager.output()


def test_missing_config_file_fails(tmp_path: Path) -> None:
    with run_manager(tmp_path, "--config-file", str(tmp_path / "absent.conf")) as manager:
        assert manager.proc.wait(timeout=START_TIMEOUT) == 2
        assert "absent.conf" in manager.output()
