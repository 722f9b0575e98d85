"""The REST API on a redis-server that crashes and comes back, started as operators start it.

The store is the product's own launcher (``tools/redis-server.sh``: append-only file, fsync on
every write), so an object the API acknowledged survives ``kill -9`` of redis-server. While
Redis is down the API answers 503 with a message; it recovers by itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import _console_script, _stop, find_free_port
from tests.integration import rest_call
from tests.support import credentials

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "tools" / "redis-server.sh"
BRIDGE = "application/vnd.org.midonet.Bridge-v4+json"


class Redis:
    """The product's redis-server launcher on one directory and port."""

    def __init__(self, work: Path) -> None:
        self.dir = work
        self.port = find_free_port()

    def start(self) -> str:
        return subprocess.run(["bash", str(LAUNCHER), "start", str(self.dir), str(self.port)],
                              check=True, capture_output=True, text=True).stdout.strip()

    def stop(self) -> None:
        subprocess.run(["bash", str(LAUNCHER), "stop", str(self.dir)], check=True)

    def kill(self) -> None:
        pid = int((self.dir / "redis.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        while Path(f"/proc/{pid}").exists():
            time.sleep(0.02)


def call(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    return rest_call.call(method, url, body, BRIDGE)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    server = Redis(tmp_path_factory.mktemp("durable-redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api(store: Redis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = find_free_port()
    log = tmp_path_factory.mktemp("api-outage") / "api.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [_console_script("ryu-midonet-manager"), "--redis-url",
             f"redis://127.0.0.1:{store.port}/0", "--wsapi-port", str(port),
             "ryu_midonet.rest"], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/midonet-api"
    credentials.add_admin(f"redis://127.0.0.1:{store.port}/0", url)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        yield url
    finally:
        _stop(proc)


def test_acknowledged_writes_survive_kill_9_of_redis(store: Redis, api: str) -> None:
    created = []
    for n in range(20):
        status, body = call("POST", f"{api}/bridges", {"name": f"durable-{n}"})
        assert status == 201
        created.append(body["id"])
    store.kill()  # right after the last acknowledged write
    store.start()
    status, bridges = call("GET", f"{api}/bridges")
    assert status == 200
    assert set(created) <= {b["id"] for b in bridges}


def test_api_answers_503_while_redis_is_down_and_recovers(store: Redis, api: str) -> None:
    status, body = call("POST", f"{api}/bridges", {"name": "before-outage"})
    assert status == 201
    store.kill()
    try:
        for method, path, payload in (("GET", "/bridges", None),
                                      ("POST", "/bridges", {"name": "during-outage"}),
                                      ("GET", "/system_state", None)):
            status, error = call(method, api + path, payload)
            assert status == 503, (method, path, status, error)
            assert "topology store is unavailable" in error["message"]
    finally:
        store.start()
    status, bridges = call("GET", f"{api}/bridges")
    assert status == 200
    names = {b["name"] for b in bridges}
    assert "before-outage" in names and "during-outage" not in names
    assert call("POST", f"{api}/bridges", {"name": "after-outage"})[0] == 201


def test_store_status_reports_no_divergence_and_accept_renews_the_epoch(api: str) -> None:
    status, doc = call("GET", f"{api}/store_status")
    assert status == 200 and doc["divergences"] == [] and doc["version"] > 0
    status, after = call("POST", f"{api}/store_status/accept", {})
    assert status == 200
    assert after["epoch"] != doc["epoch"] and after["acceptedEpoch"] == after["epoch"]
    assert call("GET", f"{api}/system_state")[1]["information"] is None


def test_a_master_without_its_replicas_refuses_writes_with_503(store: Redis, api: str) -> None:
    admin = redis.Redis(port=store.port)
    admin.config_set("min-replicas-to-write", 1)  # as production masters are run
    try:
        status, error = call("POST", f"{api}/bridges", {"name": "unreplicated"})
        assert status == 503 and "NOREPLICAS" in error["message"]
        assert call("GET", f"{api}/bridges")[0] == 200
    finally:
        admin.config_set("min-replicas-to-write", 0)
        admin.close()
