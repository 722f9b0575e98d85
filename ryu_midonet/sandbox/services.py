"""The root-namespace services of a sandbox: its redis-server and the REST API.

redis-server listens on a TCP port of 127.0.0.1 (for the API and tools in the root namespace)
and on a unix socket in the run directory (for agents: a host namespace has its own loopback,
but sees the same filesystem).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import redis

from ryu_midonet.sandbox import procs

LOCALHOST = "127.0.0.1"
START_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def console_script(name: str) -> str:
    """A console script of this project, from the running interpreter's environment first."""
    path = Path(sys.executable).parent / name
    if path.exists():
        return str(path)
    return shutil.which(name) or name


def redis_binary() -> str:
    path = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(path).exists():
        raise RuntimeError("redis-server not found: install it (tools/install-deps.sh)")
    return path


def start_redis(run_dir: Path, port: int) -> tuple[subprocess.Popen[bytes], procs.ProcessRecord]:
    """redis-server on ``port`` and ``<run_dir>/redis.sock``; waits until it answers."""
    work = run_dir / "redis"
    work.mkdir(parents=True, exist_ok=True)
    sock = run_dir / "redis.sock"
    proc, rec = procs.spawn("redis-server", [
        redis_binary(), "--port", str(port), "--bind", LOCALHOST, "--unixsocket", str(sock),
        "--unixsocketperm", "700", "--dir", str(work), "--daemonize", "no", "--save", "",
        "--appendonly", "no", "--logfile", str(work / "redis.log")],
        log=work / "redis.out", pidfile=work / "redis.pid", cwd=work)
    client = redis.Redis(unix_socket_path=str(sock), socket_connect_timeout=1)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            try:
                if client.ping():
                    return proc, rec
            except (redis.ConnectionError, FileNotFoundError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (work / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server did not start on port {port}:\n{log}")
            time.sleep(0.02)
    finally:
        client.close()


def start_api(run_dir: Path, redis_url: str,
              port: int) -> tuple[subprocess.Popen[bytes], procs.ProcessRecord]:
    """``ryu-midonet-manager ... ryu_midonet.rest``; call :func:`wait_api` before using it."""
    work = run_dir / "api"
    work.mkdir(parents=True, exist_ok=True)
    return procs.spawn("rest-api", [
        console_script("ryu-midonet-manager"), "--redis-url", redis_url,
        "--wsapi-port", str(port), "ryu_midonet.rest"],
        log=work / "api.log", pidfile=work / "api.pid", cwd=work)


def wait_api(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                raise RuntimeError(f"the REST API did not come up at {url}:\n{text}") from None
            time.sleep(0.05)
