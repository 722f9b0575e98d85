"""``make demo`` as a new user runs it: from a fresh clone, twice in a row, then
``make demo-stop``, which leaves no namespace behind.

The demo listens on fixed ports (redis 6390, the API 8181) and names its namespaces
``rm-demo-*``; no other test uses them (the others take free ports and their own names), and
this test refuses to run beside a demo that is already up.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from ryu_midonet.sandbox import netns

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DEMO_PORTS = (6390, 8181)
DEMO_NAMESPACES = "rm-demo-"


def in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def fresh_clone(dest: Path) -> tuple[Path, dict[str, str]]:
    """A clone of the committed tree that uses this tree's virtual environment.

    Building a venv per run would take minutes, so ``.venv`` is a link to ours; its files
    are made older than the venv's stamp, so ``make deps`` (tools/install-deps.sh) finds the
    Python packages up to date and never reinstalls into the shared venv. That venv has the
    project installed in editable mode from this tree: PYTHONPATH puts the clone first, so
    the demo runs the clone's code as well as its Makefile, scripts and YAML (checked below).
    """
    subprocess.run(["git", "clone", "-q", str(REPO), str(dest)], check=True)
    (dest / ".venv").symlink_to(REPO / ".venv")
    for name in ("setup.py", "pyproject.toml"):
        os.utime(dest / name, (0, 0))
    env = {**os.environ, "PYTHONPATH": str(dest)}
    where = subprocess.run([str(dest / ".venv/bin/python"), "-c",
                            "import ryu_midonet; print(ryu_midonet.__file__)"],
                           cwd="/", env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(dest)
    return dest, env


def make(clone: Path, env: dict[str, str], target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", target], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=600)


def test_make_demo_twice_from_a_fresh_clone_then_demo_stop(tmp_path: Path) -> None:
    busy = [p for p in DEMO_PORTS if in_use(p)] + netns.list_netns(DEMO_NAMESPACES)
    if busy:
        pytest.fail(f"a demo seems to be up already ({busy}); stop it with 'make demo-stop'",
                    pytrace=False)
    clone, env = fresh_clone(tmp_path / "clone")
    try:
        for _run in range(2):
            done = make(clone, env, "demo")
            assert done.returncode == 0, done.stdout + done.stderr
            assert "Python packages up to date" in done.stdout  # the shared venv untouched
            assert "3 packets transmitted, 3 received, 0% packet loss" in done.stdout
            assert "64 bytes from 10.0.1.12" in done.stdout
            assert "The REST API needs a login: user admin, password in" in done.stdout
            assert netns.list_netns(DEMO_NAMESPACES)
    finally:
        stop = make(clone, env, "demo-stop")
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert "demo stopped" in stop.stdout
    assert netns.list_netns(DEMO_NAMESPACES) == []
    assert not any(in_use(p) for p in DEMO_PORTS)
