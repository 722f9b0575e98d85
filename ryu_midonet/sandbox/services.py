"""The REST API of a sandbox, in the root namespace, and helpers for root-namespace services.

The store's servers are in :mod:`.store`.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

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
    """Until the API answers (401 too: it asks for a login, so it is up)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=2):
                return
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                return
            raise RuntimeError(f"the REST API at {url} answered {exc.code}") from None
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                raise RuntimeError(f"the REST API did not come up at {url}:\n{text}") from None
            time.sleep(0.05)
