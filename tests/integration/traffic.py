"""Long-lived TCP connections and a steady stream of new ones between sandbox VMs.

An echo server runs in every target VM. A probe in a client VM keeps some connections open to
each target, sending a few bytes every 0.2 s and waiting for their echo, and opens a new
connection to some target every 0.5 s. When stopped (SIGTERM) it prints what it saw as JSON:
each long-lived connection's echoes, its longest wait for one, and the error that broke it if
any; and each new connection's wall-clock time and outcome.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from ryu_midonet.bench.vmtools import Background
from ryu_midonet.sandbox import Vm

PORT = 7100

ECHO_SERVER = r"""
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", int(sys.argv[1])))
srv.listen(256)
def echo(conn):
    with conn:
        try:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                conn.sendall(data)
        except OSError:
            return
print("ready", flush=True)
while True:
    conn, _ = srv.accept()
    threading.Thread(target=echo, args=(conn,), daemon=True).start()
"""

PROBE = r"""
import json, signal, socket, sys, threading, time
port, per_target, targets = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(",")
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
conns, fresh = [], []

def keep(target, record):
    try:
        s = socket.create_connection((target, port), timeout=5)
    except OSError as exc:
        record["error"] = f"connect: {exc}"
        return
    record["opened"] = True
    s.settimeout(15)
    with s:
        while not stop.is_set():
            start = time.monotonic()
            try:
                s.sendall(b"ping-pong")
                got = b""
                while len(got) < 9:
                    chunk = s.recv(9 - len(got))
                    if not chunk:
                        raise OSError("closed by peer")
                    got += chunk
            except OSError as exc:
                record["error"] = f"{type(exc).__name__}: {exc}"
                record["broken_at"] = time.time()
                return
            record["echoes"] += 1
            record["longest_wait"] = max(record["longest_wait"], time.monotonic() - start)
            stop.wait(0.2)

threads = []
for target in targets:
    for _ in range(per_target):
        record = {"target": target, "echoes": 0, "longest_wait": 0.0, "error": None,
                  "opened": False}
        conns.append(record)
        t = threading.Thread(target=keep, args=(target, record), daemon=True)
        t.start()
        threads.append(t)
print("ready", flush=True)
n = 0
while not stop.wait(0.5):
    target = targets[n % len(targets)]
    n += 1
    started = time.time()
    try:
        with socket.create_connection((target, port), timeout=2) as s:
            s.settimeout(2)
            s.sendall(b"hello")
            ok = s.recv(5) == b"hello"
    except OSError:
        ok = False
    fresh.append({"target": target, "at": started, "ok": ok})
for t in threads:
    t.join(timeout=20)
print(json.dumps({"connections": conns, "new": fresh}), flush=True)
"""


@dataclass
class Report:
    """What one probe saw."""

    connections: list[dict[str, Any]]
    new: list[dict[str, Any]]

    def broken(self) -> list[dict[str, Any]]:
        return [c for c in self.connections if c["error"] or not c["opened"]]

    def new_ok_after(self, when: float) -> float | None:
        """Seconds from ``when`` until new connections succeed again (every later one too,
        per target); None when they never do."""
        later = [n for n in self.new if n["at"] >= when]
        if not later or not later[-1]["ok"]:
            return None
        first_of_run = len(later)
        while first_of_run > 0 and later[first_of_run - 1]["ok"]:
            first_of_run -= 1
        return later[first_of_run]["at"] - when if first_of_run < len(later) else None

    def summary(self) -> str:
        failed = [round(n["at"] % 1000, 1) for n in self.new if not n["ok"]]
        return (f"{len(self.connections)} connections, broken: {self.broken()}; "
                f"{len(self.new)} new connections, failed at (s mod 1000): {failed}")


class EchoServers:
    """An echo server in each of ``vms``."""

    def __init__(self, vms: list[Vm]) -> None:
        self.procs = []
        for vm in vms:
            proc = Background.script(vm, ECHO_SERVER, [str(PORT)])
            self.procs.append(proc)
            assert proc.wait_line(10) == "ready"

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()


class Probe:
    """Connections from ``vm`` to ``targets`` (addresses) until :meth:`stop`."""

    def __init__(self, vm: Vm, targets: list[str], per_target: int = 2) -> None:
        self.proc = Background.script(vm, PROBE, [str(PORT), str(per_target),
                                                  ",".join(targets)])
        assert self.proc.wait_line(15) == "ready"
        self.started = time.time()

    def stop(self) -> Report:
        self.proc.proc.terminate()
        out = self.proc.communicate(timeout=40)
        doc = json.loads(out.strip().splitlines()[-1])
        self.proc.stop()
        return Report(doc["connections"], doc["new"])
