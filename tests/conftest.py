"""Shared pytest fixtures.

``redis_server``  (session)  a private redis-server on 127.0.0.1; yields its URL.
``redis_url``     (function) the same URL, after FLUSHALL, for a test that wants an
                             empty database.
``topo``          (function) a :class:`Topology` on that emptied database.
``free_port``     (function) a callable returning a TCP port that is free on 127.0.0.1.
``api_server``    (session)  a real ``ryu-midonet-manager ... ryu_midonet.rest`` process on the
                             session's redis-server; yields its /midonet-api URL.
``api_url``       (function) that URL, with the store emptied first.

Under pytest-xdist (``make test`` runs two workers, a whole module per worker), the modules
that build a sandbox are handed out first, the biggest first, so that no long module starts
last and keeps one worker busy alone at the end (see ``pytest_collection_modifyitems``).

Authentication is on in that API: the session creates the user ``admin`` in its store, and
every ``urllib.request.urlopen`` of the tests logs in to it (see ``tests/support/credentials``).
``api_url`` keeps that user (and its token) across the emptying of the store.

A missing redis-server binary is an error, not a skip: install it with
``tools/install-deps.sh`` (Debian package ``redis-server``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.sandbox import procs
from ryu_midonet.sandbox import store as servers
from tests.support import credentials

credentials.install()

# A module that builds a sandbox (namespaces, switches, agents) runs for minutes; one that
# does not, for seconds.
_SANDBOX_MODULE = re.compile(
    rb"\bSandbox\b|^from (chainlab|dataplane|ryu_midonet\.sandbox) import", re.M)


_SHORT_BASETEMP = pytest.StashKey[Path]()


def _module_weight(path: Path, cache: dict[Path, tuple[int, int]]) -> tuple[int, int]:
    """Sort key of a test module: sandbox modules first, then the other modules of real
    servers (integration, interop), then unit tests; by size within each, biggest first."""
    if path not in cache:
        try:
            source = path.read_bytes()
        except OSError:
            source = b""
        group = 0 if _SANDBOX_MODULE.search(source) else 2 if path.parent.name == "unit" else 1
        cache[path] = (group, -len(source))
    return cache[path]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, a short base temporary directory (``/tmp/rmpt-XXXXXXXX``; each
    worker's is ``popen-gwN`` inside it) in place of ``/tmp/pytest-of-USER/pytest-N``: a
    sandbox keeps unix sockets in its run directory, whose path must stay under about 100
    characters, and the workers' subdirectory would take some of that room. Removed at the
    end of a run that passed, kept for its logs otherwise."""
    if hasattr(config, "workerinput") or config.option.basetemp:
        return
    if getattr(config.option, "numprocesses", None):
        config.option.basetemp = tempfile.mkdtemp(prefix="rmpt-", dir="/tmp")
        config.stash[_SHORT_BASETEMP] = Path(config.option.basetemp)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    short = session.config.stash.get(_SHORT_BASETEMP, None)
    if short is not None and exitstatus == 0:
        shutil.rmtree(short, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With pytest-xdist's ``--dist loadfile``, hand out the long modules first: whole modules
    go to workers in collection order, so a long one collected last would finish alone. The
    order of the tests within a module is kept (some modules' tests build on each other)."""
    if not hasattr(config, "workerinput"):  # not a pytest-xdist worker
        return
    cache: dict[Path, tuple[int, int]] = {}
    items.sort(key=lambda item: (_module_weight(item.path, cache), str(item.path)))


LOCALHOST = "127.0.0.1"
_REDIS_START_TIMEOUT = 10.0
_REDIS_STOP_TIMEOUT = 10.0


def find_free_port(host: str = LOCALHOST) -> int:
    """Return a TCP port that nothing listens on at ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _redis_server_binary() -> str:
    path = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    if not path and os.access("/usr/bin/redis-server", os.X_OK):
        path = "/usr/bin/redis-server"
    if not path:
        pytest.fail(
            "redis-server not found on PATH nor at /usr/bin/redis-server; "
            "run tools/install-deps.sh (Debian package redis-server)",
            pytrace=False,
        )
    return path


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a redis-server we started, by its pid, and reap it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=_REDIS_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _start_redis(binary: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start redis-server on a free port; retry when another process wins the port."""
    last_log = ""
    for _attempt in range(5):
        port = find_free_port()
        logfile = workdir / f"redis-{port}.log"
        proc = subprocess.Popen(
            [
                binary,
                "--port", str(port),
                "--bind", LOCALHOST,
                "--daemonize", "no",
                "--dir", str(workdir),
                "--logfile", str(logfile),
                # Not persistent, unlike the product's store (tools/redis-server.sh and the
                # sandbox use an append-only file with fsync on every write): every test
                # starts from FLUSHALL and nothing outlives the session, so an fsync per
                # write would only slow the suite down. Durability has tests of its own.
                "--save", "",
                "--appendonly", "no",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"redis://{LOCALHOST}:{port}/0"
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        deadline = time.monotonic() + _REDIS_START_TIMEOUT
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    if client.ping():
                        return proc, url
                except redis.ConnectionError:
                    time.sleep(0.05)
        finally:
            client.close()
        _stop(proc)
        last_log = logfile.read_text(errors="replace") if logfile.exists() else ""
        last_log += f"(exit status {proc.returncode})"
        if "Address already in use" not in last_log:
            break
    pytest.fail(f"{binary} did not start; its log:\n{last_log}", pytrace=False)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server for the whole test session; yields ``redis://127.0.0.1:PORT/0``."""
    binary = _redis_server_binary()
    proc, url = _start_redis(binary, tmp_path_factory.mktemp("redis"))
    try:
        yield url
    finally:
        _stop(proc)


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """The session's redis-server URL, with every database emptied first."""
    client = redis.Redis.from_url(redis_server)
    try:
        client.flushall()
    finally:
        client.close()
    yield redis_server


@pytest.fixture
def topo(redis_url: str) -> Topology:
    """A topology store on the session's emptied redis-server."""
    return Topology(Store.from_url(redis_url))


@pytest.fixture
def free_port() -> Callable[[], int]:
    """A helper that returns a free TCP port on 127.0.0.1 each time it is called."""
    return find_free_port


def _console_script(name: str) -> str:
    """A console script of this project, from the interpreter's own environment."""
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else (shutil.which(name) or name)


@pytest.fixture
def own_redis(tmp_path: Path, free_port: Callable[[], int]
              ) -> Iterator[tuple[servers.Server, list[procs.ProcessRecord]]]:
    """A durable redis-server of the test's own, which the test may stop and start again
    (the records of what runs are in the list)."""
    server = servers.Server("redis", tmp_path / "redis", free_port())
    servers.write(server, servers.server_conf(server, [servers.LOCALHOST]))
    running = [servers.start(server)[1]]
    yield server, running
    procs.stop_all(running)


@pytest.fixture(scope="session")
def api_server(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The REST API as users start it, serving the session's redis-server."""
    port = find_free_port()
    log = tmp_path_factory.mktemp("api") / "api.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [_console_script("ryu-midonet-manager"), "--redis-url", redis_server,
             "--wsapi-port", str(port), "ryu_midonet.rest"],
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://{LOCALHOST}:{port}/midonet-api"
    credentials.add_admin(redis_server, url)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=2):
                    break
            except urllib.error.HTTPError:
                raise
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the API did not start; its log:\n{log.read_text()}",
                                pytrace=False)
                time.sleep(0.1)
        yield url
    finally:
        _stop(proc)


@pytest.fixture
def api_url(api_server: str, redis_url: str, _auth_keys: dict[str, tuple[bytes, int]]) -> str:
    """The API's URL, on an empty store (but for the session's user and its token)."""
    client = redis.Redis.from_url(redis_url)
    try:
        for key, (dumped, ttl_ms) in _auth_keys.items():
            client.restore(key, max(ttl_ms, 0), dumped, replace=True)
    finally:
        client.close()
    return api_server


@pytest.fixture(scope="session")
def _auth_keys(api_server: str, redis_server: str) -> dict[str, tuple[bytes, int]]:
    """The session's user and token as Redis dumps, restored after every emptying."""
    credentials.token_of(api_server)
    client = redis.Redis.from_url(redis_server)
    try:
        return {key.decode(): (client.dump(key), client.pttl(key))
                for key in client.scan_iter(match="{mn}:auth:*")}
    finally:
        client.close()
