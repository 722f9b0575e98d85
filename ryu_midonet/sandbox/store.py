"""The sandbox's topology store: one redis-server, or a master, a replica and three sentinels.

Each server runs from a config file written into its directory at ``up`` (``redis/redis.conf``,
``redis-2/redis.conf``, ``sentinel-N/sentinel.conf``) and is started again from the same file,
so a restart has the same arguments. Sentinels rewrite these files when they fail over, so an
old master that comes back knows it is a replica now.

Durability: every server keeps an append-only file with fsync on every write (``appendonly
yes``, ``appendfsync always``; Redis 7 writes a multi-part AOF into ``<dir>/appendonlydir``),
so a write it acknowledged survives ``kill -9``. :func:`wipe` removes the data, for a server
that must come back empty.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from ryu_midonet.sandbox import procs

LOCALHOST = "127.0.0.1"
START_TIMEOUT = 30.0
AOF_DIR = "appendonlydir"
# Sentinel timings: a master that does not answer for 1 s is down; a failover completes (or is
# retried) within a few seconds.
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000
QUORUM = 2
SENTINELS = 3


@dataclass(frozen=True)
class Server:
    """One redis-server (or sentinel) of the sandbox."""

    name: str  # "redis", "redis-2", "sentinel-1"
    work: Path
    port: int

    @property
    def sentinel(self) -> bool:
        return self.name.startswith("sentinel-")

    @property
    def process(self) -> str:
        """The name of its process record: ``redis-server``, ``redis-server-2``, ...."""
        return "redis-" + self.name if self.sentinel else self.name.replace("redis", "redis-server")

    @property
    def conf(self) -> Path:
        return self.work / ("sentinel.conf" if self.sentinel else "redis.conf")

    @property
    def log(self) -> Path:
        return self.work / ("sentinel.log" if self.sentinel else "redis.log")

    def client(self, timeout: float = 1.0) -> redis.Redis:
        return redis.Redis(LOCALHOST, self.port, socket_connect_timeout=timeout,
                           socket_timeout=timeout, decode_responses=True)


def binary() -> str:
    path = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(path).exists():
        raise RuntimeError("redis-server not found: install it (tools/install-deps.sh)")
    return path


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def server_conf(server: Server, bind: list[str], unix_socket: Path | None = None,
                replica_of: tuple[str, int] | None = None, announce_ip: str | None = None) -> str:
    """redis.conf of a durable server."""
    lines = [f"port {server.port}", f"bind {' '.join(bind)}",
             f"protected-mode {'yes' if bind == [LOCALHOST] else 'no'}",
             "daemonize no", f"dir {_quote(str(server.work))}",
             f"logfile {_quote(str(server.log))}", 'save ""', "appendonly yes",
             "appendfsync always", f"appenddirname {AOF_DIR}",
             # A replica that (re)connects is synced at once, not after the 5 s default.
             "repl-diskless-sync-delay 0"]
    if unix_socket is not None:
        lines += [f"unixsocket {_quote(str(unix_socket))}", "unixsocketperm 700"]
    if announce_ip:
        lines.append(f"replica-announce-ip {announce_ip}")
    if replica_of:
        lines.append(f"replicaof {replica_of[0]} {replica_of[1]}")
    return "\n".join(lines) + "\n"


def sentinel_conf(server: Server, address: str, service: str, master_port: int) -> str:
    """sentinel.conf of one of the sentinels watching ``address:master_port``."""
    return "\n".join([
        f"port {server.port}", f"bind {LOCALHOST} {address}", "protected-mode no",
        "daemonize no", f"dir {_quote(str(server.work))}", f"logfile {_quote(str(server.log))}",
        f"sentinel announce-ip {address}",
        f"sentinel monitor {service} {address} {master_port} {QUORUM}",
        f"sentinel down-after-milliseconds {service} {DOWN_AFTER_MS}",
        f"sentinel failover-timeout {service} {FAILOVER_TIMEOUT_MS}",
        f"sentinel parallel-syncs {service} 1"]) + "\n"


def write(server: Server, text: str) -> None:
    """A fresh directory with the server's config file."""
    shutil.rmtree(server.work, ignore_errors=True)
    server.work.mkdir(parents=True)
    server.conf.write_text(text)


def wipe(server: Server) -> None:
    """Remove a (stopped) server's data, so it starts empty."""
    shutil.rmtree(server.work / AOF_DIR, ignore_errors=True)
    (server.work / "dump.rdb").unlink(missing_ok=True)


def start(server: Server) -> tuple[subprocess.Popen[bytes], procs.ProcessRecord]:
    """Start a server from its config file; returns once it answers PING (data loaded)."""
    argv = [binary(), str(server.conf)] + (["--sentinel"] if server.sentinel else [])
    proc, rec = procs.spawn(server.process, argv, log=server.work / "out.log",
                            pidfile=server.work / "server.pid", cwd=server.work)
    client = server.client()
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            try:
                if client.ping():
                    return proc, rec
            except redis.RedisError:  # refused, or LOADING its data
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                text = server.log.read_text(errors="replace")[-2000:] if server.log.exists() else ""
                if proc.poll() is None:
                    procs.stop_all([rec])
                raise RuntimeError(f"{server.name} did not start on port {server.port}:\n{text}")
            time.sleep(0.02)
    finally:
        client.close()


def master_address(sentinels: list[Server], service: str) -> tuple[str, int] | None:
    """``(ip, port)`` of the master as the first sentinel that answers names it."""
    for sentinel in sentinels:
        client = sentinel.client()
        try:
            found = client.sentinel_get_master_addr_by_name(service)
        except redis.RedisError:
            continue
        finally:
            client.close()
        if found:
            return str(found[0]), int(found[1])
    return None


def wait_sentinels(sentinels: list[Server], service: str, replicas: int,
                   timeout: float = START_TIMEOUT) -> None:
    """Wait until every sentinel knows the other sentinels and the replicas (it can fail over)."""
    deadline = time.monotonic() + timeout
    for sentinel in sentinels:
        client = sentinel.client()
        try:
            while True:
                try:
                    info = client.sentinel_master(service)
                    if (int(info.get("num-other-sentinels", 0)) >= len(sentinels) - 1
                            and int(info.get("num-slaves", 0)) >= replicas):
                        break
                except redis.RedisError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{sentinel.name} did not discover the other sentinels "
                                       f"and the replica within {timeout:.0f} s")
                time.sleep(0.1)
        finally:
            client.close()
